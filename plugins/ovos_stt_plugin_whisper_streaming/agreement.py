"""LocalAgreement-2: commit the word prefix on which two successive decodes agree.

Committed words never change, so each partial is a prefix of every later partial and the final.
Times are absolute seconds from the start of the stream.
"""

from __future__ import annotations

import logging
import re

from .engine import Word

LOG = logging.getLogger(__name__)

_NON_WORD = re.compile(r"[^\w']+")


def _key(word: Word) -> str:
    # Agreement ignores case and punctuation, so "hello," and "Hello" count as the same word.
    return _NON_WORD.sub("", word.text.lower())


class LocalAgreement:
    def __init__(self) -> None:
        self.committed: list[Word] = []  # everything committed so far
        self.committed_in_window: list[Word] = []  # committed words still inside the audio window
        self.last_committed_time = 0.0
        self._previous: list[Word] = []  # uncommitted tail of the previous hypothesis
        self._new: list[Word] = []

    def insert(self, words: list[Word]) -> None:
        """Take a fresh hypothesis (absolute times), dropping words already committed."""
        new = [w for w in words if w.start > self.last_committed_time - 0.1]
        if new and self.committed_in_window and abs(new[0].start - self.last_committed_time) < 1:
            # Whisper often repeats the last committed words at the window start: drop the overlap.
            for n in range(min(len(self.committed_in_window), len(new), 5), 0, -1):
                tail = [_key(w) for w in self.committed_in_window[-n:]]
                head = [_key(w) for w in new[:n]]
                if tail == head:
                    new = new[n:]
                    break
        self._new = new

    def flush(self) -> list[Word]:
        """Commit the common prefix of the previous and the new hypothesis."""
        commit = []
        while self._new and self._previous and _key(self._new[0]) == _key(self._previous[0]):
            word = self._new.pop(0)
            self._previous.pop(0)
            commit.append(word)
        if commit:
            self.last_committed_time = commit[-1].end
            self.committed.extend(commit)
            self.committed_in_window.extend(commit)
        self._previous, self._new = self._new, []
        return commit

    def inserted(self) -> list[Word]:
        """The hypothesis given to the last insert(), minus committed words (before flush)."""
        return list(self._new)

    def pending(self) -> list[Word]:
        """The latest uncommitted hypothesis."""
        return list(self._previous)

    def drop_before(self, time: float) -> None:
        """The audio window now starts at `time`: committed words before it leave the window."""
        self.committed_in_window = [w for w in self.committed_in_window if w.end > time]

    def commit_all(self, words: list[Word]) -> None:
        if words:
            self.committed.extend(words)
            self.committed_in_window.extend(words)
            self.last_committed_time = words[-1].end


def join_words(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()
