"""Speech synthesis from any OVOS TTS plugin, clause by clause."""

import os
import re
import tempfile
import wave
from collections.abc import Iterator
from typing import Any

import numpy as np

from ovos_realtime.voice.contracts import Chunker, ClauseTTS, VoiceListing

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


def new_chunker(tts: Any) -> Chunker:
    """The plugin's clause chunker (short first clause, then sentences) when it has one."""
    return tts.chunker() if isinstance(tts, ClauseTTS) else SimpleChunker()


def synthesize(tts: Any, text: str, voice: str | None, speed: float | None) -> Iterator[np.ndarray]:
    """int16 chunks at `tts_sample_rate(tts)`. Blocking: run it in an executor."""
    if isinstance(tts, ClauseTTS):
        yield from tts.synth_stream(text, voice=voice, speed=speed)
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
    names = tts.voices() if isinstance(tts, VoiceListing) else []
    default = getattr(tts, "voice", None) or (tts.config or {}).get("voice")
    if not names and default:
        names = [default]
    lang = language or getattr(tts, "lang", None) or "en-US"
    return [{"id": name, "name": name, "language": lang} for name in names]
