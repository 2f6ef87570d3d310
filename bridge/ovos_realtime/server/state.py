"""What every request handler of one server shares."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ovos_realtime.brain.base import LLMBackend
from ovos_realtime.config import Settings
from ovos_realtime.session.settings import SessionDefaults
from ovos_realtime.voice.runtime import VoiceRuntime

if TYPE_CHECKING:
    from ovos_realtime.persona import PersonaRegistry


@dataclass
class BridgeState:
    settings: Settings
    brain: LLMBackend
    voice: VoiceRuntime | None = None  # None: text only
    sessions: set[str] = field(default_factory=set)
    # Set by ovos_realtime.ovos.integration.install(): personas, the per-session hook (persona
    # brain, OVOS tools, observers), things to start/stop with the server, extra /health keys.
    personas: "PersonaRegistry | None" = None
    session_setup: Callable[[Any, Mapping[str, str]], None] | None = None
    lifecycle: list[Any] = field(default_factory=list)  # objects with async start() / stop()
    health_reports: dict[str, Callable[[], Any]] = field(default_factory=dict)

    async def startup(self) -> None:
        for part in self.lifecycle:
            await part.start()

    async def shutdown(self) -> None:
        for part in reversed(self.lifecycle):
            await part.stop()

    def setup_session(self, session: Any, params: Mapping[str, str]) -> None:
        if self.session_setup is not None:
            self.session_setup(session, params)

    def session_defaults(self, model: str | None) -> SessionDefaults:
        """The session's starting config: the persona's choices, else the settings."""
        s = self.settings
        persona = self.personas.pick(model) if self.personas is not None else None
        llm = persona.llm if persona is not None else {}
        return SessionDefaults(
            model=model or s.session.model,
            instructions=(persona and persona.instructions) or s.session.instructions,
            voice=(persona and persona.voice) or s.session.voice,
            speed=(persona and persona.speed) or 1.0,
            temperature=llm.get("temperature", s.llm.temperature),
            max_output_tokens=llm.get("max_output_tokens", s.llm.max_output_tokens),
        )
