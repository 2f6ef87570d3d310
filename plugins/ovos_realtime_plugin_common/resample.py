"""Sample-rate conversion with soxr: one-shot, streaming, and frame-exact streaming.

soxr's streaming resampler joins chunks without clicks (its filter state carries over), but it
holds back a few milliseconds of output and hands it over in blocks: `Resampler.process` returns
what is ready and `flush` the rest at the end of a stream. A consumer that needs exactly one
output frame per input frame (the VAD: 512 samples at 16 kHz per 32 ms) uses `FrameResampler`,
which delays the output by a constant `latency` instead.
"""

from __future__ import annotations

import logging
from collections import deque
from functools import cache

import numpy as np
import soxr

LOG = logging.getLogger(__name__)

QUALITY = "HQ"


def _float32(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32)


def _check_rates(in_rate: int, out_rate: int) -> None:
    if in_rate <= 0 or out_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")


def resample(x: np.ndarray, in_rate: int, out_rate: int, quality: str = QUALITY) -> np.ndarray:
    """A whole clip (mono) → float32 at `out_rate`, len(x) * out_rate / in_rate samples."""
    _check_rates(in_rate, out_rate)
    x = _float32(x)
    if in_rate == out_rate or x.size == 0:
        return x
    return soxr.resample(x, in_rate, out_rate, quality=quality)


class Resampler:
    """Streaming mono resampler. `process(chunk)` returns the float32 output soxr has ready
    (it lags the input by up to ~40 ms, ~120 ms from 8 kHz); `flush()` returns the rest at the
    end of the stream and makes the resampler ready for a new one."""

    def __init__(self, in_rate: int, out_rate: int, quality: str = QUALITY) -> None:
        _check_rates(in_rate, out_rate)
        self.in_rate, self.out_rate, self.quality = in_rate, out_rate, quality
        self.passthrough = in_rate == out_rate
        self._stream = self._new_stream()

    def _new_stream(self) -> soxr.ResampleStream | None:
        if self.passthrough:
            return None
        return soxr.ResampleStream(
            self.in_rate, self.out_rate, 1, dtype="float32", quality=self.quality
        )

    def process(self, x: np.ndarray) -> np.ndarray:
        x = _float32(x)
        if self._stream is None or x.size == 0:
            return x
        return self._stream.resample_chunk(x)

    def flush(self) -> np.ndarray:
        """The output still held back; the next process() starts a new stream."""
        if self._stream is None:
            return np.zeros(0, np.float32)
        tail = self._stream.resample_chunk(np.zeros(0, np.float32), last=True)
        self._stream = self._new_stream()
        return tail

    def reset(self) -> None:
        """Drop the state and anything held back."""
        self._stream = self._new_stream()


@cache
def _frame_latency(in_rate: int, out_rate: int, frame: int, quality: str) -> int:
    """The most output soxr ever owes when fed `frame` samples at a time (it is periodic)."""
    probe = soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality=quality)
    silence = np.zeros(frame, np.float32)
    fed = produced = owed = 0
    for _ in range(256):
        fed += frame
        produced += len(probe.resample_chunk(silence))
        owed = max(owed, fed * out_rate // in_rate - produced)
    return owed


class FrameResampler:
    """Frame in, frame out: every call returns exactly as many samples as the input so far is
    worth at `out_rate` (512 at 16 kHz for 32 ms at any rate), `latency` samples late. The first
    `latency` output samples are silence; `latency` is the most soxr holds back at `frame`-sized
    calls (0 when the rates are equal; to 16 kHz: 585 samples from 24 or 48 kHz, 1852 from 8 kHz)."""

    def __init__(self, in_rate: int, out_rate: int, frame: int, quality: str = QUALITY) -> None:
        _check_rates(in_rate, out_rate)
        self.in_rate, self.out_rate, self.frame = in_rate, out_rate, frame
        self._resampler = Resampler(in_rate, out_rate, quality)
        passthrough = self._resampler.passthrough
        self.latency = 0 if passthrough else _frame_latency(in_rate, out_rate, frame, quality)
        self._fifo: deque[np.ndarray] = deque([np.zeros(self.latency, np.float32)])
        self._buffered = self.latency
        self._fed = self._given = 0
        self._warned = False

    def process(self, x: np.ndarray) -> np.ndarray:
        out = self._resampler.process(x)
        if self._resampler.passthrough:
            return out
        self._fifo.append(out)
        self._buffered += out.size
        self._fed += len(x)
        want = self._fed * self.out_rate // self.in_rate - self._given
        if want > self._buffered:  # only with calls of another size than `frame`
            if not self._warned:
                LOG.warning("resampler fell %d samples short; padding", want - self._buffered)
                self._warned = True
            self._fifo.append(np.zeros(want - self._buffered, np.float32))
            self._buffered = want
        self._given += want
        return self._take(want)

    def _take(self, n: int) -> np.ndarray:
        self._buffered -= n
        joined = np.concatenate(self._fifo) if len(self._fifo) > 1 else self._fifo[0]
        self._fifo.clear()
        self._fifo.append(joined[n:])
        return joined[:n]
