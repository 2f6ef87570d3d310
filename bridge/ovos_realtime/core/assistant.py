"""The assistant core: every door (Realtime WebSocket, REST, Wyoming, HiveMind, the OVOS bus)
answers through it.

`Assistant.open()` resolves the persona once and gathers what the extensions add (a brain that
answers instead of the persona's LLM, server tools, observers), giving an `AssistantSession`:
one conversation. `AssistantSession.answer()` answers one request as a cancellable stream of
text deltas, tool calls, server tools run in between and, when asked, audio clause by clause.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ovos_realtime.brain.base import Brain, BrainRequest, ReadsAhead, TextDelta
from ovos_realtime.brain.tool_rounds import RoundEvent, answer_with_server_tools
from ovos_realtime.brain.tools import ServerTool, ServerToolSource
from ovos_realtime.core.extensions import ConversationInfo, Extension, SessionParts
from ovos_realtime.core.observer import AssistantObserver
from ovos_realtime.core.personas import Persona, PersonaBrains, PersonaRegistry
from ovos_realtime.core.spoken import SpeechChunk, SpeechDone, spoken
from ovos_realtime.voice.runtime import VoiceRuntime

log = logging.getLogger(__name__)

AnswerEvent = RoundEvent | SpeechChunk | SpeechDone


@dataclass(frozen=True)
class Speak:
    """Speak the answer: the engine's voice (None: its default), speed, output sample rate."""

    voice: str | None = None
    speed: float = 1.0
    rate: int = 24000


class DoorControl(Protocol):
    """What a door lets the core's adapters do to its conversation (e.g. an OVOS `stop`)."""

    def has_active_answer(self) -> bool: ...

    async def cancel_active_answer(self) -> bool: ...


class AssistantSession:
    """One conversation with one persona. A door builds it before its own session and binds
    itself (`bind`) so that adapters can stop what it is saying."""

    def __init__(
        self,
        conversation_id: str,
        persona: Persona,
        brain: Brain,
        *,
        tools: ServerToolSource | None = None,
        observers: list[AssistantObserver] | None = None,
        voice: VoiceRuntime | None = None,
        instructions: str = "",
    ) -> None:
        self.id = conversation_id
        self.persona = persona
        self.brain = brain
        # The system prompt: the persona's, else the server's default.
        self.instructions = persona.instructions or instructions
        self.voice = voice
        self._tools = tools
        self.observers = list(observers or [])
        self._door: DoorControl | None = None
        self.notify("opened")

    @property
    def side_effects(self) -> bool:
        """Answering acts on the world: never answer a turn that is not final."""
        return self.brain.side_effects

    def bind(self, door: DoorControl) -> None:
        self._door = door

    def has_active_answer(self) -> bool:
        return self._door is not None and self._door.has_active_answer()

    async def cancel_active_answer(self) -> bool:
        return self._door is not None and await self._door.cancel_active_answer()

    async def server_tools(self) -> list[ServerTool]:
        """The server tools on offer right now (skills come and go)."""
        return await self._tools() if self._tools is not None else []

    def answer(
        self,
        request: BrainRequest,
        server_tools: dict[str, ServerTool] | None = None,
        *,
        speak: Speak | None = None,
        before_acting: Callable[[], Awaitable[object]] | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        """Answer `request`. Close the stream (or cancel its consumer) to stop the brain, the
        tools and the speech at once."""
        events = answer_with_server_tools(
            self.brain,
            request,
            server_tools or {},
            before_acting=before_acting,
            session_id=self.id,
        )
        if speak is None:
            return events
        if self.voice is None:
            raise RuntimeError("this server runs without speech engines")
        voice = self.voice.resolve_voice(speak.voice)
        return spoken(
            events,
            lambda on_audio: self.voice.speech_output(
                voice, speak.speed, speak.rate, on_audio, owner=self.id
            ),
        )

    async def reply(
        self, history: list[dict[str, Any]], *, speak: Speak | None = None
    ) -> AsyncIterator[AnswerEvent]:
        """Answer a chat history (system/user/assistant messages) with the persona's tools; the
        answer's text is appended to `history` when it is complete. For doors that keep no
        Realtime conversation of their own (Wyoming, HiveMind)."""
        offered = await self.server_tools()
        request = BrainRequest(
            messages=history,
            tools=[tool.spec for tool in offered],
            tool_choice="auto",
            conversation=self.id,
        )
        text: list[str] = []
        async with contextlib.aclosing(
            self.answer(request, {tool.spec.name: tool for tool in offered}, speak=speak)
        ) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    text.append(event.text)
                yield event
        history.append({"role": "assistant", "content": "".join(text)})

    @property
    def reads_ahead(self) -> bool:
        """The brain can read a prompt before it is asked to answer it (`prepare`)."""
        return isinstance(self.brain, ReadsAhead)

    def prepare(self, request: BrainRequest) -> None:
        """A request that will likely come soon (a turn still being spoken): a brain that can
        read ahead reads its prompt now; others ignore it."""
        if self.reads_ahead:
            self.brain.prepare(request)

    def notify(self, hook: str, *args: Any) -> None:
        for observer in self.observers:
            try:
                getattr(observer, hook)(self, *args)
            except Exception:  # an adapter's bug must not break the conversation
                log.exception("[%s] observer %s.%s failed", self.id, type(observer).__name__, hook)

    def close(self) -> None:
        if self.reads_ahead:
            self.brain.forget(self.id)
        self.notify("closed")


class Assistant:
    """Personas, their brains and the registered extensions: opens conversations for doors."""

    def __init__(
        self,
        personas: PersonaRegistry,
        brains: PersonaBrains,
        extensions: list[Extension] | None = None,
        voice: VoiceRuntime | None = None,
        instructions: str = "",
    ) -> None:
        self.personas = personas
        self.brains = brains
        self.extensions = list(extensions or [])
        self.voice = voice
        self.instructions = instructions  # for personas that bring none

    def open(
        self,
        conversation_id: str,
        model: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> AssistantSession:
        """A new conversation with the persona `model` names (else the default persona)."""
        persona = self.personas.resolve(model, conversation_id)
        brain = self.brains.for_persona(persona)
        info = ConversationInfo(conversation_id, persona, brain, dict(params or {}))
        parts = [extension.session_parts(info) for extension in self.extensions]
        log.info("[%s] persona %r (%s brain)", conversation_id, persona.name, persona.brain)
        return AssistantSession(
            conversation_id,
            persona,
            next((p.brain for p in reversed(parts) if p.brain is not None), brain),
            tools=_joined_tools([p for p in parts if p.tools is not None]),
            observers=[observer for p in parts for observer in p.observers],
            voice=self.voice,
            instructions=self.instructions,
        )

    async def start(self) -> None:
        for extension in self.extensions:
            await extension.start()

    async def stop(self) -> None:
        for extension in reversed(self.extensions):
            await extension.stop()
        await self.brains.aclose()
        if self.voice is not None:
            self.voice.shutdown()


def _joined_tools(parts: list[SessionParts]) -> ServerToolSource | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0].tools

    async def source() -> list[ServerTool]:
        found = await asyncio.gather(*(part.tools() for part in parts))  # type: ignore[misc]
        return [tool for tools in found for tool in tools]

    return source
