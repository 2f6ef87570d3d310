"""Where a spoken turn's time went, read from the server's DEBUG lines (bench/_serve_logged.py
stamps each with its epoch time). Only lines the server already writes are used:

- the voice pipeline: "transcript of X s audio in N ms" (each STT peek/finish decode)
- the embedded LLM: "first token in N ms" (prompt read → first token)
- the STT plugin (when it has it): "peek: waited N ms, decoded X s … (encoder E ms)" (the
  pause's decode, and the encoder's share of it when the line gives it)
- the TTS plugin: "… synthesized W words: A s audio in N ms" (one clause)

A checkout whose server lacks a line gives null for that stage, not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"^(\d+\.\d+) (\w+) ([\w.]+): (.*)$")
_STT = re.compile(r"transcript of ([\d.]+) s audio in (\d+) ms")
_LLM = re.compile(r"first token in (\d+) ms")
# The STT plugin's own line for a pause's decode (what it waited for, how much audio it decoded).
_PEEK = re.compile(r"peek: waited (\d+) ms, decoded ([\d.]+) s(?:.*\(encoder (\d+) ms\))?")
_TTS = re.compile(r"synthesized (\d+) words: ([\d.]+) s audio in (\d+) ms")


@dataclass
class Mark:
    t: float  # epoch seconds at which the line was written (the end of the stage)
    ms: float  # the stage's own duration, as the line says
    detail: float = 0.0  # STT: seconds of audio decoded; TTS: words
    encoder_ms: float | None = None  # the pause's decode: its encoder's share


def read_marks(path: str | Path) -> dict[str, list[Mark]]:
    marks: dict[str, list[Mark]] = {"stt": [], "peek": [], "llm": [], "tts": []}
    for line in Path(path).read_text(errors="replace").splitlines():
        if not (parsed := _LINE.match(line)):
            continue
        t, message = float(parsed[1]), parsed[4]
        if found := _STT.search(message):
            marks["stt"].append(Mark(t, float(found[2]), float(found[1])))
        elif found := _PEEK.search(message):
            encoder = float(found[3]) if found[3] else None
            marks["peek"].append(Mark(t, float(found[1]), float(found[2]), encoder))
        elif found := _LLM.search(message):
            marks["llm"].append(Mark(t, float(found[1])))
        elif found := _TTS.search(message):
            marks["tts"].append(Mark(t, float(found[3]), float(found[1])))
    return marks


def _last(marks: list[Mark], after: float, before: float) -> Mark | None:
    inside = [m for m in marks if after <= m.t <= before]
    return inside[-1] if inside else None


def turn_stages(marks: dict[str, list[Mark]], speech_end: float, first_audio: float) -> dict:
    """The stages of the answer whose first audio reached the client at `first_audio`, all after
    the user's last speech sample (`speech_end`), walked back from the audio (one session only:
    the lines do not all name their session).

    - tts_first_chunk_ms: synthesis of the first clause (the last clause done before the audio)
    - llm_first_token_ms: prompt read → first token (the last one before that clause started)
    - first_clause_ms: first token → the first clause handed to the TTS (LLM words + chunker)
    - stt_final_ms: the last STT decode finished before the LLM started, and its audio length
    """
    out: dict = {
        "stt_final_ms": None,
        "stt_final_audio_s": None,
        "stt_decodes": None,
        "stt_peek_wait_ms": None,
        "stt_peek_decoded_s": None,
        "stt_encoder_ms": None,
        "llm_first_token_ms": None,
        "first_clause_ms": None,
        "tts_first_chunk_ms": None,
    }
    tts = _last(marks["tts"], speech_end, first_audio)
    if tts is None:
        return out
    out["tts_first_chunk_ms"] = tts.ms
    tts_start = tts.t - tts.ms / 1000
    llm = _last(marks["llm"], speech_end - 1.0, tts_start + 0.005)
    if llm is None:
        return out
    out["llm_first_token_ms"] = llm.ms
    out["first_clause_ms"] = round(max(0.0, tts_start - llm.t) * 1000, 1)
    llm_start = llm.t - llm.ms / 1000
    stt = _last(marks["stt"], speech_end - 2.0, llm_start + 0.005)
    if stt is not None:
        out["stt_final_ms"] = stt.ms
        out["stt_final_audio_s"] = stt.detail
        if (peek := _last(marks["peek"], stt.t - 0.05, stt.t)) is not None:
            out["stt_peek_wait_ms"] = peek.ms
            out["stt_peek_decoded_s"] = peek.detail
            out["stt_encoder_ms"] = peek.encoder_ms
    out["stt_decodes"] = sum(1 for m in marks["stt"] if speech_end - 2.0 <= m.t <= first_audio)
    return out
