"""Sample-rate conversion (soxr): one-shot, and streaming with state across chunks."""

import numpy as np
import soxr


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate or samples.size == 0:
        return samples.astype(np.int16, copy=False)
    return soxr.resample(samples.astype(np.int16, copy=False), from_rate, to_rate, quality="HQ")


class StreamResampler:
    """Resamples a stream chunk by chunk without clicks at chunk edges."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream = (
            None
            if from_rate == to_rate
            else soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16", quality="HQ")
        )

    def __call__(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return samples.astype(np.int16, copy=False)
        return self._stream.resample_chunk(samples.astype(np.int16, copy=False), last=last)
