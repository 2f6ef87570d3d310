"""How much quiet before the speech a short-window decode can skip.

With the encoder sized to ~15 s (short_window), tiny.en mistimes speech that starts seconds into
the window: its first segment must start by 1 s (max_initial_timestamp), so it ends it early and
then says the sentence again ("I'm sure all schools would accept that." twice) or stops. Skipping
the quiet, keeping a little of it, puts the speech where Whisper expects it. Energy only: the
loud frames of a clip are speech or its noise, and a lead that is not clearly quieter than them
is kept whole.
"""

from __future__ import annotations

import numpy as np

from .audio import WHISPER_RATE

FRAME = WHISPER_RATE // 50  # 20 ms
KEEP_S = 0.5  # quiet kept before the first loud frame (a soft onset, a breath)
MIN_SKIP_S = 0.5  # a shorter skip changes nothing worth a different window
_FLOOR_PCT, _PEAK_PCT = 10, 99  # the background's level and the speech's
_ABOVE_FLOOR = 4.0  # a loud frame is 12 dB over the background ...
_BELOW_PEAK = 30.0  # ... and no more than ~30 dB under the loudest speech
_MIN_CONTRAST = 8.0  # speech 18 dB over the background, or nothing is skipped


def quiet_lead_s(audio: np.ndarray) -> float:
    """Seconds of float32 16 kHz `audio` before its speech that a decode may skip (0: none)."""
    n = audio.size // FRAME
    if n < 10:
        return 0.0
    frames = audio[: n * FRAME].astype(np.float64).reshape(n, FRAME)
    rms = np.sqrt((frames**2).mean(axis=1)) + 1e-9
    floor, peak = np.percentile(rms, _FLOOR_PCT), np.percentile(rms, _PEAK_PCT)
    if peak < floor * _MIN_CONTRAST:
        return 0.0
    first = int(np.argmax(rms >= max(floor * _ABOVE_FLOOR, peak / _BELOW_PEAK)))
    skip = first * FRAME / WHISPER_RATE - KEEP_S
    return skip if skip >= MIN_SKIP_S else 0.0
