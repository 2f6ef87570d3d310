"""Stateful polyphase resampler (numpy only) so streamed frames join without clicks."""

from __future__ import annotations

import logging
from math import gcd

import numpy as np

LOG = logging.getLogger(__name__)


def _lowpass(up: int, down: int, taps_per_phase: int) -> np.ndarray:
    """Windowed-sinc FIR at the upsampled rate, cutting below the lower Nyquist."""
    factor = max(up, down)
    n = 2 * taps_per_phase * factor + 1
    t = np.arange(n) - (n - 1) / 2
    cutoff = 1.0 / factor  # fraction of the upsampled Nyquist
    h = cutoff * np.sinc(cutoff * t) * np.kaiser(n, 6.0)
    # DC gain `up` makes up for the zeros inserted between input samples.
    return (h * up / h.sum()).astype(np.float32)


class Resampler:
    """Converts float32 mono audio from `in_rate` to `out_rate`, keeping filter state between calls."""

    def __init__(self, in_rate: int, out_rate: int, taps_per_phase: int = 8) -> None:
        g = gcd(in_rate, out_rate)
        self.up = out_rate // g
        self.down = in_rate // g
        self.passthrough = self.up == self.down
        if not self.passthrough:
            self._h = _lowpass(self.up, self.down, taps_per_phase)
            self._hist = np.zeros(len(self._h) - 1, dtype=np.float32)
        self._phase = 0

    def reset(self) -> None:
        if not self.passthrough:
            self._hist[:] = 0.0
        self._phase = 0

    def process(self, x: np.ndarray) -> np.ndarray:
        if self.passthrough or len(x) == 0:
            return x.astype(np.float32, copy=False)
        up = np.zeros(len(x) * self.up, dtype=np.float32)
        up[:: self.up] = x
        buf = np.concatenate([self._hist, up])
        # 'valid' convolution over history+new yields one output per new upsampled sample.
        y = np.convolve(buf, self._h, mode="valid")
        self._hist = buf[-(len(self._h) - 1) :]
        out = y[self._phase :: self.down]
        self._phase = self._phase + len(out) * self.down - len(up)
        return out.astype(np.float32, copy=False)


def resample(x: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """One-shot resampling of a whole clip."""
    return Resampler(in_rate, out_rate).process(x)
