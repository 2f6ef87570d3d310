"""Small PCM helpers: float → int16, silence trimming, WAV headers and files."""

from __future__ import annotations

import logging
import struct
import wave
from collections.abc import Iterable
from pathlib import Path

import numpy as np

LOG = logging.getLogger(__name__)


def to_int16(audio: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] → int16 (clipped)."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def trim_silence(
    audio: np.ndarray,
    sample_rate: int,
    threshold: float = 0.01,
    head_s: float = 0.03,
    tail_s: float = 0.08,
) -> np.ndarray:
    """Cut leading/trailing near-silence, keeping a short pad (leading silence is pure latency)."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio[:0]
    start = max(0, int(loud[0]) - int(head_s * sample_rate))
    end = min(audio.size, int(loud[-1]) + int(tail_s * sample_rate))
    return audio[start:end]


def silence(seconds: float, sample_rate: int) -> np.ndarray:
    return np.zeros(int(seconds * sample_rate), dtype=np.int16)


def wav_header(sample_rate: int, data_bytes: int = 0xFFFFFFFF - 36) -> bytes:
    """A 16-bit mono WAV header; the default size means "streaming, length unknown"."""
    return (
        b"RIFF"
        + struct.pack("<I", min(0xFFFFFFFF, data_bytes + 36))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def write_wav(path: str | Path, chunks: Iterable[np.ndarray], sample_rate: int) -> float:
    """Write int16 chunks as one mono WAV file; returns the duration in seconds."""
    frames = 0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        for chunk in chunks:
            w.writeframes(np.asarray(chunk, dtype=np.int16).tobytes())
            frames += len(chunk)
    return frames / sample_rate
