"""One utterance through the OVOS intent pipeline, in a session's context: what skills say
(`speak`) streams out as it comes; the turn ends when the utterance is handled, when no skill
can handle it, or when a skill expects an answer (its handler is waiting for the user: ovos-core
sends `ovos.utterance.handled` only after that answer)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from ovos_bus_client.message import Message

from ovos_realtime.ovos import topics
from ovos_realtime.ovos.bus import BusBase
from ovos_realtime.ovos.session import OvosSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spoken:
    text: str
    expect_response: bool = False
    skill_id: str | None = None


@dataclass(frozen=True)
class TurnEnd:
    reason: Literal["handled", "no_skill", "expect_response", "cancelled", "timeout", "no_bus"]


async def run_utterance(
    bus: BusBase, session: OvosSession, utterance: str, timeout: float
) -> AsyncIterator[Spoken | TurnEnd]:
    """Yields each Spoken in order, then one TurnEnd."""
    async with session.turn_lock:
        async for event in _run(bus, session, utterance, timeout):
            yield event


async def _run(
    bus: BusBase, session: OvosSession, utterance: str, timeout: float
) -> AsyncIterator[Spoken | TurnEnd]:
    queue: asyncio.Queue[Spoken | TurnEnd] = asyncio.Queue()

    def on_speak(message: Message) -> None:
        text = message.data.get("utterance")
        if session.owns(message) and isinstance(text, str) and text.strip():
            meta = message.data.get("meta")
            skill = meta.get("skill") if isinstance(meta, dict) else None
            queue.put_nowait(Spoken(text.strip(), bool(message.data.get("expect_response")), skill))

    def ender(reason: str):
        def on_end(message: Message) -> None:
            if session.owns(message):
                queue.put_nowait(TurnEnd(reason))  # type: ignore[arg-type]

        return on_end

    unsubscribe = [
        bus.on(topics.SPEAK, on_speak),
        bus.on(topics.UTTERANCE_HANDLED, ender("handled")),
        bus.on(topics.INTENT_FAILURE, ender("no_skill")),
        bus.on(topics.UTTERANCE_CANCELLED, ender("cancelled")),
    ]
    try:
        message = session.message(
            topics.UTTERANCE, {"utterances": [utterance], "lang": session.lang}
        )
        if not bus.emit(message):
            yield TurnEnd("no_bus")
            return
        log.info("[%s] utterance to OVOS: %r", session.id, utterance)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                event = await asyncio.wait_for(queue.get(), max(left, 0.001))
            except TimeoutError:
                log.warning("[%s] OVOS did not finish the utterance in %.0f s", session.id, timeout)
                yield TurnEnd("timeout")
                return
            yield event
            if isinstance(event, TurnEnd):
                return
            if event.expect_response:
                yield TurnEnd("expect_response")
                return
    finally:
        for remove in unsubscribe:
            remove()


async def ask(
    bus: BusBase, session: OvosSession, utterance: str, timeout: float
) -> tuple[str, str]:
    """The whole answer of the skills to `utterance`, and why the turn ended."""
    spoken: list[str] = []
    reason = "timeout"
    async for event in run_utterance(bus, session, utterance, timeout):
        if isinstance(event, Spoken):
            spoken.append(event.text)
        else:
            reason = event.reason
    return " ".join(spoken), reason
