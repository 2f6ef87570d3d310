"""Per-frame speech probability from any OVOS VAD plugin."""

from typing import Any

import numpy as np

from ovos_realtime.voice.contracts import FrameVAD, GainControl

RATE = 16000
# The Realtime API's input noise reduction, as far as the VAD is concerned: a close-talking
# microphone is loud enough as it is; a far-field one needs the automatic gain.
NOISE_REDUCTION_GAIN = {"near_field": False, "far_field": True}


class SpeechDetector:
    """Feed 16 kHz int16 audio, get one speech probability per frame.

    Uses the plugin's frame API (`new_frame_vad(rate).probabilities(pcm)`) when it has one;
    otherwise `is_silence()` on 30 ms frames, as 0.0 or 1.0."""

    def __init__(self, vad: Any) -> None:
        self._frames = vad.new_frame_vad(RATE) if isinstance(vad, FrameVAD) else None
        self._vad = vad
        self.frame_ms = 32 if self._frames is not None else 30
        self._pending = b""

    def probabilities(self, samples: np.ndarray) -> list[float]:
        pcm = samples.astype("<i2").tobytes()
        if self._frames is not None:
            return self._frames.probabilities(pcm)
        data = self._pending + pcm
        size = RATE * self.frame_ms // 1000 * 2
        whole = len(data) - len(data) % size
        self._pending = data[whole:]
        return [
            0.0 if self._vad.is_silence(data[i : i + size]) else 1.0 for i in range(0, whole, size)
        ]

    def set_noise_reduction(self, kind: str | None) -> bool:
        """`near_field` turns the VAD's automatic gain off, `far_field` on, None leaves it as
        the plugin is configured. False when the VAD has no such gain."""
        if not isinstance(self._frames, GainControl):
            return False
        self._frames.set_auto_gain(NOISE_REDUCTION_GAIN.get(kind or ""))
        return True

    def reset(self) -> None:
        self._pending = b""
        if self._frames is not None:
            self._frames.reset()
        else:
            self._vad.reset()
