"""WebRTC VAD as a cheap first gate: frames it calls silence never reach Silero."""

from __future__ import annotations

import logging

import numpy as np
import webrtcvad

LOG = logging.getLogger(__name__)

# WebRTC accepts 10/20/30 ms frames only; we judge the last 30 ms (480 samples) of each 32 ms frame.
_GATE_SAMPLES = 480


class WebRTCGate:
    def __init__(self, aggressiveness: int = 2, sample_rate: int = 16000) -> None:
        self._aggressiveness = aggressiveness
        self._rate = sample_rate
        self.reset()

    def reset(self) -> None:
        """Forget the stream: WebRTC VAD adapts its noise model to what it has heard."""
        self._vad = webrtcvad.Vad(self._aggressiveness)

    def is_speech(self, frame_int16: np.ndarray) -> bool:
        return self._vad.is_speech(frame_int16[-_GATE_SAMPLES:].tobytes(), self._rate)
