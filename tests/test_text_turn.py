"""semantic_vad's text end-of-turn signal (voice/text_turn.py): the embedded chat LLM's belief
that the user's message ends where the pause's words stop, and the turn detector's use of it.
The model tests load the configured default, SmolLM2-135M (a registry package, installed
--no-deps)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from ovos_realtime.brain.models import resolve_gguf
from ovos_realtime.config import VoiceSettings
from ovos_realtime.voice import pipeline as pipeline_module
from ovos_realtime.voice.pipeline import VoicePipeline
from ovos_realtime.voice.text_turn import MAX_WORDS, TextTurnModel, words_only
from ovos_realtime.voice.turns import TurnDetector

from tests.corpus import read_wav, speech_rows

SPEECH, QUIET = 1.0, 0.0


@pytest.fixture(scope="module")
def text_model() -> TextTurnModel:
    return TextTurnModel(resolve_gguf(VoiceSettings().turn_text_llm))


def test_the_words_are_read_without_case_or_punctuation():
    assert words_only('For the 20th time, that evening… I\'d  say "Yes!"') == (
        "for the 20th time that evening i'd say yes"
    )


@pytest.mark.slow
def test_whole_turns_read_finished_and_mid_phrase_cuts_do_not(text_model):
    """Over the corpus' reference transcripts: each clip whole, and cut in its middle at a word
    boundary that is not a punctuation mark (as the turn-taking bench inserts hesitations).
    Measured: 82 % of whole clips score at/above the medium threshold (0.05; clips that end on
    a comma count as whole), 6.9 % of all such cuts."""
    threshold = TurnDetector(32, {"type": "semantic_vad"}, text_model=True).text_threshold
    whole, cut = [], []
    for row in speech_rows():
        words = row["text"].split()
        middle = [i for i in range(len(words) // 3, 2 * len(words) // 3 + 1) if i >= 2]
        middle = [i for i in middle if not words[i - 1].endswith(tuple(".,;:!?"))]
        whole.append(text_model.probability(row["text"]) >= threshold)
        if middle:
            at = min(middle, key=lambda i: abs(i - len(words) / 2))
            cut.append(text_model.probability(" ".join(words[:at])) >= threshold)
    assert len(whole) >= 30 and len(cut) >= 25
    assert sum(whole) / len(whole) >= 0.7, whole
    assert sum(cut) / len(cut) <= 0.15, cut


def test_a_long_turn_is_read_by_its_last_words(text_model):
    """A turn of any length fits the model's small context: its last words decide."""
    said = " ".join(row["text"] for row in speech_rows()[:12])
    assert len(said.split()) > 4 * MAX_WORDS
    last = " ".join(said.split()[-MAX_WORDS:])
    assert text_model.probability(said) == pytest.approx(text_model.probability(last), abs=0.01)


def test_words_read_ahead_leave_only_the_last_ones_to_read(text_model):
    heard = "could you tell me which of your breads"
    said = heard + " has no wheat in it?"
    text_model._llama.n_tokens = 0  # a cold cache
    cold = text_model.probability(said)
    text_model._llama.n_tokens = 0
    text_model.read_ahead(heard)
    held = text_model._llama.n_tokens
    tokens = text_model._tokens(said)
    assert text_model._llama._input_ids[:held].tolist() == tokens[:held]
    assert len(tokens) - held <= 8  # the last words (and one token of the heard ones)
    assert text_model.probability(said) == pytest.approx(cold, abs=0.01)


@pytest.mark.slow
async def test_the_pipeline_reads_the_words_ahead_while_they_are_spoken(
    listening_runtime, text_model
):
    """semantic_vad with the text model: the STT's guesses of the words go into the text
    model's cache while the turn is spoken (a real sentence at 2x real time, real Whisper)."""
    samples, rate = read_wav("ljspeech_LJ001-0001.wav")
    text_model._llama.n_tokens = 0
    prefix = len(text_model._tokens(""))
    listening_runtime.text_turn = text_model
    try:
        pipeline = VoicePipeline(listening_runtime, "words-ahead-test")
        pipeline.configure({"type": "audio/pcm", "rate": rate}, {"type": "semantic_vad"})
        wire = samples[: rate * 7].astype("<i2").tobytes()  # 7 s of speech, no pause yet
        for offset in range(0, len(wire), 1024):
            async for _ in pipeline.feed(wire[offset : offset + 1024]):
                pass
            await asyncio.sleep(0.016)
        await asyncio.sleep(1.0)  # the last read
        assert text_model._llama.n_tokens >= prefix + 8  # the words heard so far
        pipeline.close()
    finally:
        listening_runtime.text_turn = None


async def _pause_of_a_sentence(listening_runtime, wait_for):
    """A real sentence and 2 s of quiet through the pipeline (semantic_vad, the text model, no
    audio model), its pause's words read after `wait_for`; returns the pipeline once the pause's
    transcript is in."""
    samples, rate = read_wav("cmuarctic_aew_arctic_a0001.wav")
    pipeline = VoicePipeline(listening_runtime, "verdict-after-test", turn_model=False)
    pipeline.text_verdict_after = wait_for
    pipeline.configure({"type": "audio/pcm", "rate": rate}, {"type": "semantic_vad"})
    wire = np.concatenate([samples, np.zeros(2 * rate, np.int16)]).astype("<i2").tobytes()
    peek = None
    for offset in range(0, len(wire), 1024):
        async for event in pipeline.feed(wire[offset : offset + 1024]):
            if event.kind == "paused" and peek is None:
                peek = asyncio.ensure_future(pipeline.peek())
    assert peek is not None
    assert "author of the danger trail" in (await peek).lower()
    return pipeline


@pytest.mark.slow
async def test_the_words_are_read_once_the_answer_has_read_its_prompt(
    listening_runtime, text_model, monkeypatch
):
    """Two readings at once would share the two cores (the answer's prompt with one thread
    instead of two): the pause's words wait for the session's answer to begin, and the turn
    waits for their verdict."""
    read: list[str] = []
    probability = text_model.probability
    monkeypatch.setattr(
        text_model, "probability", lambda words: read.append(words) or probability(words)
    )
    answer_read = asyncio.Event()
    listening_runtime.text_turn = text_model
    try:
        pipeline = await _pause_of_a_sentence(listening_runtime, answer_read.wait)
        await asyncio.sleep(0.3)
        assert read == [] and pipeline.turns.awaiting_text  # the answer is still reading
        answer_read.set()
        for _ in range(100):
            if not pipeline.turns.awaiting_text:
                break
            await asyncio.sleep(0.05)
        assert len(read) == 1 and "danger trail" in read[0].lower()
        assert pipeline.turns.text_probability is not None
        pipeline.close()

        # an answer that never begins holds the words for TEXT_VERDICT_WAIT_S at most
        read.clear()
        monkeypatch.setattr(pipeline_module, "TEXT_VERDICT_WAIT_S", 0.2)
        pipeline = await _pause_of_a_sentence(listening_runtime, asyncio.Event().wait)
        for _ in range(100):
            if read and not pipeline.turns.awaiting_text:
                break
            await asyncio.sleep(0.05)
        assert len(read) == 1 and pipeline.turns.text_probability is not None
        pipeline.close()
    finally:
        listening_runtime.text_turn = None


def test_a_missing_model_is_named_and_the_word_list_decides(caplog):
    from ovos_realtime.config import Settings
    from ovos_realtime.wiring import text_turn_gguf

    settings = Settings.model_validate({"voice": {"turn_text_llm": "/no/such/model.gguf"}})
    with caplog.at_level("WARNING", logger="ovos_realtime.wiring"):
        assert text_turn_gguf(settings) is None
    assert "voice.turn_text_llm: GGUF file '/no/such/model.gguf'" in caplog.text
    assert "word list" in caplog.text


def test_a_file_that_is_not_a_model_is_named_and_the_word_list_decides(tmp_path, caplog):
    """voice.turn_text_llm comes from a config file: a file that is no GGUF must not stop the
    server."""
    from ovos_realtime.voice.runtime import VoiceRuntime

    junk = tmp_path / "notes.gguf"
    junk.write_text("not a model")
    with caplog.at_level("WARNING", logger="ovos_realtime.voice.runtime"):
        runtime = VoiceRuntime(engines=None, text_turn_gguf=junk)  # type: ignore[arg-type]
    runtime.shutdown()
    assert runtime.text_turn is None
    assert "notes.gguf" in caplog.text and "word list" in caplog.text


# -- the detector's rules (no model) --------------------------------------------------------


def _pause(detector: TurnDetector) -> None:
    detector.feed([SPEECH] * 20 + [QUIET] * 4)  # 640 ms of speech, 128 ms of quiet


def _quiet_until_stop(detector: TurnDetector, limit_ms: int = 10000) -> int:
    for n in range(limit_ms // 32):
        if any(e.kind == "stopped" for e in detector.feed([QUIET])) or detector.check_window():
            return (n + 1) * 32 + 128
    return limit_ms


def semantic(model: bool = False) -> TurnDetector:
    return TurnDetector(
        32, {"type": "semantic_vad", "eagerness": "medium"}, model=model, text_model=True
    )


@pytest.mark.parametrize(("probability", "window"), [(0.3, 400), (0.01, 1200), (None, 400)])
def test_the_words_set_the_window(probability, window):
    """Finished words: the short window; unfinished: the unsure one; no answer (the model
    failed): the punctuation decides, as without the model."""
    detector = semantic()
    _pause(detector)
    detector.expect_transcript()
    detector.use_transcript("I would like a table for four.", final=True)
    assert detector.scoring and detector.check_window() is None  # it waits for the answer
    detector.use_text_probability(probability)
    assert not detector.scoring
    assert _quiet_until_stop(detector) == pytest.approx(window, abs=64)


def test_a_trailing_word_still_waits_for_the_ceiling():
    detector = semantic()
    _pause(detector)
    detector.expect_transcript()
    detector.use_transcript("I would like a table for four and", final=True)
    detector.use_text_probability(0.9)
    assert _quiet_until_stop(detector) == pytest.approx(4000, abs=64)


def test_with_the_audio_model_both_must_hear_the_end():
    """The audio model says complete; unfinished words hold the turn for the unsure window."""
    for probability, window in ((0.3, 200), (0.01, 1200)):
        detector = semantic(model=True)
        _pause(detector)
        detector.expect_transcript()
        while not detector.take_score_requests():
            detector.feed([QUIET])
        detector.use_turn_probability(0.9)
        assert detector.check_window() is None  # the words' answer is still to come
        detector.use_transcript("I would like a table for four.", final=True)
        detector.use_text_probability(probability)
        quiet = detector.now_ms - 640
        stop = next(
            (n + 1) * 32
            for n in range(400)
            if any(e.kind == "stopped" for e in detector.feed([QUIET])) or detector.check_window()
        )
        assert quiet + stop - 32 == pytest.approx(window, abs=96)


def test_resumed_speech_drops_the_words_answer():
    detector = semantic()
    _pause(detector)
    detector.expect_transcript()
    detector.use_text_probability(0.9)
    kinds = [e.kind for e in detector.feed([SPEECH] * 3)]
    assert kinds == ["resumed"] and detector.text_probability is None and not detector.scoring
