"""One WebRTC call: a peer connection (aiortc) around a RealtimeSession.

The caller's microphone track feeds `input_audio_buffer.append`; the session's output audio goes
to the speaker track instead of `response.output_audio.delta` events; every other server event
goes, in order, over the `oai-events` data channel (and to sideband WebSockets), whose messages
are client events. The call ends on hangup, when the peer goes away (ICE/DTLS failure or close),
when it never connects, or when the server stops; then nothing of it is left running."""

import asyncio
import base64
import contextlib
import logging
from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdatachannel import RTCDataChannel
from aiortc.rtcsctptransport import LOCAL_MAX_MESSAGE_SIZE

from ovos_realtime.protocol.codec import EventCodec, ServerEventInvalid
from ovos_realtime.protocol.dialect import Dialect
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.server.client_secrets import ClientSecret
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.server.event_frames import handle_frame, peek_event_id
from ovos_realtime.server.realtime_sessions import open_session
from ovos_realtime.server.webrtc.ice import keep_reachable_candidates, rtc_configuration
from ovos_realtime.server.webrtc.sdp import Offer, with_max_message_size
from ovos_realtime.server.webrtc.tracks import SpeakerTrack, listen
from ovos_realtime.session.realtime_session import RealtimeSession

LOG = logging.getLogger(__name__)

CHANNEL_LABEL = "oai-events"
PCM24 = {"type": "audio/pcm", "rate": 24000}
MAX_PENDING_EVENTS = 5000  # server events held while the data channel is not open
MAX_PENDING_MESSAGES = 1000  # client messages waiting for the session


class Sideband(Protocol):
    """A WebSocket attached with `?call_id=` (realtime_ws's connection)."""

    def emit(self, event: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


class Call:
    def __init__(self, deps: ServerDeps, call_id: str, dialect: Dialect) -> None:
        self.id = call_id
        self.deps = deps
        self.codec = EventCodec(dialect)
        self.pc = RTCPeerConnection(rtc_configuration(deps.settings.webrtc))
        self.speaker = SpeakerTrack(self._audio_started, self._audio_stopped, call_id)
        self.session: RealtimeSession | None = None
        self.secret: ClientSecret | None = None  # the one that opened it: it may hang up too
        self.channel: RTCDataChannel | None = None
        self.answer_sdp = ""
        self.sidebands: list[Sideband] = []
        self._outbox: deque[str] = deque()
        self._inbox: asyncio.Queue[str | bytes] = asyncio.Queue()
        self._inbox_bytes = 0  # bytes waiting in the inbox: bounded, as the messages are
        # The largest oai-events message taken: max_event_bytes, but no more than aiortc states
        # in its answer (its 1 MiB receive window stalls bigger messages from polite peers).
        self.max_message_bytes = min(deps.settings.server.max_event_bytes, LOCAL_MAX_MESSAGE_SIZE)
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._closed = False

    # ---- start ----

    async def start(
        self,
        offer: Offer,
        *,
        secret: ClientSecret | None,
        model: str | None,
        query: Mapping[str, str],
    ) -> None:
        """Open the session and answer the offer. ProtocolError for what the caller got wrong;
        the caller closes the call on any failure."""
        self.secret = secret
        self.session = await open_session(
            self.deps, model=model, query=query, emit=self.emit, secret=secret
        )
        if offer.session:
            self.session.configure(offer.session)
        self._pin_formats()
        self.deps.calls[self.id] = self
        self.deps.sessions.add(self.session.id)
        self.pc.on("connectionstatechange", self._on_state)
        self.pc.on("datachannel", self._on_channel)
        self.pc.on("track", self._on_track)
        try:
            sdp = keep_reachable_candidates(offer.sdp, self.deps.settings.webrtc.host_addresses)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        except Exception as exc:  # aiortc raises assorted errors for SDP it cannot use
            raise ProtocolError(
                f"The SDP offer cannot be used: {exc}", code="invalid_sdp", param="sdp"
            ) from None
        if not any(t.kind == "audio" for t in self.pc.getTransceivers()):
            raise ProtocolError("The SDP offer has no audio track.", code="sdp_no_audio")
        self.pc.addTrack(self.speaker)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self.answer_sdp = with_max_message_size(
            self.pc.localDescription.sdp, self.max_message_bytes
        )
        self._spawn(self._write_loop(), "writer")
        self._spawn(self._read_loop(), "reader")
        self._spawn(self._watch_connect(), "connect watchdog")
        self.session.open()
        LOG.info("[%s] call answered (session %s)", self.id, self.session.id)

    def _pin_formats(self) -> None:
        # RTP carries Opus; the session sees 24 kHz PCM whatever format a client asked for.
        assert self.session is not None
        audio = self.session.config["audio"]
        audio["input"]["format"] = dict(PCM24)
        audio["output"]["format"] = dict(PCM24)

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=f"{name} {self.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- peer connection events ----

    def _on_state(self) -> None:
        state = self.pc.connectionState
        LOG.info("[%s] connection %s", self.id, state)
        if state in ("failed", "closed"):
            self._spawn(self.close(f"connection {state}"), "close")

    def _on_channel(self, channel: RTCDataChannel) -> None:
        if channel.label != CHANNEL_LABEL or self.channel is not None:
            LOG.info("[%s] ignoring data channel %r", self.id, channel.label)
            return
        self.channel = channel
        channel.on("open", self._wake.set)
        channel.on("message", self._on_message)
        self._wake.set()

    def _on_message(self, message: str | bytes) -> None:
        # Refused on arrival, not queued: SCTP lets a peer send messages of any size, and a
        # peer that ignores the max-message-size in our answer must not fill memory.
        max_bytes = self.max_message_bytes
        size = len(message.encode() if isinstance(message, str) else message)
        error = None
        if size > max_bytes:
            error = ProtocolError(
                f"The event is {size} bytes; the limit is {max_bytes} bytes.",
                code="event_too_large",
                event_id=peek_event_id(message),
            )
        elif (
            self._inbox.qsize() >= MAX_PENDING_MESSAGES or self._inbox_bytes + size > 2 * max_bytes
        ):
            error = ProtocolError(
                "Too many events at once; this one was dropped.",
                code="rate_limited",
                event_id=peek_event_id(message),
            )
        if error is not None:
            LOG.info("[%s] data-channel message refused: %s", self.id, error.message)
            self.emit(error.to_event())
            return
        self._inbox_bytes += size
        self._inbox.put_nowait(message)

    def _on_track(self, track: Any) -> None:
        if track.kind != "audio":
            return
        LOG.info("[%s] microphone track received", self.id)
        self._spawn(listen(track, self._on_pcm, self.id), "microphone")

    async def _on_pcm(self, pcm: bytes) -> None:
        if self.session is None or self._closed:
            return
        event = {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}
        try:
            await self.session.handle(event)
        except ProtocolError as error:
            self.emit(error.to_event())

    # ---- server events ----

    def emit(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "response.output_audio.delta":  # heard over RTP, not read as events
            self.speaker.play(
                base64.b64decode(event["delta"]), event["response_id"], event["item_id"]
            )
            return
        self._send(event)
        if kind == "response.done":
            response = event["response"]
            if response["status"] == "cancelled" and self.speaker.playing == response["id"]:
                self.clear_output()
            else:
                self.speaker.finish(response["id"])
        elif kind == "input_audio_buffer.speech_started" and self._interrupts():
            self.clear_output()  # barge-in: the caller stops hearing the answer at once

    def _interrupts(self) -> bool:
        assert self.session is not None
        turn = self.session.config["audio"]["input"].get("turn_detection") or {}
        return bool(turn.get("interrupt_response", True)) and self.speaker.playing is not None

    def clear_output(self) -> None:
        response_id, item_id, heard_ms = self.speaker.clear()
        if response_id is None:
            return
        self._send({"type": "output_audio_buffer.cleared", "response_id": response_id})
        if item_id is not None and self.session is not None:
            # What the caller heard is what stays in the conversation, as after a truncate.
            with contextlib.suppress(ProtocolError):
                self.session.conversation.truncate(item_id, 0, heard_ms)
                self._send(
                    {
                        "type": "conversation.item.truncated",
                        "item_id": item_id,
                        "content_index": 0,
                        "audio_end_ms": heard_ms,
                    }
                )

    def _audio_started(self, response_id: str) -> None:
        self._send({"type": "output_audio_buffer.started", "response_id": response_id})

    def _audio_stopped(self, response_id: str) -> None:
        self._send({"type": "output_audio_buffer.stopped", "response_id": response_id})

    def _send(self, event: dict[str, Any]) -> None:
        for sideband in list(self.sidebands):
            sideband.emit(event)
        try:
            text = self.codec.encode(event)
        except ServerEventInvalid:
            LOG.exception("[%s] refusing to send an invalid server event", self.id)
            return
        if text is None:
            return
        if len(self._outbox) >= MAX_PENDING_EVENTS:
            self._outbox.popleft()
            LOG.warning("[%s] data channel not open: oldest pending event dropped", self.id)
        self._outbox.append(text)
        self._wake.set()

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            channel = self.channel
            while self._outbox and channel is not None and channel.readyState == "open":
                channel.send(self._outbox.popleft())

    # ---- client events ----

    async def _read_loop(self) -> None:
        assert self.session is not None
        while True:
            message = await self._inbox.get()
            self._inbox_bytes -= len(message.encode() if isinstance(message, str) else message)
            await handle_frame(
                self.session,
                self.codec,
                message,
                max_event_bytes=self.max_message_bytes,
                emit=self.emit,
                label=self.id,
                intercept=self._intercept,
            )
            self._pin_formats()

    async def _intercept(self, event: dict[str, Any]) -> bool:
        if event["type"] == "output_audio_buffer.clear":
            self.clear_output()
            return True
        return False

    # ---- sidebands ----

    def attach(self, sideband: Sideband) -> None:
        self.sidebands.append(sideband)
        LOG.info("[%s] sideband attached (%d)", self.id, len(self.sidebands))

    def detach(self, sideband: Sideband) -> None:
        with contextlib.suppress(ValueError):
            self.sidebands.remove(sideband)

    # ---- end ----

    async def _watch_connect(self) -> None:
        await asyncio.sleep(self.deps.settings.webrtc.connect_timeout_s)
        if self.pc.connectionState != "connected":
            await self.close(f"not connected after {self.deps.settings.webrtc.connect_timeout_s} s")

    async def close(self, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        LOG.info("[%s] call ends: %s", self.id, reason)
        self.deps.calls.pop(self.id, None)
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        if self.session is not None:
            self.deps.sessions.discard(self.session.id)
            await self.session.close()
        self.speaker.stop()
        for sideband in list(self.sidebands):
            await sideband.close()
        with contextlib.suppress(Exception):
            await self.pc.close()
        waiting = [t for t in self._tasks if t is not current]
        if waiting:
            await asyncio.wait(waiting, timeout=2)
