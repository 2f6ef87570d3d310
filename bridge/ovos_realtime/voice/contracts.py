"""What the voice loop can use beyond the plain OVOS plugin interfaces, declared.

Any OVOS STT/TTS/VAD plugin works; a plugin that also has one of these shapes (ours do) gets
the faster path: streaming partials and a peek at a pause, per-frame speech probability,
clause-streamed synthesis. Plugins need not import this module: the match is structural.
"""

from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

import numpy as np

TextCallback = Callable[[str], None]


@runtime_checkable
class STTStream(Protocol):
    """One utterance being transcribed while it is spoken."""

    def feed(self, pcm16: bytes) -> None: ...

    def finish(self) -> str: ...

    def close(self) -> None: ...


@runtime_checkable
class PeekableSTTStream(STTStream, Protocol):
    def peek(self) -> str:
        """The final text if the utterance ended now; feeding may go on after it (blocking)."""
        ...


@runtime_checkable
class AbandonsPeek(Protocol):
    def abandon_peek(self) -> None:
        """The speaker went on: a peek under way may stop early (its text is not used)."""
        ...


class SpeechEvidence(Protocol):
    """The STT's own judgement of a peek/finish's audio (faster-whisper's segment scores)."""

    no_speech_prob: float  # P(no speech), 0..1: high for noise, a click, silence
    avg_logprob: float | None  # mean log-probability of the generated tokens (near 0: sure)
    words: int  # words in the text it gave


@runtime_checkable
class JudgesSpeech(Protocol):
    """A stream that says how sure it is that its last peek/finish heard speech."""

    @property
    def speech_evidence(self) -> SpeechEvidence | None: ...


@runtime_checkable
class StreamingSTT(Protocol):
    """`on_partial(text)` gets the whole stable text so far, from the plugin's worker thread."""

    def new_stream(
        self,
        sample_rate: int | None = None,
        language: str | None = None,
        prompt: str | None = None,
        on_partial: TextCallback | None = None,
    ) -> STTStream: ...


@runtime_checkable
class DetailedSTT(Protocol):
    """Whole-file transcription with segments and words: {text, language, duration, segments,
    words}."""

    def transcribe_detailed(
        self,
        pcm: np.ndarray,
        sample_rate: int = 16000,
        language: str | None = None,
        prompt: str | None = None,
        word_timestamps: bool = False,
    ) -> dict[str, Any]: ...


@runtime_checkable
class FrameProbabilities(Protocol):
    def probabilities(self, pcm16: bytes) -> list[float]: ...

    def reset(self) -> None: ...


@runtime_checkable
class FrameVAD(Protocol):
    """A VAD that scores every frame (0..1) instead of answering silence yes/no."""

    def new_frame_vad(self, sample_rate: int | None = None) -> FrameProbabilities: ...


@runtime_checkable
class GainControl(Protocol):
    """A frame detector whose automatic input gain can be switched per stream (None: the
    plugin's own setting)."""

    def set_auto_gain(self, enabled: bool | None) -> None: ...


class Chunker(Protocol):
    def feed(self, text: str) -> list[str]: ...

    def flush(self) -> list[str]: ...


@runtime_checkable
class CutsEarly(Protocol):
    """A chunker that can hand over the words written so far before their piece ends."""

    @property
    def buffered_words(self) -> int: ...

    def cut(self, min_words: int = 2) -> list[str]: ...


@runtime_checkable
class ClauseTTS(Protocol):
    """Synthesis clause by clause: the first clause's audio before the sentence is complete."""

    def chunker(self) -> Chunker: ...

    def synth_stream(
        self, text: str, voice: str | None = None, speed: float | None = None
    ) -> Iterator[np.ndarray]: ...


@runtime_checkable
class VoiceListing(Protocol):
    def voices(self) -> list[str]: ...


@runtime_checkable
class DefersLoading(Protocol):
    """A plugin that reports a missing model at first use (as ovos-audio expects) and can be
    asked now."""

    def ensure_ready(self) -> None: ...
