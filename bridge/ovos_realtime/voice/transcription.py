"""Streaming transcription from any OVOS STT plugin, with stable partials when it has them."""

import inspect
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ovos_realtime.voice.contracts import (
    AbandonsPeek,
    DetailedSTT,
    JudgesSpeech,
    PeekableSTTStream,
    SpeechEvidence,
    StreamingSTT,
)

log = logging.getLogger(__name__)

RATE = 16000


class Transcription:
    """One utterance: `feed` 16 kHz int16 audio as it arrives, `finish()` (blocking: run it in an
    executor) for the final text. `on_partial(text)` gets the whole stable text so far, from the
    plugin's worker thread; `on_hypothesis(text)`, when the plugin gives them
    (`gives_hypotheses`), each partial decode's whole best guess."""

    def __init__(
        self,
        stt: Any,
        language: str | None,
        on_partial: Callable[[str], None] | None = None,
        prompt: str | None = None,
        on_hypothesis: Callable[[str], None] | None = None,
    ) -> None:
        self.stt = stt
        self.language = language
        self.gives_hypotheses = False
        if isinstance(stt, StreamingSTT):
            more = {}
            if on_hypothesis is not None and _accepts(stt.new_stream, "on_hypothesis"):
                more["on_hypothesis"] = on_hypothesis
                self.gives_hypotheses = True
            self._stream = stt.new_stream(
                language=language, sample_rate=RATE, prompt=prompt, on_partial=on_partial, **more
            )
            self._audio: list[np.ndarray] | None = None
        else:  # a plain OVOS STT: batch at the end
            self._stream = None
            self._audio = []

    def feed(self, samples: np.ndarray) -> None:
        if self._stream is not None:
            self._stream.feed(samples.astype(np.int16).tobytes())
        else:
            self._audio.append(samples.astype(np.int16))

    @property
    def can_peek(self) -> bool:
        """A stream that cannot be asked for its text without ending it cannot be peeked."""
        return self._stream is None or isinstance(self._stream, PeekableSTTStream)

    def peek(self) -> str:
        """The final text if the utterance ended now; feeding may go on after it (blocking)."""
        if isinstance(self._stream, PeekableSTTStream):
            return (self._stream.peek() or "").strip()
        return self._batch()

    def abandon_peek(self) -> None:
        """The speaker went on: the STT may stop a peek under way (its text is not used)."""
        if isinstance(self._stream, AbandonsPeek):
            self._stream.abandon_peek()

    @property
    def speech_evidence(self) -> SpeechEvidence | None:
        """The STT's judgement of the last peek/finish's audio (no_speech_prob, avg_logprob,
        words); None before one or when the plugin does not say."""
        if isinstance(self._stream, JudgesSpeech):
            return self._stream.speech_evidence
        return None

    def finish(self) -> str:
        if self._stream is not None:
            return (self._stream.finish() or "").strip()
        return self._batch()

    def _batch(self) -> str:
        from ovos_plugin_manager.utils.audio import AudioData

        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, np.int16)
        return (self.stt.execute(AudioData(audio.tobytes(), RATE, 2), self.language) or "").strip()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


def _accepts(function: Callable[..., Any], keyword: str) -> bool:
    """An optional keyword of a plugin's API (older plugins and other STTs lack it)."""
    try:
        return keyword in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def transcribe_file(
    stt: Any,
    samples: np.ndarray,
    language: str | None,
    prompt: str | None,
    word_timestamps: bool,
) -> dict[str, Any]:
    """Whole-file transcription with segments (and words when asked), for the REST endpoint."""
    if isinstance(stt, DetailedSTT):
        return stt.transcribe_detailed(
            samples.astype(np.int16),
            sample_rate=RATE,
            language=language,
            prompt=prompt,
            word_timestamps=word_timestamps,
        )
    from ovos_plugin_manager.utils.audio import AudioData

    text = stt.execute(AudioData(samples.astype(np.int16).tobytes(), RATE, 2), language) or ""
    duration = samples.size / RATE
    return {
        "text": text.strip(),
        "language": language,
        "duration": duration,
        "segments": [{"id": 0, "start": 0.0, "end": duration, "text": text.strip()}],
        "words": [],
    }
