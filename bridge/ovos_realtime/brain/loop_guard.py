"""Loop guard: notices when a generated answer starts repeating itself, so the brain can end it.

Small models at low temperature fall into loops ("mon ami, mon ami, mon ami, …") that would
otherwise run to the token limit and be spoken in full. The guard reads the answer as it streams
and says the answer is looping when

- a three-word sequence comes back a third time within the last `WINDOW` words (the answer-quality
  benchmark's definition of a loop), or
- the text ends in one short unit repeated over `RUN_CHARS` characters with no space ("!!!!!…",
  "hahaha…"), which has no words to count.

Words are compared lower-cased, without punctuation. Protocol-free: the caller decides what
ending a looping answer means to its client.
"""

import re
from collections import deque

NGRAM = 3  # words in a sequence
REPEATS = 3  # occurrences of one sequence that make a loop
WINDOW = 60  # words looked back over (a spoken answer's length)
RUN_CHARS = 48  # a spaceless repeated run this long is a loop

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_RUN = re.compile(r"(\S{1,8}?)\1{5,}$")


def words_of(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


class LoopGuard:
    """Feed it the answer's text as it streams; `looping` turns true when it repeats itself."""

    def __init__(self) -> None:
        self._tail = ""  # text of the word not finished yet
        self._recent = ""  # the last characters, for spaceless runs
        self._words: deque[str] = deque(maxlen=WINDOW)
        self.looping = False
        self.repeated = ""  # the sequence (or run) that repeated, for the log

    def feed(self, text: str) -> bool:
        """Add streamed text; True once the answer is looping (and from then on)."""
        if self.looping or not text:
            return self.looping
        self._tail += text
        # Only complete words count: the last one may still grow ("mon" → "monde").
        cut = max(self._tail.rfind(c) for c in " \n\t.,;:!?")
        if cut >= 0:
            for word in words_of(self._tail[: cut + 1]):
                self._add(word)
            self._tail = self._tail[cut + 1 :]
        self._recent = (self._recent + text)[-RUN_CHARS * 2 :]
        if not self.looping and len(self._recent) >= RUN_CHARS:
            run = _RUN.search(self._recent)
            if run and len(run.group(0)) >= RUN_CHARS:
                self.looping, self.repeated = True, run.group(1)
        self._tail = self._tail[-RUN_CHARS * 2 :]
        return self.looping

    def _add(self, word: str) -> None:
        self._words.append(word)
        if len(self._words) < NGRAM or self.looping:
            return
        words = list(self._words)
        last = tuple(words[-NGRAM:])
        count = sum(1 for i in range(len(words) - NGRAM + 1) if tuple(words[i : i + NGRAM]) == last)
        if count >= REPEATS:
            self.looping, self.repeated = True, " ".join(last)
