"""bench/turn_pauses.py tries semantic_vad's thresholds offline on recorded pauses: its window for
a pause must be the turn detector's own, and its counts (splits, false cuts inside the inserted
pause or before it, delays) must follow from where each turn would have stopped."""

from __future__ import annotations

import sys

from tests.corpus import REPO

sys.path.insert(0, str(REPO / "bench"))

from turn_pauses import evaluate, window_ms


def _pause(start_ms, resumed_ms, text, audio, text_p):
    return {
        "start_ms": start_ms,
        "resumed_ms": resumed_ms,
        "text": text,
        "audio_96ms": audio,
        "audio_200ms": audio,
        "text_p": text_p,
    }


FINISHED = ("Turn on the lights.", 0.95, 0.3)
GOES_ON = ("Turn on the", 0.1, 0.001)


def test_the_window_is_the_turn_detectors():
    # medium eagerness: both finished -> 200 ms; the audio unsure -> the 4 s ceiling; the
    # words unsure -> the 1.2 s unsure window; the word list: a sentence 400 ms, "the" 4 s
    assert window_ms(_pause(0, None, *FINISHED)) == 200
    assert window_ms(_pause(0, None, "Turn on the lights.", 0.1, 0.3)) == 4000
    assert window_ms(_pause(0, None, "Turn on the lights", 0.95, 0.001)) == 1200
    assert window_ms(_pause(0, None, *FINISHED), audio=False, text=False) == 400
    assert window_ms(_pause(0, None, *GOES_ON), audio=False, text=False) == 4000
    # a stricter text threshold turns the same pause unsure
    assert window_ms(_pause(0, None, *FINISHED), text_threshold=0.5) == 1200


def test_stops_splits_and_cuts_follow_from_the_windows():
    clips = [
        {  # a pause of 300 ms after a finished sentence splits it; then its end
            "end_ms": 3000,
            "complete": [_pause(1000, 1300, *FINISHED), _pause(3032, None, *FINISHED)],
        },
        {  # kept whole; the hesitation inside its inserted pause (2000-2800 ms) is cut
            "end_ms": 3000,
            "complete": [_pause(1000, 1300, *GOES_ON), _pause(3032, None, *FINISHED)],
            "gap_ms": [2000, 2800],
            "hesitation": [_pause(2010, 2800, *FINISHED), _pause(4000, None, *FINISHED)],
        },
        {  # the hesitation's turn ends at the reader's own pause before the inserted one
            "end_ms": 3000,
            "complete": [_pause(3032, None, *FINISHED)],
            "gap_ms": [2000, 2800],
            "hesitation": [_pause(1000, 1300, *FINISHED), _pause(2010, 2800, *GOES_ON)],
        },
    ]
    result = evaluate(clips, window_ms)
    assert result["complete_turns_split"] == 1
    assert result["speech_end_to_stop_ms"]["median"] == 232  # 3032 + 200 - 3000, twice
    assert result["hesitations"] == 2
    assert result["false_cuts"] == 2
    assert result["false_cuts_inside_the_pause"] == 1
