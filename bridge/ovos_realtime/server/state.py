"""What every request handler of one server shares."""

from dataclasses import dataclass, field

from ovos_realtime.brain.base import LLMBackend
from ovos_realtime.config import Settings
from ovos_realtime.session.settings import Capabilities, SessionDefaults


@dataclass
class BridgeState:
    settings: Settings
    brain: LLMBackend
    capabilities: Capabilities = field(default_factory=Capabilities)
    sessions: set[str] = field(default_factory=set)

    def session_defaults(self, model: str | None) -> SessionDefaults:
        s = self.settings
        return SessionDefaults(
            model=model or s.session.model,
            instructions=s.session.instructions,
            voice=s.session.voice,
            temperature=s.llm.temperature,
            max_output_tokens=s.llm.max_output_tokens,
        )
