"""The OVOS VAD plugin: WebRTC gate + Silero judge behind OPM's VADEngine template."""

from __future__ import annotations

import logging
from typing import Any

from ovos_plugin_manager.templates.vad import VADEngine

from .config import DualVADConfig
from .frame_vad import FrameVAD
from .segmenter import SpeechEvent, SpeechSegmenter

LOG = logging.getLogger(__name__)


class DualVAD(VADEngine):
    """`listener.VAD.module = "ovos-vad-plugin-dual"`.

    `is_silence(chunk)` is stateful, as OVOS listeners call it on consecutive chunks of one stream.
    The bridge uses `new_frame_vad()` / `new_segmenter()` to get independent per-session detectors.
    """

    def __init__(self, config: dict[str, Any] | None = None, sample_rate: int | None = None):
        super().__init__(config, sample_rate)
        # An explicit sample_rate in the plugin block wins over listener.sample_rate.
        rate = self.config.get("sample_rate") or self.sample_rate
        self.settings = DualVADConfig.from_dict(self.config, sample_rate=int(rate))
        self.sample_rate = self.settings.sample_rate
        self.vad = FrameVAD(self.settings)
        self._last_silence = True

    @property
    def frame_bytes(self) -> int:
        return self.vad.frame_bytes

    def reset(self) -> None:
        self.vad.reset()
        self._last_silence = True

    def is_silence(self, chunk: bytes) -> bool:
        """True unless a frame completed by this chunk reaches `threshold`.
        A chunk shorter than a frame repeats the previous answer."""
        probs = self.vad.probabilities(chunk)
        if probs:
            self._last_silence = max(probs) < self.settings.threshold
        return self._last_silence

    def process_frame(self, pcm16: bytes) -> float:
        """Speech probability of exactly one 32 ms frame at the configured rate."""
        return self.vad.process_frame(pcm16)

    def speech_probabilities(self, pcm16: bytes) -> list[float]:
        """One probability per completed 32 ms frame (remainder is kept for the next call)."""
        return self.vad.probabilities(pcm16)

    def extract_speech(self, audio: bytes) -> bytes:
        """Audio from the first speech start (with prefix padding) to the last speech end,
        or b"" without speech. A fresh detector leaves the streaming state of is_silence alone."""
        segments = self.segments(audio)
        if not segments:
            return b""
        start = segments[0].audio_start_ms * self.sample_rate // 1000 * 2
        end = segments[-1].audio_end_ms * self.sample_rate // 1000 * 2
        return audio[start:end]

    def segments(self, audio: bytes) -> list[SpeechEvent]:
        """All `stop` events (complete segments) of a whole clip."""
        segmenter = self.new_segmenter()
        events = segmenter.feed(audio) + segmenter.flush()
        return [e for e in events if e.type == "stop"]

    def new_frame_vad(self, sample_rate: int | None = None) -> FrameVAD:
        return FrameVAD(self._settings_for(sample_rate), self.vad.silero.path)

    def new_segmenter(self, sample_rate: int | None = None) -> SpeechSegmenter:
        settings = self._settings_for(sample_rate)
        return SpeechSegmenter(settings, FrameVAD(settings, self.vad.silero.path))

    def _settings_for(self, sample_rate: int | None) -> DualVADConfig:
        if sample_rate is None or sample_rate == self.settings.sample_rate:
            return self.settings
        return DualVADConfig.from_dict(self.config, sample_rate=sample_rate)
