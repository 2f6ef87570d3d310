"""PCM16 bytes / numpy conversion and resampling to Whisper's 16 kHz (soxr, from the plugins'
common package; `Resampler` is re-exported here for the code that imported it from this module)."""

from __future__ import annotations

import logging

import numpy as np
from ovos_realtime_plugin_common.resample import Resampler, resample

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


def to_whisper_audio(pcm: bytes | np.ndarray, sample_rate: int) -> np.ndarray:
    """Whole clip → float32 mono at 16 kHz."""
    return resample(pcm16_to_float(pcm), sample_rate, WHISPER_RATE)


__all__ = ["WHISPER_RATE", "Resampler", "pcm16_to_float", "resample", "to_whisper_audio"]
