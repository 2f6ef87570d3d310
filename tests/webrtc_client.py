"""A Python WebRTC client (aiortc) for the server's call door, as a browser page would use it:
microphone track playing a clip in real time, the `oai-events` data channel (every server event
validated against the openai SDK's types), and the server's voice recorded as 24 kHz PCM16.

Loopback only: host candidates are fixed to 127.0.0.1 and no STUN server is asked."""

import asyncio
import fractions
import json
import time
from collections.abc import Callable
from typing import Any

import av
import httpx
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from ovos_realtime.server.webrtc.ice import fix_host_addresses

from tests.realtime_helpers import BETA_EVENTS, GA_EVENTS

RATE = 24000
FRAME = RATE // 50  # 20 ms
LOUD = 300  # a received sample above this is speech, not Opus' rendering of silence


class ClipTrack(MediaStreamTrack):
    """A microphone that says `samples` (24 kHz int16) once, in real time, then stays silent.
    `ended_at` is the monotonic time the clip's last sample went out."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pending = np.zeros(0, np.int16)
        self._start: float | None = None
        self._sent = 0
        self.ended_at: float | None = None

    def say(self, samples: np.ndarray) -> None:
        self._pending = np.concatenate([self._pending, samples.astype(np.int16)])
        self.ended_at = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + self._sent / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        chunk, self._pending = self._pending[:FRAME], self._pending[FRAME:]
        if chunk.size and not self._pending.size:
            self.ended_at = time.monotonic()
        chunk = np.pad(chunk, (0, FRAME - chunk.size))
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, RATE)
        self._sent += FRAME
        return frame


class WebRTCClient:
    def __init__(self, beta: bool = False) -> None:
        fix_host_addresses(["127.0.0.1"])
        self.adapter = BETA_EVENTS if beta else GA_EVENTS
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mic = ClipTrack()
        self.pc.addTrack(self.mic)
        self.channel = self.pc.createDataChannel("oai-events")
        self.events: list[dict[str, Any]] = []
        self.received_at: list[float] = []
        self.heard = bytearray()
        self.heard_by_track: dict[str, int] = {}  # track id → samples recorded since listen_from
        self._recorded: set[str] = set()  # ids of the tracks being recorded
        self.first_loud_at: float | None = None  # since the last `listen_from()`
        self.listening_since = time.monotonic()  # the last `listen_from()`
        self.call_id: str | None = None
        self._arrived = asyncio.Event()
        self._open = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.channel.on("open", self._open.set)
        self.channel.on("message", self._on_message)
        self.pc.on("track", self._on_track)

    def _on_message(self, message: str) -> None:
        event = json.loads(message)
        self.adapter.validate_python(event)  # raises on anything off-spec
        self.events.append(event)
        self.received_at.append(time.monotonic())
        self._arrived.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        # One recorder per track: a track announced again (renegotiation) is not heard twice,
        # and two readers of one track would split its frames between them.
        if track.id in self._recorded:
            return
        self._recorded.add(track.id)
        self._tasks.append(asyncio.create_task(self._record(track)))

    async def _record(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                pcm = bytes(out.planes[0])[: out.samples * 2]
                self.heard += pcm
                self.heard_by_track[track.id] = self.heard_by_track.get(track.id, 0) + out.samples
                if self.first_loud_at is None and np.abs(np.frombuffer(pcm, "<i2")).max() > LOUD:
                    self.first_loud_at = time.monotonic()

    def listen_from(self) -> None:
        self.heard.clear()
        self.heard_by_track.clear()
        self.first_loud_at = None
        self.listening_since = time.monotonic()

    def loud_span(self) -> tuple[float, float] | None:
        """Seconds into `heard` of its first and last loud sample (None: nothing loud)."""
        pcm = np.frombuffer(bytes(self.heard), "<i2").astype(np.int32)
        loud = np.flatnonzero(np.abs(pcm) > LOUD)
        return (
            (round(float(loud[0]) / RATE, 3), round(float(loud[-1]) / RATE, 3))
            if loud.size
            else None
        )

    def arrived_at(self, event: dict[str, Any]) -> float:
        """When `event` (one of `events`) arrived, monotonic."""
        return next(t for e, t in zip(self.events, self.received_at, strict=True) if e is event)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def call(
        self, http_url: str, path: str = "/v1/realtime/calls", headers: dict | None = None
    ) -> httpx.Response:
        """POST the offer as application/sdp; on 201, apply the answer and wait for events."""
        sdp = await self.offer()
        async with httpx.AsyncClient(base_url=http_url, timeout=30) as http:
            response = await http.post(
                path, content=sdp, headers={"Content-Type": "application/sdp", **(headers or {})}
            )
        if response.status_code == 201:
            await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
            self.call_id = response.headers["location"].rsplit("/", 1)[-1]
            await asyncio.wait_for(self._open.wait(), 20)
        return response

    def send(self, event: dict[str, Any] | str) -> None:
        self.channel.send(event if isinstance(event, str) else json.dumps(event))

    async def until(
        self,
        event_type: str,
        timeout: float = 60,
        start: int = 0,
        where: Callable[[dict], bool] = lambda _event: True,
    ) -> dict:
        """The first event of `event_type` (and `where`) at index `start` or later."""
        deadline = asyncio.get_running_loop().time() + timeout
        index = start
        while True:
            while index < len(self.events):
                if self.events[index]["type"] == event_type and where(self.events[index]):
                    return self.events[index]
                index += 1
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no {event_type} in {[e['type'] for e in self.events]}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass

    def types(self) -> list[str]:
        return [event["type"] for event in self.events]

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
