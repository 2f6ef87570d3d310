"""Streaming text → clauses, so a satellite can speak the first clause while the rest streams."""

from __future__ import annotations

import re

# A sentence end, or a clause break (, ; :) once the clause has a few words.
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*\s")
_CLAUSE_BREAK = re.compile(r"[,;:]\s")
MIN_CLAUSE_WORDS = 4
MAX_CLAUSE_WORDS = 15  # text without punctuation is still spoken as it streams
_WORD = re.compile(r"\S+\s+")


class ClauseSplitter:
    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, delta: str) -> list[str]:
        self._buffer += delta
        out = []
        while True:
            cut = self._next_cut()
            if cut is None:
                return out
            clause, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:]
            if clause:
                out.append(clause)

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []

    def _next_cut(self) -> int | None:
        end = _SENTENCE_END.search(self._buffer)
        for brk in _CLAUSE_BREAK.finditer(self._buffer):
            if end is not None and brk.start() > end.start():
                break
            if len(self._buffer[: brk.start()].split()) >= MIN_CLAUSE_WORDS:
                return brk.end()
        if end is not None:
            return end.end()
        words = list(_WORD.finditer(self._buffer))
        return words[MAX_CLAUSE_WORDS - 1].end() if len(words) >= MAX_CLAUSE_WORDS else None
