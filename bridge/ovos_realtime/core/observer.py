"""Hooks for adapters (e.g. the OVOS bus) to follow a conversation, whatever door it came in by."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ovos_realtime.core.assistant import AssistantSession


class AssistantObserver:
    """Override what you need. Hooks run on the event loop and must not block; an observer's
    exception is logged and never breaks the conversation."""

    def opened(self, conversation: "AssistantSession") -> None: ...

    def answer_started(self, conversation: "AssistantSession", answer_id: str) -> None: ...

    def answer_finished(self, conversation: "AssistantSession", answer_id: str) -> None: ...

    def audio_started(self, conversation: "AssistantSession", answer_id: str) -> None: ...

    def audio_finished(self, conversation: "AssistantSession", answer_id: str) -> None: ...

    def closed(self, conversation: "AssistantSession") -> None: ...
