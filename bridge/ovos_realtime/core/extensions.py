"""The extension port: how adapters (the OVOS bus today; HiveMind, Wyoming next) plug into the
assistant. Each is registered once at start-up (`ovos_realtime.wiring`) and, for every new
conversation, hands over its parts before the conversation is built."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ovos_realtime.brain.base import Brain
from ovos_realtime.brain.tools import ServerToolSource
from ovos_realtime.core.observer import AssistantObserver
from ovos_realtime.core.personas import Persona


@dataclass(frozen=True)
class ConversationInfo:
    """What an extension knows of a conversation being opened."""

    conversation_id: str
    persona: Persona
    brain: Brain  # the persona's own LLM
    params: Mapping[str, str] = field(default_factory=dict)  # door hints, e.g. lang, site_id


@dataclass
class SessionParts:
    """An extension's contribution to one conversation."""

    brain: Brain | None = None  # answers instead of the persona's LLM
    tools: ServerToolSource | None = None
    observers: list[AssistantObserver] = field(default_factory=list)


@runtime_checkable
class Extension(Protocol):
    name: str  # also its key in /health

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...

    def session_parts(self, info: ConversationInfo) -> SessionParts: ...
