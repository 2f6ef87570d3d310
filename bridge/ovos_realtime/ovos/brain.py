"""The `ovos` brain mode: OVOS skills answer first, the persona's LLM answers what none can.

Each user turn goes to the intent pipeline as `recognizer_loop:utterance` in the session's
context. Every `speak` for the session becomes one TextDelta (so speech can be synthesized per
speak), and the turn ends on `ovos.utterance.handled`. On `complete_intent_failure`, a timeout
with nothing said, or no bus, the LLM answers instead. When a skill expects an answer
(`speak(expect_response=True)`, e.g. `get_response`), the turn ends there and the session state
that ovos-core sent back routes the user's next turn to that skill (converse / get_response).
"""

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

from ovos_realtime.brain.base import Brain, BrainEvent, BrainRequest, Finished, TextDelta
from ovos_realtime.ovos.bus import BusBase
from ovos_realtime.ovos.session import OvosSession
from ovos_realtime.ovos.utterance import Spoken, run_utterance

log = logging.getLogger(__name__)

ASK_OVOS = "ask_ovos"  # the LLM of an ovos-mode session must not send turns back to OVOS


def last_user_text(request: BrainRequest) -> str | None:
    """The user's words when the request answers a user turn (not a tool result)."""
    if not request.messages:
        return None
    last = request.messages[-1]
    if last.get("role") != "user":
        return None
    content = last.get("content")
    return content.strip() if isinstance(content, str) and content.strip() else None


class OvosBrain:
    """A Brain for one session: the OVOS pipeline, with the persona's LLM as fallback."""

    name = "ovos"
    # Running a turn acts (a skill may start a timer): never start one speculatively.
    side_effects = True

    def __init__(self, bus: BusBase, session: OvosSession, fallback: Brain, timeout: float) -> None:
        self.bus = bus
        self.session = session
        self.fallback = fallback
        self.timeout = timeout

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "fallback": self.fallback.describe()}

    async def aclose(self) -> None:
        return None  # the fallback LLM is shared; its owner closes it

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        text = last_user_text(request)
        if text is None or not self.bus.connected:
            if text is not None:
                log.warning("[%s] OVOS bus not connected: the LLM answers", self.session.id)
            async for event in self._llm(request):
                yield event
            return
        said = 0
        reason = "timeout"
        async for event in run_utterance(self.bus, self.session, text, self.timeout):
            if isinstance(event, Spoken):
                yield TextDelta(event.text if said == 0 else " " + event.text)
                said += 1
            else:
                reason = event.reason
        log.info("[%s] OVOS turn ended: %s (%d spoken)", self.session.id, reason, said)
        if said == 0 and reason in ("no_skill", "timeout", "no_bus"):
            async for event in self._llm(request):
                yield event
            return
        yield Finished("stop")

    async def _llm(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        tools = [tool for tool in request.tools if tool.name != ASK_OVOS]
        if len(tools) != len(request.tools):
            choice = "auto" if request.forced_tool() == ASK_OVOS else request.tool_choice
            request = dataclasses.replace(request, tools=tools, tool_choice=choice)
        async with contextlib.aclosing(self.fallback.stream(request)) as events:
            async for event in events:
                yield event
