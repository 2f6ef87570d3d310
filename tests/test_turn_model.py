"""semantic_vad's end-of-turn model (Smart Turn v3 on onnxruntime, our numpy features) and the
turn detector's use of it. The features and the decision rules need no model; the model tests
load the real ONNX file from the pipecat-ai wheel (installed --no-deps)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from ovos_realtime.voice import turn_model
from ovos_realtime.voice.turn_model import SmartTurn, TurnModelNotFoundError, resolve_turn_model
from ovos_realtime.voice.turns import TurnDetector
from ovos_realtime.voice.whisper_features import WINDOW_SAMPLES, fit_window, log_mel

from tests.corpus import REPO, read_wav

REFERENCE = REPO / "tests" / "data" / "smart_turn" / "vctk_p238_165_features.npz"
TAIL = np.zeros(3200, np.int16)  # 200 ms of quiet after the last word, as at a pause


def test_features_match_the_reference():
    pcm, _ = read_wav("vctk_p238_165.wav")
    features = log_mel(fit_window(pcm.astype(np.float32) / 32768.0))
    reference = np.load(REFERENCE)
    assert features.shape == (80, 800) and features.dtype == np.float32
    np.testing.assert_allclose(features[:, ::20], reference["every_20th_frame"], atol=1e-4)
    np.testing.assert_allclose(features.mean(axis=1), reference["band_means"], atol=1e-5)


def test_features_do_not_depend_on_the_level():
    """The waveform is normalized first: a quieter speaker gets (nearly) the same features;
    Whisper's variance epsilon (1e-7) makes -40 dB differ by ~0.05, -20 dB by ~6e-4."""
    pcm, _ = read_wav("vctk_p238_165.wav")
    audio = fit_window(pcm.astype(np.float32) / 32768.0)
    np.testing.assert_allclose(log_mel(audio), log_mel(audio * 0.1), atol=2e-3)
    with pytest.raises(ValueError, match="128000"):
        log_mel(audio[:-1])
    assert fit_window(np.ones(WINDOW_SAMPLES + 5, np.float32)).size == WINDOW_SAMPLES


@pytest.fixture(scope="module")
def model() -> SmartTurn:
    return SmartTurn()


@pytest.mark.parametrize(
    ("clip", "cut_s", "said"),
    [
        ("vctk_p238_165.wav", 1.9, "The arrangement will"),
        ("ljspeech_LJ001-0005.wav", 5.06, "The invention of movable metal letters … may justly"),
    ],
)
def test_complete_at_the_end_incomplete_mid_phrase(model, clip, cut_s, said):
    pcm, _ = read_wav(clip)
    assert model.probability(np.concatenate([pcm, TAIL])) > 0.9
    assert model.probability(np.concatenate([pcm[: int(cut_s * 16000)], TAIL])) < 0.2, said
    assert model.last_ms > 0


def test_a_missing_model_names_its_package(monkeypatch, tmp_path, caplog):
    with pytest.raises(TurnModelNotFoundError, match="does not exist"):
        resolve_turn_model(str(tmp_path / "nope.onnx"))
    monkeypatch.setattr(turn_model, "_IN_PACKAGE", ("pipecat", "no/such/model.onnx"))
    with pytest.raises(TurnModelNotFoundError, match="pip install --no-deps pipecat-ai"):
        resolve_turn_model()
    # The voice loop goes on without it: semantic_vad decides from the transcript, and says so.
    turn_model._shared_model.cache_clear()
    monkeypatch.setattr(turn_model, "_missing_logged", False)
    try:
        with caplog.at_level(logging.WARNING, logger=turn_model.__name__):
            assert turn_model.load_turn_model() is None
        assert "pipecat-ai" in caplog.text and "transcript rule" in caplog.text
    finally:
        turn_model._shared_model.cache_clear()


# -- the detector's rules (no model) --------------------------------------------------------

SPEECH, QUIET = 1.0, 0.0


def _pause(detector: TurnDetector, speech_ms: int = 640, quiet_ms: int = 128) -> list[str]:
    frames = [SPEECH] * (speech_ms // 32) + [QUIET] * (quiet_ms // 32)
    return [e.kind for e in detector.feed(frames)]


def _quiet_until_stop(detector: TurnDetector, limit_ms: int = 10000) -> int:
    """Feed quiet frames until the turn stops; the quiet it took, in ms."""
    for n in range(limit_ms // 32):
        if any(e.kind == "stopped" for e in detector.feed([QUIET])) or detector.check_window():
            return (n + 1) * 32
    return limit_ms


def semantic(eagerness: str = "medium", **kw) -> TurnDetector:
    return TurnDetector(32, {"type": "semantic_vad", "eagerness": eagerness}, model=True, **kw)


def _answer(detector: TurnDetector, *probabilities: float) -> int:
    """Feed quiet; answer each scoring request with the next probability (the last one again
    when they run out) until the pause's verdict is in. The quiet it took."""
    quiet, answers = 0, list(probabilities)
    while detector.awaiting_model:
        while not (requests := detector.take_score_requests()):
            detector.feed([QUIET])
            quiet += 32
        assert len(requests) == 1
        detector.use_turn_probability(answers.pop(0) if len(answers) > 1 else answers[0])
    return quiet


def test_the_turn_waits_for_the_model_then_ends_soon_when_complete():
    detector = semantic(model_points_ms=(200, 400))
    assert _pause(detector) == ["started", "paused"]
    assert detector.awaiting_model and detector.take_score_requests() == []
    # Scored once the quiet reaches 200 ms (where pipecat scores) and again at 400 ms.
    assert _quiet_until_stop(detector, 1000) == 1000  # no answer yet: the turn holds
    assert len(detector.take_score_requests()) == 2
    detector.use_turn_probability(0.9)
    assert detector.check_window() is None  # one "complete" of two
    detector.use_turn_probability(0.9)
    assert detector.check_window() is not None  # 200 ms of quiet were already heard


def test_the_model_scores_at_its_points_of_the_pause():
    detector = semantic(model_points_ms=(200, 400))
    _pause(detector, quiet_ms=96)
    start = detector.now_ms - 96
    detector.feed([QUIET] * 4)
    assert detector.take_score_requests() == [start + 200]
    detector.use_turn_probability(0.9)  # complete once: still waiting for the second point
    assert detector.awaiting_model and detector.check_window() is None
    detector.feed([QUIET] * 6)
    assert detector.take_score_requests() == [start + 400]
    detector.use_turn_probability(0.8)
    assert not detector.awaiting_model and detector.check_window() is not None


def test_one_incomplete_point_holds_the_turn():
    detector = semantic(model_points_ms=(200, 400))
    _pause(detector, quiet_ms=96)
    quiet = 96 + _answer(detector, 0.9, 0.1)
    assert _quiet_until_stop(detector) + quiet == pytest.approx(4000, abs=64)


def test_incomplete_waits_up_to_the_ceiling():
    for eagerness, ceiling in (("high", 2000), ("medium", 4000), ("low", 8000)):
        detector = semantic(eagerness)
        _pause(detector, quiet_ms=96)
        detector.use_turn_probability(0.05)
        assert _quiet_until_stop(detector) == pytest.approx(ceiling - 96, abs=64)


def test_eagerness_sets_the_threshold():
    assert semantic("high").model_threshold < semantic("medium").model_threshold
    assert semantic("medium").model_threshold < semantic("low").model_threshold
    detector = semantic("low")
    _pause(detector, quiet_ms=96)
    detector.use_turn_probability(0.6)  # complete for medium, not for low
    assert _quiet_until_stop(detector) > 4000


def test_resumed_speech_drops_the_answer():
    detector = semantic()
    _pause(detector)
    detector.expect_model()
    detector.use_turn_probability(0.95)
    kinds = [e.kind for e in detector.feed([SPEECH] * 3)]
    assert kinds == ["resumed"] and detector.turn_probability is None
    assert not detector.awaiting_model


def test_transcript_is_a_second_signal():
    """Model says done, the transcript ends on "and": the unsure window, not the short one;
    without the second signal, the short one."""
    for signal, expected in ((True, 1200), (False, 200)):
        detector = semantic(transcript_signal=signal, model_points_ms=(200,))
        _pause(detector, quiet_ms=96)
        detector.use_transcript("I would like a table for four and", final=True)
        quiet = 96 + _answer(detector, 0.9)
        assert _quiet_until_stop(detector) + quiet == pytest.approx(expected, abs=64)


def test_model_failure_falls_back_to_the_transcript():
    detector = semantic()
    _pause(detector, quiet_ms=96)
    detector.expect_model()
    detector.use_transcript("Turn on the lights.", final=True)
    detector.use_turn_probability(None)
    assert _quiet_until_stop(detector) + 96 == pytest.approx(400, abs=64)  # complete: medium


def test_server_vad_ignores_the_model():
    detector = TurnDetector(32, {"type": "server_vad"}, model=True)
    assert not detector.uses_model
    _pause(detector, quiet_ms=96)
    detector.expect_model()
    assert not detector.awaiting_model
    assert _quiet_until_stop(detector) + 96 == pytest.approx(500, abs=64)


def test_the_model_is_loaded_at_start_up_not_on_the_event_loop():
    """`voice.turn_model: true` loads the model when the voice runtime is built (start-up), so a
    session asking for semantic_vad finds it loaded; off, nothing is loaded."""
    from ovos_realtime.voice.runtime import VoiceRuntime

    turn_model._shared_model.cache_clear()
    try:
        VoiceRuntime(engines=None, turn_model=False).shutdown()  # type: ignore[arg-type]
        assert turn_model._shared_model.cache_info().currsize == 0
        VoiceRuntime(engines=None, turn_model=True).shutdown()  # type: ignore[arg-type]
        assert turn_model._shared_model.cache_info().currsize == 1
    finally:
        turn_model._shared_model.cache_clear()
