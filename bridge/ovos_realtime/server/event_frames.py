"""One client frame → one client event handled by the session, or an `error` event: the same on
every Realtime door (WebSocket text frames, WebRTC data-channel messages)."""

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from ovos_realtime.protocol.codec import EventCodec
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.session.realtime_session import Emit, RealtimeSession

LOG = logging.getLogger(__name__)

# Finds the event_id of a frame we refuse to parse (too big): it is usually near the start.
_EVENT_ID = re.compile(rb'"event_id"\s*:\s*"([^"\\]{1,128})"')

# A door's own client events (e.g. WebRTC's output_audio_buffer.clear): True when handled.
Intercept = Callable[[dict[str, Any]], Awaitable[bool]]


def peek_event_id(data: str | bytes) -> str | None:
    head = (data.encode() if isinstance(data, str) else data)[:4096]
    match = _EVENT_ID.search(head)
    return match.group(1).decode(errors="replace") if match else None


async def handle_frame(
    session: RealtimeSession,
    codec: EventCodec,
    data: str | bytes,
    *,
    max_event_bytes: int,
    emit: Emit,
    label: str,
    intercept: Intercept | None = None,
) -> None:
    event_id = None
    try:
        size = len(data.encode() if isinstance(data, str) else data)
        if size > max_event_bytes:
            event_id = peek_event_id(data)
            raise ProtocolError(
                f"The event is {size} bytes; the limit is {max_event_bytes} bytes.",
                code="event_too_large",
            )
        event = codec.decode(data)
        event_id = event.get("event_id")
        if intercept is None or not await intercept(event):
            await session.handle(event)
    except ProtocolError as error:
        if error.event_id is None:
            error.event_id = event_id
        LOG.info("[%s] client error %s: %s", label, error.code, error.message)
        emit(error.to_event())
    except Exception:
        LOG.exception("[%s] handler failed", label)
        emit(
            ProtocolError(
                "The server failed to process the event.",
                code="server_error",
                type="server_error",
                event_id=event_id,
            ).to_event()
        )
