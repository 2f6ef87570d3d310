"""ovos-vad-plugin-dual: registration, speech found, false positives, sample rates, errors."""

from __future__ import annotations

import importlib.metadata
import wave
from pathlib import Path

import numpy as np
import pytest
from ovos_plugin_manager.templates.vad import VADEngine
from ovos_plugin_manager.vad import OVOSVADFactory
from ovos_vad_plugin_dual import (
    FRAME_MS,
    DualVAD,
    DualVADConfig,
    FrameVAD,
    SpeechSegmenter,
    VADConfigError,
    VADModelNotFoundError,
    list_models,
)
from ovos_vad_plugin_dual.resample import resample

from tests.corpus import SPEECH_DIR
from tests.corpus import manifest as corpus_manifest

PLUGIN = "ovos-vad-plugin-dual"
RATE = 16000


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def _at_rate(samples: np.ndarray, rate: int) -> bytes:
    if rate == RATE:
        return samples.tobytes()
    out = resample(samples.astype(np.float32), RATE, rate)
    return np.clip(out, -32768, 32767).astype(np.int16).tobytes()


@pytest.fixture(scope="module")
def manifest() -> list[dict]:
    return corpus_manifest()


@pytest.fixture(scope="module")
def speech_clips(manifest) -> dict[str, np.ndarray]:
    return {m["file"]: _read_wav(SPEECH_DIR / m["file"]) for m in manifest if m["text"]}


@pytest.fixture(scope="module")
def nonspeech_clips(manifest) -> dict[str, np.ndarray]:
    """Recorded non-speech clips of the corpus plus noises generated here (10 s each)."""
    rng = np.random.default_rng(1234)
    n = RATE * 10

    def colored(exponent: float, rms: float) -> np.ndarray:
        spectrum = np.fft.rfft(rng.standard_normal(n))
        freqs = np.fft.rfftfreq(n, 1 / RATE)
        freqs[0] = freqs[1]
        x = np.fft.irfft(spectrum / freqs ** (exponent / 2), n)
        return x / np.sqrt(np.mean(x**2)) * rms

    t = np.arange(n) / RATE
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3, 4)) * 0.05
    generated = {
        "silence": np.zeros(n),
        "white_low": rng.standard_normal(n) * 0.003,
        "white_loud": rng.standard_normal(n) * 0.05,
        "pink": colored(1.0, 0.02),
        "brown": colored(2.0, 0.03),
        "hum_50hz": hum + rng.standard_normal(n) * 0.001,
    }
    clips = {k: (v * 32767).astype(np.int16) for k, v in generated.items()}
    for m in manifest:
        if not m["text"]:
            clips[m["file"]] = _read_wav(SPEECH_DIR / m["file"])
    return clips


@pytest.fixture(scope="module")
def vad16() -> DualVAD:
    return DualVAD({"threshold": 0.5}, sample_rate=RATE)


def _speech_ratio(vad: FrameVAD, pcm: bytes, threshold: float = 0.5) -> float:
    vad.reset()
    probs = vad.probabilities(pcm)
    return float(np.mean([p >= threshold for p in probs]))


# -- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["opm.VAD", "ovos.plugin.VAD"])
def test_entry_point_in_both_groups(group):
    eps = [ep for ep in importlib.metadata.entry_points(group=group) if ep.name == PLUGIN]
    assert len(eps) == 1, f"{PLUGIN} is not registered in {group}"
    assert eps[0].load() is DualVAD


def test_factory_loads_from_mycroft_conf():
    conf = {
        "listener": {
            "sample_rate": 16000,
            "VAD": {"module": PLUGIN, PLUGIN: {"threshold": 0.6, "aggressiveness": 3}},
        }
    }
    assert OVOSVADFactory.get_class(conf) is DualVAD
    vad = OVOSVADFactory.create(conf)
    assert isinstance(vad, DualVAD) and isinstance(vad, VADEngine)
    assert vad.settings.threshold == 0.6 and vad.settings.aggressiveness == 3


# -- speech and non-speech -------------------------------------------------------------------


def test_speech_frames_found_in_public_clips(vad16, speech_clips):
    ratios = {name: _speech_ratio(vad16.vad, pcm.tobytes()) for name, pcm in speech_clips.items()}
    assert min(ratios.values()) > 0.25, ratios
    assert np.mean(list(ratios.values())) > 0.6, ratios
    # Every clip yields at least one complete speech segment.
    for name, pcm in speech_clips.items():
        assert vad16.segments(pcm.tobytes()), name


def test_false_speech_on_nonspeech_at_most_2_percent(vad16, nonspeech_clips):
    speech_frames = total = 0
    for name, pcm in nonspeech_clips.items():
        vad16.vad.reset()
        probs = vad16.vad.probabilities(pcm.tobytes())
        speech_frames += sum(p >= vad16.settings.threshold for p in probs)
        total += len(probs)
        assert not vad16.segments(pcm.tobytes()), f"speech segment found in {name}"
    assert speech_frames / total <= 0.02


def test_leading_silence_of_speech_clips_is_not_speech(vad16, speech_clips):
    # Clips whose first 128 ms is quiet (< -40 dBFS per 32 ms frame) start with room tone.
    frame = RATE * FRAME_MS // 1000
    probs = []
    for pcm in speech_clips.values():
        lead = pcm[: 4 * frame].astype(np.float64).reshape(4, frame) / 32768
        if np.all(20 * np.log10(np.sqrt(np.mean(lead**2, axis=1)) + 1e-9) < -40):
            vad16.vad.reset()
            probs += vad16.vad.probabilities(pcm[: 4 * frame].tobytes())
    assert len(probs) >= 20  # enough clips have a quiet lead-in
    assert np.mean([p >= 0.5 for p in probs]) <= 0.02


@pytest.mark.parametrize("rate", [8000, 16000, 24000])
def test_sample_rates(rate, speech_clips, nonspeech_clips):
    vad = DualVAD({"sample_rate": rate})
    assert vad.sample_rate == rate
    assert vad.frame_bytes == rate * FRAME_MS // 1000 * 2
    names = sorted(speech_clips)[:6]
    ratios = [_speech_ratio(vad.vad, _at_rate(speech_clips[n], rate)) for n in names]
    assert min(ratios) > 0.25 and np.mean(ratios) > 0.6, ratios
    noise = [_speech_ratio(vad.vad, _at_rate(nonspeech_clips[n], rate)) for n in nonspeech_clips]
    assert np.mean(noise) <= 0.02
    # process_frame takes exactly one frame at the input rate.
    vad.reset()
    frame = _at_rate(speech_clips[names[0]], rate)[: vad.frame_bytes]
    assert 0.0 <= vad.process_frame(frame) <= 1.0
    with pytest.raises(ValueError, match="bytes"):
        vad.process_frame(frame[:-2])


# -- OVOS API and segmenter ------------------------------------------------------------------


def test_is_silence_extract_speech_reset(speech_clips):
    vad = DualVAD({})
    pcm = speech_clips["jfk_inaugural_ask_not.wav"]
    silence = np.zeros(RATE, dtype=np.int16)
    audio = np.concatenate([silence, pcm, silence]).tobytes()
    chunk = 1024 * 2  # what an OVOS listener hands over per call
    answers = [vad.is_silence(audio[i : i + chunk]) for i in range(0, len(audio), chunk)]
    assert all(answers[:5]) and not all(answers)
    vad.reset()
    assert vad.is_silence(silence.tobytes())
    speech = vad.extract_speech(audio)
    assert 0.5 * len(pcm) * 2 < len(speech) < len(audio)


def test_segmenter_events_with_prefix_padding(speech_clips):
    cfg = DualVADConfig(prefix_padding_ms=300, min_silence_ms=500, min_speech_ms=250)
    seg = SpeechSegmenter(cfg)
    pcm = speech_clips["vctk_p317_166.wav"]
    alone = FrameVAD(cfg).probabilities(pcm.tobytes())
    onset_ms = next(i for i, p in enumerate(alone) if p >= cfg.threshold) * FRAME_MS
    lead = np.zeros(RATE * 2, dtype=np.int16)
    audio = np.concatenate([lead, pcm, np.zeros(RATE * 2, dtype=np.int16)]).tobytes()
    events = []
    for i in range(0, len(audio), 3200):  # 100 ms chunks
        events += seg.feed(audio[i : i + 3200])
    events += seg.flush()
    kinds = [e.type for e in events]
    assert (
        kinds[0] == "start" and kinds[-1] == "stop" and kinds.count("start") == kinds.count("stop")
    )
    start, stop = events[0], events[-1]
    # Speech is confirmed where it starts in the clip alone, back-dated by the prefix padding.
    assert abs(start.audio_start_ms - (2000 + onset_ms - 300)) <= 2 * FRAME_MS
    assert start.audio  # prefix padding + confirmed speech
    assert stop.audio_end_ms > start.audio_start_ms
    assert stop.audio_end_ms <= 2000 + len(pcm) * 1000 // RATE + 300
    assert len(stop.audio) >= (stop.audio_end_ms - stop.audio_start_ms) * RATE // 1000 * 2


# -- configuration and models ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("conf", "key"),
    [
        ({"aggressiveness": 7}, "aggressiveness"),
        ({"threshold": 1.5}, "threshold"),
        ({"sample_rate": 44100}, "sample_rate"),
        ({"min_silence_ms": -1}, "min_silence_ms"),
        ({"intra_op_num_threads": 0}, "intra_op_num_threads"),
    ],
)
def test_bad_config_names_the_key(conf, key):
    with pytest.raises(VADConfigError, match=key):
        DualVAD(conf)


def test_missing_model_file_says_how_to_fix(tmp_path):
    with pytest.raises(VADModelNotFoundError, match="silero-vad"):
        DualVAD({"model": str(tmp_path / "nope.onnx")})


def test_thread_budget_is_explicit():
    assert DualVAD({}).vad.silero.session.get_session_options().intra_op_num_threads == 1
    two = DualVAD({"intra_op_num_threads": 2})
    assert two.vad.silero.session.get_session_options().intra_op_num_threads == 2


def test_list_models_reports_pypi_silero():
    rows = {r["name"]: r for r in list_models()}
    silero = rows["silero-vad"]
    assert silero["kind"] == "vad" and silero["source"].startswith("pypi:")
    assert silero["path"] and Path(silero["path"]).is_file() and silero["pullable"] is True
    assert set(silero) >= {"name", "kind", "source", "path", "pullable"}


def test_reset_forgets_the_stream(speech_clips):
    """After reset() the same audio gets the same probabilities: the WebRTC gate's noise
    model was kept across reset() and moved where quiet speech was first heard by seconds."""
    vad = FrameVAD(DualVADConfig(auto_gain=False))
    pcm = speech_clips["ljspeech_LJ001-0005.wav"]
    quiet = (pcm.astype(np.float64) * 10 ** (-40 / 20)).round().astype(np.int16).tobytes()
    runs = []
    for _ in range(3):
        vad.reset()
        runs.append(vad.probabilities(quiet))
    assert runs[0] == runs[1] == runs[2]
