"""The plugins' settings, read from the `agent_protocol` block of hivemind-core's server.json."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

LOG = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A plugin setting that cannot work; the message names the key."""


@dataclass(frozen=True)
class AgentSettings:
    url: str = "ws://127.0.0.1:8000/v1"  # the server's Realtime base URL (…/v1)
    api_key: str | None = None  # the server's `server.api_key`, if it has one
    persona: str = "ovos-realtime"  # the model name every satellite's session asks for
    client_personas: dict[str, str] = field(default_factory=dict)  # client name → persona
    voice: str = "default"  # the voice of `speak:synth` audio
    connect_timeout_s: float = 10.0
    max_utterance_chars: int = 4000  # longer utterances are refused with a log line

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> AgentSettings:
        config = dict(config or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(config) - known)
        if unknown:
            LOG.warning("hivemind-realtime: ignoring unknown settings %s", unknown)
        values = {k: v for k, v in config.items() if k in known}
        settings = cls(**values)
        scheme = urlsplit(settings.url).scheme
        if scheme not in ("ws", "wss"):
            raise ConfigError(f"url: expected ws:// or wss://…/v1, got {settings.url!r}")
        if not isinstance(settings.client_personas, dict):
            raise ConfigError("client_personas: expected an object of client name → persona")
        return settings

    @property
    def http_url(self) -> str:
        """The same server's REST base (http(s)://host:port/v1)."""
        parts = urlsplit(self.url)
        scheme = "https" if parts.scheme == "wss" else "http"
        return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    def persona_for(self, client_name: str | None) -> str:
        return self.client_personas.get(client_name or "", self.persona)
