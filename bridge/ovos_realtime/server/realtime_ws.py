"""WebSocket `/v1/realtime`: handshake (dialect, subprotocol, auth), then a read loop that feeds
decoded client events to the session and a writer task that sends server events in order."""

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from ovos_realtime.ids import new_id
from ovos_realtime.protocol.codec import EventCodec, ServerEventInvalid
from ovos_realtime.protocol.dialect import Dialect
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.server.auth import AuthRefused, authorize, bearer_token, subprotocol_token
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.server.event_frames import handle_frame
from ovos_realtime.server.realtime_sessions import open_session
from ovos_realtime.session.realtime_session import RealtimeSession

log = logging.getLogger(__name__)

BETA_SUBPROTOCOL = "openai-beta.realtime-v1"


def detect_dialect(websocket: WebSocket, subprotocols: list[str]) -> Dialect:
    beta_header = "realtime=v1" in websocket.headers.get("openai-beta", "")
    return Dialect.BETA if beta_header or BETA_SUBPROTOCOL in subprotocols else Dialect.GA


async def realtime_endpoint(websocket: WebSocket) -> None:
    deps: ServerDeps = websocket.app.state.deps
    settings = deps.settings.server
    subprotocols = list(websocket.scope.get("subprotocols") or [])
    dialect = detect_dialect(websocket, subprotocols)
    await websocket.accept(subprotocol="realtime" if "realtime" in subprotocols else None)

    offered_key = bearer_token(websocket.headers) or subprotocol_token(subprotocols)
    call_id = websocket.query_params.get("call_id")
    try:
        # A sideband (a backend joining a call) needs the key itself, not a client secret.
        secret = authorize(
            settings.api_key, deps.client_secrets, offered_key, ephemeral_ok=call_id is None
        )
    except AuthRefused as refused:
        await _refuse(websocket, dialect, refused.code, refused.message, 1008)
        return
    if call_id is not None:
        await _sideband(websocket, deps, dialect, call_id)
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


async def _sideband(websocket: WebSocket, deps: ServerDeps, dialect: Dialect, call_id: str) -> None:
    """`?call_id=`: this socket joins a WebRTC call's session, seeing its events and sending
    client events to it (e.g. a backend adding tools), until either side ends."""
    call = deps.calls.get(call_id)
    if call is None or call.session is None:
        await _refuse(websocket, dialect, "call_not_found", f"No call '{call_id[:64]}'.", 1008)
        return
    connection = _Connection(websocket, EventCodec(dialect), f"{call_id} sideband")
    call.attach(connection)
    try:
        await connection.read_loop(call.session, deps.settings.server.max_event_bytes)
    finally:
        call.detach(connection)
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
        await handle_frame(
            session,
            self.codec,
            data,
            max_event_bytes=max_event_bytes,
            emit=self.emit,
            label=self.session_id,
        )

    async def close(self) -> None:
        self.outbox.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer, timeout=2)
        if self.websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.websocket.close()
