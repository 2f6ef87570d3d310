"""Quiet speakers are heard from their first word: corpus clips scaled to -65 dBFS average (a
laptop microphone across the room) through the dual VAD's automatic gain, and noise is not
made into speech by it."""

from __future__ import annotations

import numpy as np
import pytest
from ovos_vad_plugin_dual import FRAME_MS, DualVAD, DualVADConfig, SpeechSegmenter, VADConfigError
from ovos_vad_plugin_dual.gain import AutoGain, frame_dbfs

from tests.corpus import manifest, read_wav, speech_rows

RATE = 16000
QUIET_DBFS = -65.0
LEAD_S = 1.0  # the room before the user speaks: a stream never starts on the first syllable


def scale_to(pcm: np.ndarray, dbfs: float) -> np.ndarray:
    """The clip with its average (whole-clip RMS) level at `dbfs`."""
    x = pcm.astype(np.float64)
    rms = np.sqrt(np.mean(x**2)) / 32768
    return np.clip(np.round(x * 10 ** (dbfs / 20) / rms), -32768, 32767).astype(np.int16)


def quiet_room(seconds: float, seed: int) -> np.ndarray:
    """A quiet room recorded at low gain: white noise at -85 dBFS."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(int(seconds * RATE)) * 32768 * 10 ** (-85 / 20)
    return np.round(noise).astype(np.int16)


def start_ms(segmenter: SpeechSegmenter, pcm: np.ndarray) -> int | None:
    """Where the first speech segment starts (prefix padding included), from the clip's start."""
    segmenter.reset()
    audio = np.concatenate([quiet_room(LEAD_S, 1), pcm]).tobytes()
    for i in range(0, len(audio), 3200):  # 100 ms chunks, as a client streams them
        for event in segmenter.feed(audio[i : i + 3200]):
            if event.type == "start":
                return event.audio_start_ms - int(LEAD_S * 1000)
    return None


@pytest.fixture(scope="module")
def clips() -> dict[str, np.ndarray]:
    return {row["file"]: read_wav(row["file"])[0] for row in speech_rows()}


def test_quiet_speech_starts_where_full_level_speech_does(clips):
    segmenter = SpeechSegmenter(DualVADConfig())
    late, delays = {}, []
    for name, pcm in clips.items():
        full = start_ms(segmenter, pcm)
        quiet = start_ms(segmenter, scale_to(pcm, QUIET_DBFS))
        assert full is not None and quiet is not None, name
        delays.append(quiet - full)
        if quiet - full > 150:
            late[name] = (full, quiet)
    # Measured: 37 of 39 clips within 150 ms (median 0), two (LJ001-0001 and arctic a0003,
    # whose first syllables are soft) 160-192 ms; without the gain 35 of 39 are late, by up
    # to 10 s, and one is never heard.
    assert np.median(delays) <= 32, delays
    assert len(late) <= 2 and max(delays) <= 200, late


def test_without_the_gain_quiet_speech_is_found_late(clips):
    """The measurement that the gain is what makes the difference (auto_gain: false)."""
    pcm = clips["ljspeech_LJ001-0005.wav"]
    with_gain = start_ms(SpeechSegmenter(DualVADConfig()), scale_to(pcm, QUIET_DBFS))
    without = start_ms(SpeechSegmenter(DualVADConfig(auto_gain=False)), scale_to(pcm, QUIET_DBFS))
    assert with_gain is not None and with_gain <= 150
    assert without is None or without > with_gain + 1000


def _nonspeech() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    n = RATE * 10
    clips = {row["file"]: read_wav(row["file"])[0] for row in manifest() if not row["text"]}
    clips["white_-50dBFS"] = np.round(rng.standard_normal(n) * 32768 * 10 ** (-50 / 20))
    clips["white_-70dBFS"] = np.round(rng.standard_normal(n) * 32768 * 10 ** (-70 / 20))
    return {k: v.astype(np.int16) for k, v in clips.items()}


def test_the_gain_does_not_make_noise_into_speech():
    """The non-speech clips as recorded and scaled to the quiet level: at most 2 % speech frames
    and no speech segment, though the gain lifts the quiet copies by up to max_gain_db."""
    vad = DualVAD({})
    frames = speech = 0
    for name, pcm in _nonspeech().items():
        for level in (None, QUIET_DBFS):
            audio = pcm if level is None or not pcm.any() else scale_to(pcm, level)
            vad.vad.reset()
            probs = vad.vad.probabilities(audio.tobytes())
            frames += len(probs)
            speech += sum(p >= vad.settings.threshold for p in probs)
            assert not vad.segments(audio.tobytes()), f"speech segment in {name} at {level}"
    assert speech / frames <= 0.02


def test_is_silence_hears_the_quiet_speaker_from_the_first_word(clips):
    """The OVOS API (`is_silence`) gets the same gain: a device using the plugin hears quiet
    users too."""
    pcm = clips["ljspeech_LJ001-0005.wav"]

    def first_speech_ms(vad: DualVAD, clip: np.ndarray) -> int | None:
        vad.reset()
        audio = np.concatenate([quiet_room(LEAD_S, 2), clip]).tobytes()
        chunk = 1024 * 2  # what an OVOS listener hands over per call (64 ms)
        for i in range(0, len(audio), chunk):
            if not vad.is_silence(audio[i : i + chunk]):
                return i // 2 * 1000 // RATE - int(LEAD_S * 1000)
        return None

    full = first_speech_ms(DualVAD({}), pcm)
    quiet = first_speech_ms(DualVAD({}), scale_to(pcm, QUIET_DBFS))
    assert full is not None and quiet is not None and quiet - full <= 150
    off = first_speech_ms(DualVAD({"auto_gain": False}), scale_to(pcm, QUIET_DBFS))
    assert off is None or off - full > 1000


def test_gain_limits():
    gain = AutoGain(FRAME_MS, max_gain_db=40, target_dbfs=-26, noise_ceiling_dbfs=-55)
    quiet_speech = np.full(512, 10 ** (-60 / 20), np.float32)
    assert gain.update(-90.0) == pytest.approx(35.0)  # the floor may rise to -55 dBFS, no more
    assert gain.update(frame_dbfs(quiet_speech)) == pytest.approx(34.0, abs=0.1)
    gain.update(-20.0)  # a loud sound: the gain drops at once
    assert gain.gain_db == 0.0
    gain.reset()
    for _ in range(50):
        gain.update(-40.0)  # steady noise at -40 dBFS is never lifted
    assert gain.gain_db == 0.0
    gain.reset()
    assert gain.update(-100.0) == 40.0  # digital silence: capped by max_gain_db
    loud = np.full(512, 0.5, np.float32)
    assert np.abs(gain.apply(loud)).max() <= 1.0


@pytest.mark.parametrize(
    ("conf", "key"),
    [
        ({"auto_gain": "yes"}, "auto_gain"),
        ({"max_gain_db": 90}, "max_gain_db"),
        ({"noise_ceiling_dbfs": 3}, "noise_ceiling_dbfs"),
    ],
)
def test_gain_settings_are_checked(conf, key):
    with pytest.raises(VADConfigError, match=key):
        DualVAD(conf)


def test_noise_reduction_maps_to_the_gain(clips):
    """GA `audio.input.noise_reduction` / beta `input_audio_noise_reduction`: `near_field` turns
    the gain off (a close-talking microphone), `far_field` on, null keeps the plugin's setting."""
    from ovos_realtime.voice.speech_detector import SpeechDetector

    detector = SpeechDetector(DualVAD({"auto_gain": False}))
    quiet = np.concatenate([quiet_room(LEAD_S, 3), scale_to(clips["ljspeech_LJ001-0005.wav"], -65)])

    def first_speech_ms() -> int | None:
        detector.reset()
        probs = detector.probabilities(quiet)
        hit = next((i for i, p in enumerate(probs) if p >= 0.5), None)
        return None if hit is None else hit * detector.frame_ms - int(LEAD_S * 1000)

    assert detector.set_noise_reduction(None)
    off = first_speech_ms()
    assert detector.set_noise_reduction("far_field")
    on = first_speech_ms()
    assert on is not None and on <= 150 and (off is None or off > on + 1000)
    detector.set_noise_reduction("near_field")
    assert first_speech_ms() == off
