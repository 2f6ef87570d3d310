"""LocalAgreement-n: commit the word prefix on which the last n decodes agree (n=2 is the classic).

Committed words never change, so each partial is a prefix of every later partial and the final.
Times are absolute seconds from the start of the stream.
"""

from __future__ import annotations

import logging
import re

from .engine import Word

LOG = logging.getLogger(__name__)

_NON_WORD = re.compile(r"[^\w']+")
# The committed words' end is found in a later decode by this many of their last words, ended
# within this many seconds of where they were committed.
_ALIGN_WORDS, _ALIGN_S = 3, 1.0


def word_key(text: str) -> str:
    # Agreement ignores case and punctuation, so "hello," and "Hello" count as the same word.
    return _NON_WORD.sub("", text.lower())


def _key(word: Word) -> str:
    return word_key(word.text)


class LocalAgreement:
    def __init__(self, n: int = 2) -> None:
        self.n = max(2, n)
        self._history: list[list[Word]] = []  # uncommitted tails of the last n-1 hypotheses
        self.committed: list[Word] = []  # everything committed so far
        self.committed_in_window: list[Word] = []  # committed words still inside the audio window
        self.last_committed_time = 0.0
        self._new: list[Word] = []

    def insert(self, words: list[Word]) -> None:
        """Take a fresh hypothesis (absolute times), dropping words already committed."""
        self._new = self.fresh(words, self.committed_in_window, self.last_committed_time)

    @staticmethod
    def fresh(words: list[Word], in_window: list[Word], last_committed_time: float) -> list[Word]:
        """`words` (absolute times) minus those already committed (`in_window`, ending at
        `last_committed_time`)."""
        at = _end_of_committed(words, in_window, last_committed_time)
        if at is not None:
            return words[at:]
        new = [w for w in words if w.start > last_committed_time - 0.1]
        if new and in_window and abs(new[0].start - last_committed_time) < 1:
            # Whisper often repeats the last committed words at the window start: drop the overlap.
            for n in range(min(len(in_window), len(new), 5), 0, -1):
                tail = [_key(w) for w in in_window[-n:]]
                head = [_key(w) for w in new[:n]]
                if tail == head:
                    new = new[n:]
                    break
        return new

    def flush(self, until: float = float("inf")) -> list[Word]:
        """Commit the prefix common to the new and the last n-1 hypotheses (words ending by `until`)."""
        commit: list[Word] = []
        if len(self._history) >= self.n - 1:
            for i, word in enumerate(self._new):
                if word.end > until:
                    break
                if not all(i < len(h) and _key(h[i]) == _key(word) for h in self._history):
                    break
                commit.append(word)
        if commit:
            self.last_committed_time = commit[-1].end
            self.committed.extend(commit)
            self.committed_in_window.extend(commit)
        # Every kept hypothesis starts with the committed words: drop them, keep the last n-1.
        kept = [h[len(commit) :] for h in self._history] + [self._new[len(commit) :]]
        self._history = kept[-(self.n - 1) :]
        self._new = []
        return commit

    def pending(self) -> list[Word]:
        """The latest uncommitted hypothesis."""
        return list(self._history[-1]) if self._history else []

    def drop_before(self, time: float) -> None:
        """The audio window now starts at `time`: committed words before it leave the window."""
        self.committed_in_window = [w for w in self.committed_in_window if w.end > time]

    def commit_all(self, words: list[Word]) -> None:
        if words:
            self.committed.extend(words)
            self.committed_in_window.extend(words)
            self.last_committed_time = words[-1].end


def _end_of_committed(
    words: list[Word], in_window: list[Word], last_committed_time: float
) -> int | None:
    """Where in `words` the committed ones end, found by their last words, written alike and
    timed near where they were committed: a later decode may time them earlier, and the word
    after them then starts before the committed end ("the" committed ending at 17.56 s, timed
    17.20-17.42 the next time, "shapliness" from 17.42), which the time rule took for
    committed. None: not found (then the time rule decides)."""
    n = min(_ALIGN_WORDS, len(in_window))
    if n < 2:
        return None
    tail = [_key(w) for w in in_window[-n:]]
    keys = [_key(w) for w in words]
    found = [
        i + n
        for i in range(len(words) - n + 1)
        if keys[i : i + n] == tail and abs(words[i + n - 1].end - last_committed_time) < _ALIGN_S
    ]
    return min(found, key=lambda j: abs(words[j - 1].end - last_committed_time), default=None)


def join_words(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()
