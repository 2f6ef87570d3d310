"""What every request handler of the server needs: its plain dependencies, built at start-up."""

from dataclasses import dataclass, field
from typing import Any

from ovos_realtime.config import Settings
from ovos_realtime.core.assistant import Assistant
from ovos_realtime.server.client_secrets import ClientSecrets


@dataclass
class ServerDeps:
    settings: Settings
    assistant: Assistant
    sessions: set[str] = field(default_factory=set)  # ids of the open Realtime sessions
    client_secrets: ClientSecrets = field(default_factory=ClientSecrets)
    # The open WebRTC calls by call id (server.webrtc.call.Call; typed loosely so that this
    # module does not import aiortc).
    calls: dict[str, Any] = field(default_factory=dict)
