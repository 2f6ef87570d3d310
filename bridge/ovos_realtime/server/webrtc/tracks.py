"""The call's audio: the microphone track in (Opus → 24 kHz PCM16 for the session) and the
speaker track out (the session's 24 kHz PCM16 → Opus, paced in real time by this track).

The speaker holds the output audio buffer that OpenAI keeps server side for WebRTC: it tells
when a response's audio starts and stops playing, and can be cleared at once (barge-in)."""

import asyncio
import fractions
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

LOG = logging.getLogger(__name__)

RATE = 24000  # the session's PCM rate, both ways
FRAME_SAMPLES = RATE // 50  # 20 ms, one Opus frame
FRAME_BYTES = FRAME_SAMPLES * 2
_TIME_BASE = fractions.Fraction(1, RATE)


@dataclass
class _Segment:
    response_id: str
    item_id: str
    pcm: bytearray


class SpeakerTrack(MediaStreamTrack):
    """The server's voice: queued response audio, silence in between.

    `on_started(response_id)` fires when a response's first audio goes out, `on_stopped` when
    its last has (after `finish(response_id)` said there is no more)."""

    kind = "audio"

    def __init__(
        self,
        on_started: Callable[[str], None],
        on_stopped: Callable[[str], None],
        label: str = "-",
    ) -> None:
        super().__init__()
        self._on_started = on_started
        self._on_stopped = on_stopped
        self._label = label
        self._queue: deque[_Segment] = deque()
        self._finished: set[str] = set()
        self._playing: str | None = None  # the response being heard
        self._played: dict[str, int] = {}  # item id → samples played
        self._queued: dict[str, int] = {}  # response id → samples queued (for the log)
        self._start = 0.0
        self._timestamp = -1

    # ---- what the session says ----

    def play(self, pcm: bytes, response_id: str, item_id: str) -> None:
        self._queued[response_id] = self._queued.get(response_id, 0) + len(pcm) // 2
        if self._queue and self._queue[-1].item_id == item_id:
            self._queue[-1].pcm += pcm
        else:
            self._queue.append(_Segment(response_id, item_id, bytearray(pcm)))

    def finish(self, response_id: str) -> None:
        """The response has no more audio: `stopped` follows once the rest is played."""
        self._finished.add(response_id)
        if self._playing is None and not any(s.response_id == response_id for s in self._queue):
            self._finished.discard(response_id)

    def clear(self) -> tuple[str | None, str | None, int]:
        """Drop all queued audio now: (response id, item id, ms of that item heard) of what
        was playing, for `output_audio_buffer.cleared` and truncation."""
        playing = self._playing
        item_id = self._queue[0].item_id if self._queue else None
        heard_ms = self._played.get(item_id, 0) * 1000 // RATE if item_id else 0
        self._queue.clear()
        self._finished.clear()
        self._playing = None
        if playing is not None:
            self._log_played(playing, "cleared")
        self._queued.clear()  # nothing is queued any more
        return playing, item_id, heard_ms

    @property
    def playing(self) -> str | None:
        return self._playing

    # ---- what aiortc asks ----

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._timestamp < 0:
            self._start, self._timestamp = time.monotonic(), 0
        else:
            self._timestamp += FRAME_SAMPLES
            wait = self._start + self._timestamp / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(self._next_chunk())
        frame.pts = self._timestamp
        frame.sample_rate = RATE
        frame.time_base = _TIME_BASE
        return frame

    def _next_chunk(self) -> bytes:
        chunk = bytearray()
        while len(chunk) < FRAME_BYTES and self._queue:
            segment = self._queue[0]
            if self._playing != segment.response_id:
                if self._playing is not None:
                    self._stopped(self._playing)
                self._playing = segment.response_id
                self._on_started(segment.response_id)
            take = segment.pcm[: FRAME_BYTES - len(chunk)]
            del segment.pcm[: len(take)]
            chunk += take
            self._played[segment.item_id] = self._played.get(segment.item_id, 0) + len(take) // 2
            if segment.pcm:
                continue
            if len(self._queue) > 1 or segment.response_id in self._finished:
                self._queue.popleft()
            else:
                break  # more of this item is coming: silence until it does
        if not self._queue and self._playing in self._finished:
            self._stopped(self._playing)
        return bytes(chunk.ljust(FRAME_BYTES, b"\0"))

    def _stopped(self, response_id: str) -> None:
        self._finished.discard(response_id)
        self._playing = None
        self._log_played(response_id, "played")
        self._on_stopped(response_id)

    def _log_played(self, response_id: str, how: str) -> None:
        # What the speaker was given, once per response: the log tells a caller that heard an
        # answer twice whether it was sent twice.
        queued = self._queued.pop(response_id, 0)
        LOG.debug(
            "[%s] %s %s: %.2f s of audio queued", self._label, response_id, how, queued / RATE
        )


async def listen(
    track: MediaStreamTrack, on_pcm: Callable[[bytes], Awaitable[None]], label: str = "-"
) -> None:
    """Read the caller's microphone until the track ends: each frame as 24 kHz mono PCM16."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    frames = 0
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            LOG.info("[%s] microphone track ended after %d frames", label, frames)
            return
        frames += 1
        for out in resampler.resample(frame):
            await on_pcm(bytes(out.planes[0])[: out.samples * 2])
