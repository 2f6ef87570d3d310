"""Client event routing: handlers registered by event type, one module per event family."""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ovos_realtime.session.realtime_session import RealtimeSession

Handler = Callable[["RealtimeSession", dict[str, Any]], Awaitable[None]]


class EventRouter:
    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def on(self, event_type: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.handlers[event_type] = handler
            return handler

        return register

    def include(self, other: "EventRouter") -> None:
        self.handlers.update(other.handlers)
