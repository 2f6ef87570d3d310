"""WebSocket `/v1/realtime`: handshake (dialect, subprotocol, auth), then a read loop that feeds
decoded client events to the session and a writer task that sends server events in order."""

import asyncio
import contextlib
import logging
import re

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from ovos_realtime.ids import new_id
from ovos_realtime.protocol.codec import EventCodec, ServerEventInvalid
from ovos_realtime.protocol.dialect import Dialect
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.server.auth import AuthRefused, authorize, bearer_token, subprotocol_token
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.server.realtime_sessions import open_session
from ovos_realtime.session.realtime_session import RealtimeSession

log = logging.getLogger(__name__)

BETA_SUBPROTOCOL = "openai-beta.realtime-v1"
# Finds the event_id of a frame we refuse to parse (too big): it is usually near the start.
_EVENT_ID = re.compile(rb'"event_id"\s*:\s*"([^"\\]{1,128})"')


def detect_dialect(websocket: WebSocket, subprotocols: list[str]) -> Dialect:
    beta_header = "realtime=v1" in websocket.headers.get("openai-beta", "")
    return Dialect.BETA if beta_header or BETA_SUBPROTOCOL in subprotocols else Dialect.GA


def _peek_event_id(data: str | bytes) -> str | None:
    head = (data.encode() if isinstance(data, str) else data)[:4096]
    match = _EVENT_ID.search(head)
    return match.group(1).decode(errors="replace") if match else None


async def realtime_endpoint(websocket: WebSocket) -> None:
    deps: ServerDeps = websocket.app.state.deps
    settings = deps.settings.server
    subprotocols = list(websocket.scope.get("subprotocols") or [])
    dialect = detect_dialect(websocket, subprotocols)
    await websocket.accept(subprotocol="realtime" if "realtime" in subprotocols else None)

    offered_key = bearer_token(websocket.headers) or subprotocol_token(subprotocols)
    try:
        secret = authorize(settings.api_key, deps.client_secrets, offered_key, ephemeral_ok=True)
    except AuthRefused as refused:
        await _refuse(websocket, dialect, refused.code, refused.message, 1008)
        return
    if len(deps.sessions) >= settings.max_sessions:
        await _refuse(websocket, dialect, "session_limit", "Too many sessions; retry later.", 1013)
        return

    session_id = new_id("sess")
    log.info(
        "[%s] connected (%s dialect%s)",
        session_id,
        dialect.value,
        ", client secret" if secret is not None else "",
    )
    connection = _Connection(websocket, EventCodec(dialect), session_id)
    try:
        session = await open_session(
            deps,
            model=websocket.query_params.get("model"),
            query=websocket.query_params,
            emit=connection.emit,
            secret=secret,
            session_id=session_id,
        )
    except ProtocolError as error:
        await _refuse(websocket, dialect, error.code, error.message, 1008)
        await connection.close()
        return
    deps.sessions.add(session_id)
    try:
        session.open()
        await connection.read_loop(session, settings.max_event_bytes)
    finally:
        deps.sessions.discard(session_id)
        await session.close()
        await connection.close()


async def _refuse(
    websocket: WebSocket, dialect: Dialect, code: str, message: str, close: int
) -> None:
    error = ProtocolError(message, code=code, type="invalid_request_error").to_event()
    with contextlib.suppress(Exception):
        text = EventCodec(dialect).encode(error)
        if text:
            await websocket.send_text(text)
    await websocket.close(code=close, reason=message[:120])


class _Connection:
    """The wire side of one session: encodes events into an ordered outbox and reads frames."""

    def __init__(self, websocket: WebSocket, codec: EventCodec, session_id: str) -> None:
        self.websocket = websocket
        self.codec = codec
        self.session_id = session_id
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.writer = asyncio.create_task(self._write_loop(), name=f"writer {session_id}")

    def emit(self, event: dict) -> None:
        try:
            text = self.codec.encode(event)
        except ServerEventInvalid:
            log.exception("[%s] refusing to send an invalid server event", self.session_id)
            text = self.codec.encode(
                ProtocolError(
                    "Internal error.", code="server_error", type="server_error"
                ).to_event()
            )
        if text is not None:
            self.outbox.put_nowait(text)

    async def _write_loop(self) -> None:
        while (text := await self.outbox.get()) is not None:
            try:
                await self.websocket.send_text(text)
            except Exception:  # the client is gone; the reader sees the disconnect
                return

    async def read_loop(self, session: RealtimeSession, max_event_bytes: int) -> None:
        while True:
            try:
                message = await self.websocket.receive()
            except WebSocketDisconnect:
                return
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            await self._handle_frame(session, data, max_event_bytes)

    async def _handle_frame(
        self, session: RealtimeSession, data: str | bytes, max_event_bytes: int
    ) -> None:
        event_id = None
        try:
            size = len(data.encode() if isinstance(data, str) else data)
            if size > max_event_bytes:
                event_id = _peek_event_id(data)
                raise ProtocolError(
                    f"The event is {size} bytes; the limit is {max_event_bytes} bytes.",
                    code="event_too_large",
                )
            event = self.codec.decode(data)
            event_id = event.get("event_id")
            await session.handle(event)
        except ProtocolError as error:
            if error.event_id is None:
                error.event_id = event_id
            log.info("[%s] client error %s: %s", self.session_id, error.code, error.message)
            self.emit(error.to_event())
        except Exception:
            log.exception("[%s] handler failed", self.session_id)
            self.emit(
                ProtocolError(
                    "The server failed to process the event.",
                    code="server_error",
                    type="server_error",
                    event_id=event_id,
                ).to_event()
            )

    async def close(self) -> None:
        self.outbox.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer, timeout=2)
        if self.websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.websocket.close()
