"""PCM16 bytes / numpy conversion and resampling to Whisper's 16 kHz."""

from __future__ import annotations

import logging
from math import gcd

import numpy as np

LOG = logging.getLogger(__name__)

WHISPER_RATE = 16000


def pcm16_to_float(pcm: bytes | np.ndarray) -> np.ndarray:
    """PCM16 bytes, int16 array or float array → float32 in [-1, 1]."""
    if isinstance(pcm, (bytes, bytearray, memoryview)):
        if len(pcm) % 2:
            raise ValueError("PCM16 audio must have an even number of bytes")
        return np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
    arr = np.asarray(pcm)
    if arr.dtype == np.int16:
        return arr.astype(np.float32) / 32768.0
    return arr.astype(np.float32, copy=False)


class Resampler:
    """Stateful polyphase FIR resampler, so streamed chunks join without clicks or aliasing."""

    def __init__(self, in_rate: int, out_rate: int = WHISPER_RATE, taps_per_phase: int = 8):
        if in_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {in_rate}")
        g = gcd(in_rate, out_rate)
        self.up, self.down = out_rate // g, in_rate // g
        self.passthrough = self.up == self.down
        factor = max(self.up, self.down)
        n = 2 * taps_per_phase * factor + 1
        t = np.arange(n) - (n - 1) / 2
        h = np.sinc(t / factor) * np.kaiser(n, 6.0)
        self._h = (h * self.up / h.sum()).astype(np.float32)
        self._hist = np.zeros(n - 1, dtype=np.float32)
        self._phase = 0

    def process(self, x: np.ndarray) -> np.ndarray:
        if self.passthrough or len(x) == 0:
            return x.astype(np.float32, copy=False)
        up = np.zeros(len(x) * self.up, dtype=np.float32)
        up[:: self.up] = x
        buf = np.concatenate([self._hist, up])
        y = np.convolve(buf, self._h, mode="valid")
        self._hist = buf[-(len(self._h) - 1) :]
        out = y[self._phase :: self.down]
        self._phase += len(out) * self.down - len(up)
        return out.astype(np.float32, copy=False)


def to_whisper_audio(pcm: bytes | np.ndarray, sample_rate: int) -> np.ndarray:
    """Whole clip → float32 mono at 16 kHz."""
    return Resampler(sample_rate).process(pcm16_to_float(pcm))
