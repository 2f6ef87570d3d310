"""What every request handler of the server needs: its plain dependencies, built at start-up."""

from dataclasses import dataclass, field

from ovos_realtime.config import Settings
from ovos_realtime.core.assistant import Assistant


@dataclass
class ServerDeps:
    settings: Settings
    assistant: Assistant
    sessions: set[str] = field(default_factory=set)  # ids of the open Realtime sessions
