"""Whisper-style log-mel features in numpy, as the Smart Turn v3 model reads them.

The same computation as `transformers.WhisperFeatureExtractor(chunk_length=8)` with
`do_normalize=True` (80 Slaney mel bands, 400-point FFT with a periodic Hann window, hop 160,
reflect-padded frames, the last frame dropped, log10 clamped to 8 decades below the peak and
scaled by (x + 4) / 4), written after pipecat's numpy port (pipecat-ai,
`pipecat/audio/turn/smart_turn/_whisper_features.py`, BSD-2-Clause, Copyright (c) 2024-2026
Daily; itself derived from Hugging Face Transformers, Apache-2.0). No torch, no transformers.
"""

from functools import cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 80
WINDOW_S = 8  # the model hears the last 8 s of the turn
WINDOW_SAMPLES = RATE * WINDOW_S


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = 3.0 * hz / 200.0
    log = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) * (27.0 / np.log(6.4))
    return np.where(hz >= 1000.0, log, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = 200.0 * mel / 3.0
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log, linear)


@cache
def mel_filters() -> np.ndarray:
    """(N_FFT // 2 + 1, N_MELS) triangular filters with Slaney area normalization."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(RATE / 2), N_MELS + 2))
    bins = np.linspace(0, RATE // 2, N_FFT // 2 + 1)
    slopes = edges[None, :] - bins[:, None]
    widths = np.diff(edges)
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    return filters * (2.0 / (edges[2:] - edges[:-2]))[None, :]


@cache
def _hann() -> np.ndarray:
    return np.hanning(N_FFT + 1)[:-1]  # periodic, as torch.hann_window


def fit_window(audio: np.ndarray) -> np.ndarray:
    """The last 8 s of the turn; a shorter turn is padded with zeros in front."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size >= WINDOW_SAMPLES:
        return audio[-WINDOW_SAMPLES:]
    return np.pad(audio, (WINDOW_SAMPLES - audio.size, 0))


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(80, 800) float32 features of exactly 8 s of 16 kHz float audio (see fit_window)."""
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1 or x.size != WINDOW_SAMPLES:
        raise ValueError(f"log_mel needs {WINDOW_SAMPLES} samples of mono audio, got {x.shape}")
    # Zero mean, unit variance first: the model hears the same at any input level.
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), N_FFT // 2, mode="reflect")
    frames = sliding_window_view(padded, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * _hann(), axis=-1)) ** 2  # (frames, bins)
    mel = np.log10(np.maximum(power @ mel_filters(), 1e-10)).T[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    return ((mel + 4.0) / 4.0).astype(np.float32)
