"""Per-frame speech probability from any OVOS VAD plugin."""

from typing import Any

import numpy as np

from ovos_realtime.voice.contracts import FrameVAD

RATE = 16000


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

    def reset(self) -> None:
        self._pending = b""
        if self._frames is not None:
            self._frames.reset()
        else:
            self._vad.reset()
