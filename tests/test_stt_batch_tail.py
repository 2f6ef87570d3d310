"""Streaming Whisper: a turn after seconds of quiet keeps its last words.

With the encoder sized to 15 s (short_window), tiny.en decoding speech that starts after several
seconds of low background stopped early ("... consist principally of types" without "composed
to form letterpress") or said the sentence twice, on the batch path (REST transcriptions) and
on a pause's decode with nothing committed; the 30 s window and the same clip without the lead
were fine. The lead here is the clip's own quietest 100 ms, tiled (mirrored, so no clicks).
"""

from __future__ import annotations

import numpy as np
import pytest
from ovos_stt_plugin_whisper_streaming import WhisperStreamingSTT
from ovos_stt_plugin_whisper_streaming.evaluation import word_error_rate

from tests.corpus import RATE, read_wav, speech_rows

pytestmark = pytest.mark.slow

# Clips of four speakers that lost their last words (or said them twice) after a lead.
CLIPS = (
    "ljspeech_LJ001-0010.wav",
    "ljspeech_LJ001-0025.wav",
    "jfk_inaugural_ask_not.wav",
    "vctk_p301_102.wav",
)
LEADS_S = (0.0, 3.0, 5.5, 8.0)
MARGIN = 0.03  # pooled WER over the clips, a lead's against no lead (0.15-0.2 before the fix)


def _quiet_lead(samples: np.ndarray, seconds: float) -> np.ndarray:
    """`seconds` of the clip's own background: its quietest 100 ms, tiled back and forth."""
    frame = RATE // 10
    n = samples.size // frame
    rms = np.sqrt((samples[: n * frame].astype(np.float64).reshape(n, frame) ** 2).mean(axis=1))
    quiet = samples[rms.argmin() * frame : (rms.argmin() + 1) * frame]
    need = int(seconds * RATE)
    tiles = [quiet if i % 2 == 0 else quiet[::-1] for i in range(need // frame + 1)]
    return np.concatenate(tiles)[:need]


@pytest.fixture(scope="module")
def clips() -> list[dict]:
    rows = {r["file"]: r for r in speech_rows()}
    return [dict(rows[name], samples=read_wav(name)[0]) for name in CLIPS]


def _with_lead(clip: dict, lead_s: float) -> np.ndarray:
    return np.concatenate([_quiet_lead(clip["samples"], lead_s), clip["samples"]])


def test_batch_transcription_after_leading_quiet_keeps_every_word(clips):
    stt = WhisperStreamingSTT({"lang": "en-US"})
    refs = [c["text"] for c in clips]
    wer = {}
    for lead in LEADS_S:
        hyps = [stt.transcribe_detailed(_with_lead(c, lead), RATE)["text"] for c in clips]
        wer[lead] = word_error_rate(refs, hyps)
    print("batch WER by lead (s):", {k: round(v, 3) for k, v in wer.items()})
    for lead in LEADS_S[1:]:
        assert wer[lead] <= wer[0.0] + MARGIN, wer


def test_pause_decode_with_nothing_committed_after_leading_quiet_keeps_every_word(clips):
    """A stream's peek/finish shares the decode: a turn whose partial decodes committed nothing
    (here none ran) is decoded whole, lead included."""
    stt = WhisperStreamingSTT({"lang": "en-US", "min_first_decode_ms": 10**6})
    refs = [c["text"] for c in clips]
    finals = {}
    for lead in (0.0, 5.5):
        finals[lead] = []
        for clip in clips:
            stream = stt.new_stream(background=False)
            stream.feed(_with_lead(clip, lead).astype("<i2").tobytes())
            finals[lead].append(stream.finish())
            assert stream.stats.final_path == "text"
    wer = {lead: word_error_rate(refs, hyps) for lead, hyps in finals.items()}
    print("pause-decode WER by lead (s):", {k: round(v, 3) for k, v in wer.items()})
    assert wer[5.5] <= wer[0.0] + MARGIN, finals


def test_word_times_after_skipped_quiet_are_in_the_clips_own_time(clips):
    """The quiet skipped before the decode is added back: words start where they are heard."""
    stt = WhisperStreamingSTT({"lang": "en-US"})
    clip = clips[0]
    lead = 5.5
    plain = stt.transcribe_detailed(clip["samples"], RATE, word_timestamps=True)
    led = stt.transcribe_detailed(_with_lead(clip, lead), RATE, word_timestamps=True)
    assert led["duration"] == pytest.approx(plain["duration"] + lead, abs=0.01)
    first, last = led["words"][0], led["words"][-1]
    # Whisper's aligner may start the first word where its audio starts: 0.5 s of quiet is kept.
    assert first["start"] == pytest.approx(plain["words"][0]["start"] + lead, abs=0.6), first
    assert last["end"] == pytest.approx(plain["words"][-1]["end"] + lead, abs=0.3), last
    assert last["end"] <= led["duration"]
    assert led["segments"][0]["start"] >= lead - 1.0, led["segments"][0]
