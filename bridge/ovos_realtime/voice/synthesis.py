"""Speech synthesis from any OVOS TTS plugin, clause by clause."""

import os
import re
import tempfile
import wave
from collections.abc import Iterator
from typing import Any

import numpy as np

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class SimpleChunker:
    """Sentence splitter for TTS plugins that bring no chunker of their own."""

    def __init__(self) -> None:
        self._text = ""

    def feed(self, text: str) -> list[str]:
        self._text += text
        parts = _SENTENCE.split(self._text)
        self._text = parts.pop()
        return [p.strip() for p in parts if p.strip()]

    def flush(self) -> list[str]:
        rest, self._text = self._text.strip(), ""
        return [rest] if rest else []


def new_chunker(tts: Any) -> Any:
    """The plugin's clause chunker (short first clause, then sentences) when it has one."""
    chunker = getattr(tts, "chunker", None)
    return chunker() if callable(chunker) else SimpleChunker()


def synthesize(tts: Any, text: str, voice: str | None, speed: float | None) -> Iterator[np.ndarray]:
    """int16 chunks at `tts_sample_rate(tts)`. Blocking: run it in an executor."""
    synth_stream = getattr(tts, "synth_stream", None)
    if callable(synth_stream):
        yield from synth_stream(text, voice=voice, speed=speed)
        return
    fd, path = tempfile.mkstemp(suffix=".wav")
    os.close(fd)
    try:
        tts.get_tts(text, path, voice=voice)
        with wave.open(path, "rb") as wav:
            yield np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    finally:
        os.unlink(path)


def list_voices(tts: Any, language: str | None = None) -> list[dict[str, Any]]:
    """Voices as `{id, name, language}`, from the plugin's own listing when it has one."""
    voices = getattr(tts, "voices", None)
    names = voices() if callable(voices) else []
    default = getattr(tts, "voice", None) or (tts.config or {}).get("voice")
    if not names and default:
        names = [default]
    lang = language or getattr(tts, "lang", None) or "en-US"
    return [{"id": name, "name": name, "language": lang} for name in names]
