"""The public speech corpus that ships with the repository (tests/data/speech, see its README for
sources and licences): manifest rows, clips as PCM16 at any rate, and WER helpers.

Tests and benchmarks read the corpus from here only. The data is part of the repository, so a
missing manifest is an error, never a reason to skip.
"""

from __future__ import annotations

import json
import wave
from functools import cache
from pathlib import Path

import numpy as np
from ovos_stt_plugin_whisper_streaming.evaluation import normalize, word_error_rate

REPO = Path(__file__).resolve().parents[1]
SPEECH_DIR = REPO / "tests" / "data" / "speech"
MANIFEST = SPEECH_DIR / "manifest.jsonl"
RATE = 16000  # every clip is stored as 16 kHz mono PCM16

__all__ = [
    "MANIFEST",
    "RATE",
    "REPO",
    "SPEECH_DIR",
    "load_clip",
    "manifest",
    "normalize",
    "read_wav",
    "speech_rows",
    "wer",
    "word_error_rate",
]


def manifest() -> list[dict]:
    """Every row of manifest.jsonl: file, text ("" for non-speech), speaker, source, licence…"""
    return [dict(row) for row in _rows()]


@cache
def _rows() -> tuple[dict, ...]:
    if not MANIFEST.is_file():
        raise FileNotFoundError(
            f"speech corpus manifest missing: {MANIFEST} (it is committed in the repository)"
        )
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())


def speech_rows() -> list[dict]:
    """The rows with a reference transcript (no non-speech clips)."""
    return [row for row in manifest() if row["text"]]


def read_wav(name: str) -> tuple[np.ndarray, int]:
    """A clip as it is stored: (int16 samples, sample rate); the first channel if it has more."""
    with wave.open(str(SPEECH_DIR / name)) as wav:
        assert wav.getsampwidth() == 2, f"{name}: not 16-bit PCM"
        samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
        if wav.getnchannels() > 1:
            samples = samples.reshape(-1, wav.getnchannels())[:, 0]
        return samples, wav.getframerate()


def load_clip(name: str, rate: int = 24000) -> np.ndarray:
    """A clip as int16 samples at `rate` Hz (resampled with soxr)."""
    import soxr

    samples, source_rate = read_wav(name)
    return soxr.resample(samples, source_rate, rate).astype(np.int16)


def wer(reference: str, hypothesis: str) -> float:
    """WER of one utterance, with the STT plugin's normalizer (numbers spelled out, …)."""
    return word_error_rate([reference], [hypothesis])
