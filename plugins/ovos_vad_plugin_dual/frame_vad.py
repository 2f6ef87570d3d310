"""Frame-level dual VAD: PCM16 at 8/16/24/32/48 kHz in, one speech probability per 32 ms frame out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ovos_realtime_plugin_common.resample import FrameResampler

from .config import FRAME_MS, INTERNAL_RATE, DualVADConfig
from .gain import AutoGain
from .models import resolve_silero
from .silero import SileroModel
from .webrtc_gate import WebRTCGate

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameResult:
    index: int  # frame number since the last reset
    start_ms: int  # position of the frame in the stream
    probability: float  # Silero speech probability (0.0 when the WebRTC gate skipped it)
    gated: bool  # True when WebRTC called it silence and Silero did not run
    audio: bytes  # the frame's PCM16 at the input rate (as it came in: the gain is not applied)
    gain_db: float = 0.0  # the automatic gain the detectors heard this frame with

    @property
    def end_ms(self) -> int:
        return self.start_ms + FRAME_MS


class FrameVAD:
    """Stateful per-stream detector. Feed any number of bytes; frames come out as they complete."""

    def __init__(self, config: DualVADConfig | None = None, model_path: Path | None = None) -> None:
        self.config = config or DualVADConfig()
        path = model_path or resolve_silero(self.config.model)
        self.silero = SileroModel(
            path, self.config.intra_op_num_threads, self.config.inter_op_num_threads
        )
        self.gate = WebRTCGate(self.config.aggressiveness, INTERNAL_RATE)
        self._hangover_frames = max(1, self.config.gate_hangover_ms // FRAME_MS)
        # Built even when the config turns it off: a session may turn it on (set_auto_gain).
        self.gain = AutoGain(
            FRAME_MS, self.config.max_gain_db, noise_ceiling_dbfs=self.config.noise_ceiling_dbfs
        )
        self.auto_gain = self.config.auto_gain
        self.reset()

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def frame_bytes(self) -> int:
        """Bytes of PCM16 at the input rate in one frame (32 ms)."""
        return self.config.frame_bytes

    def reset(self) -> None:
        self.silero.reset()
        self.gate.reset()
        self.gain.reset()
        # One 32 ms frame in, 512 samples out; at other rates than 16 kHz the VAD hears the audio
        # a constant soxr latency late (~37 ms from 24/48 kHz, ~116 ms from 8 kHz).
        self._resampler = FrameResampler(
            self.config.sample_rate, INTERNAL_RATE, self.config.frame_samples
        )
        self._pending = b""
        self._index = 0
        self._since_voice = self._hangover_frames + 1  # frames since Silero last heard voice

    def set_auto_gain(self, enabled: bool | None) -> None:
        """Turn the automatic gain on or off for this stream; None: as the plugin's config says."""
        enabled = self.config.auto_gain if enabled is None else bool(enabled)
        if enabled and not self.auto_gain:
            self.gain.reset()
        self.auto_gain = enabled

    def process_frame(self, pcm16: bytes) -> float:
        """Speech probability of exactly one frame (`frame_bytes` bytes at the input rate)."""
        if len(pcm16) != self.frame_bytes:
            raise ValueError(
                f"process_frame needs {self.frame_bytes} bytes (32 ms of 16-bit mono at "
                f"{self.sample_rate} Hz), got {len(pcm16)}; use iter_frames() for other sizes"
            )
        return self._judge(pcm16).probability

    def iter_frames(self, pcm16: bytes) -> Iterator[FrameResult]:
        """Judge every frame completed by this chunk; a partial frame waits for the next call."""
        data = self._pending + pcm16
        n = self.frame_bytes
        whole = len(data) - len(data) % n
        self._pending = data[whole:]
        for offset in range(0, whole, n):
            yield self._judge(data[offset : offset + n])

    def probabilities(self, pcm16: bytes) -> list[float]:
        return [f.probability for f in self.iter_frames(pcm16)]

    def _judge(self, pcm16: bytes) -> FrameResult:
        samples = np.frombuffer(pcm16, dtype=np.int16)
        audio = self._resampler.process(samples.astype(np.float32) / 32768.0)
        gain_db = 0.0
        if self.auto_gain:
            audio = self.gain.apply(audio)
            gain_db = self.gain.gain_db
        gated = False
        if self.config.use_gate and self._since_voice > self._hangover_frames:
            frame16 = np.clip(audio * 32768.0, -32768, 32767).astype(np.int16)
            gated = not self.gate.is_speech(frame16)
        if gated:
            self.silero.observe(audio)
            prob = 0.0
        else:
            prob = self.silero(audio)
        self._since_voice = 0 if prob >= self.config.silence_threshold else self._since_voice + 1
        result = FrameResult(self._index, self._index * FRAME_MS, prob, gated, pcm16, gain_db)
        self._index += 1
        return result
