"""Turns per-frame speech probabilities into speech start / stop events with prefix padding."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from .config import FRAME_MS, DualVADConfig
from .frame_vad import FrameResult, FrameVAD

LOG = logging.getLogger(__name__)


@dataclass
class SpeechEvent:
    """`start`: speech confirmed (after min_speech_ms); `audio_start_ms` includes the prefix padding
    and `audio` holds padding + speech so far. `stop`: silence lasted min_silence_ms; `audio_end_ms` is where the silence began and `audio`
    holds the whole segment (padding + speech + the trailing silence that confirmed the stop)."""

    type: str  # "start" | "stop"
    audio_start_ms: int
    audio_end_ms: int | None = None
    audio: bytes = field(default=b"", repr=False)


class SpeechSegmenter:
    """Hysteresis state machine over FrameVAD output. One instance per audio stream."""

    def __init__(self, config: DualVADConfig | None = None, vad: FrameVAD | None = None) -> None:
        self.config = config or (vad.config if vad else DualVADConfig())
        self.vad = vad or FrameVAD(self.config)
        self._min_speech = max(1, -(-self.config.min_speech_ms // FRAME_MS))
        self._min_silence = max(1, -(-self.config.min_silence_ms // FRAME_MS))
        self._padding = self.config.prefix_padding_ms // FRAME_MS
        self.reset()

    def reset(self) -> None:
        self.vad.reset()
        self.in_speech = False
        self._prefix: deque[FrameResult] = deque(maxlen=self._padding + self._min_speech)
        self._candidate: list[FrameResult] = []  # speech frames not yet confirmed
        self._segment: list[FrameResult] = []
        self._silent_run = 0

    def feed(self, pcm16: bytes) -> list[SpeechEvent]:
        """Push audio at the VAD's input rate; return the events it completed."""
        return list(self._events(self.vad.iter_frames(pcm16)))

    def flush(self) -> list[SpeechEvent]:
        """End of stream: close an open segment."""
        if not self.in_speech:
            return []
        end = self._segment[-1].end_ms - self._silent_run * FRAME_MS
        event = SpeechEvent("stop", self._segment[0].start_ms, end, self._audio(self._segment))
        self.in_speech = False
        self._segment, self._silent_run = [], 0
        return [event]

    def _events(self, frames: Iterator[FrameResult]) -> Iterator[SpeechEvent]:
        cfg = self.config
        for frame in frames:
            if not self.in_speech:
                if frame.probability >= cfg.threshold:
                    self._candidate.append(frame)
                    if len(self._candidate) >= self._min_speech:
                        yield self._start()
                else:
                    # A silent frame breaks an unconfirmed run; its frames become prefix audio.
                    self._prefix.extend(self._candidate)
                    self._candidate = []
                    self._prefix.append(frame)
                continue
            self._segment.append(frame)
            if frame.probability < cfg.silence_threshold:
                self._silent_run += 1
                if self._silent_run >= self._min_silence:
                    yield self._stop()
            else:
                self._silent_run = 0

    def _start(self) -> SpeechEvent:
        first = self._candidate[0]
        padding = [
            f for f in self._prefix if f.start_ms >= first.start_ms - self._padding * FRAME_MS
        ]
        self._segment = padding + self._candidate
        self._prefix.clear()
        self._candidate = []
        self._silent_run = 0
        self.in_speech = True
        return SpeechEvent("start", self._segment[0].start_ms, None, self._audio(self._segment))

    def _stop(self) -> SpeechEvent:
        end = self._segment[-1].end_ms - self._silent_run * FRAME_MS
        event = SpeechEvent("stop", self._segment[0].start_ms, end, self._audio(self._segment))
        # The confirming silence doubles as prefix for the next utterance.
        self._prefix.extend(self._segment[-self._padding :] if self._padding else [])
        self.in_speech = False
        self._segment, self._silent_run = [], 0
        return event

    @staticmethod
    def _audio(frames: list[FrameResult]) -> bytes:
        return b"".join(f.audio for f in frames)
