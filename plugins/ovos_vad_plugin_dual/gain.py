"""Level-robust listening: an automatic gain in front of the WebRTC gate and Silero.

Both detectors judge absolute level: speech recorded across a room (peaks around -45 dBFS,
-65 dBFS average) is mostly "silence" to them, and the first words of a turn are lost. The
gain lifts quiet input towards a speech level before either detector hears it, and is held
back by three limits so that noise is never made into speech:

- `max_gain_db`: never more than this;
- the loudest recent frame (instant attack, slow release) is not lifted above `target_dbfs`,
  so normal-level speech is left alone and a loud sound drops the gain at once;
- the noise floor (the quietest frame of the last `floor_window_ms`) is not lifted above
  `noise_ceiling_dbfs`, so a steady hiss or room tone stays a quiet background.

The gain is computed per 32 ms frame from that frame and the past only (no look-ahead, no
added latency) and changes only the audio the detectors judge, never the audio passed on.
"""

from __future__ import annotations

from collections import deque

import numpy as np

FLOOR_DBFS = -100.0  # digital silence counts as this quiet, not as -inf


def frame_dbfs(audio: np.ndarray) -> float:
    """RMS level of a float frame in [-1, 1], in dBFS (at least FLOOR_DBFS)."""
    if audio.size == 0:
        return FLOOR_DBFS
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return max(FLOOR_DBFS, 20.0 * np.log10(rms)) if rms > 0 else FLOOR_DBFS


class AutoGain:
    """Per-stream gain state; `apply(frame)` returns the frame as the detectors should hear it."""

    def __init__(
        self,
        frame_ms: int,
        max_gain_db: float = 40.0,
        target_dbfs: float = -26.0,
        noise_ceiling_dbfs: float = -55.0,
        release_db_per_s: float = 6.0,
        floor_window_ms: int = 1500,
    ) -> None:
        self.max_gain_db = max_gain_db
        self.target_dbfs = target_dbfs
        self.noise_ceiling_dbfs = noise_ceiling_dbfs
        self._release_db = release_db_per_s * frame_ms / 1000
        self._levels: deque[float] = deque(maxlen=max(1, floor_window_ms // frame_ms))
        self.reset()

    def reset(self) -> None:
        self._levels.clear()
        self._peak_db = FLOOR_DBFS
        self.gain_db = 0.0

    @property
    def noise_floor_dbfs(self) -> float:
        return min(self._levels) if self._levels else FLOOR_DBFS

    def update(self, level_db: float) -> float:
        """Take one frame's level; return the gain (dB) for that frame."""
        self._levels.append(level_db)
        # Instant attack, slow release: a loud frame lowers the gain at once.
        self._peak_db = max(level_db, self._peak_db - self._release_db)
        gain = min(
            self.max_gain_db,
            self.target_dbfs - self._peak_db,
            self.noise_ceiling_dbfs - self.noise_floor_dbfs,
        )
        self.gain_db = max(0.0, gain)
        return self.gain_db

    def apply(self, audio: np.ndarray) -> np.ndarray:
        gain_db = self.update(frame_dbfs(audio))
        if gain_db <= 0.0:
            return audio
        return np.clip(audio * np.float32(10.0 ** (gain_db / 20.0)), -1.0, 1.0)
