"""Split text (all at once or as LLM token increments) into speakable pieces.

The first piece is short so the first audio comes early: the first clause of at least
`first_min_words` words, or, when the opening runs longer than `first_max_words`, its first words
up to a phrase boundary (before "that", "to", "the"…), where a speaker could pause. Later pieces
are whole sentences, which sound more natural. Sentences longer than `max_chars` are cut at
clause boundaries. A piece that ends mid-sentence ends with a word, not punctuation: the
synthesizer joins it to the next one without a pause.

With a `pace` (the synthesizer's expected real-time factor, e.g. 0.8 for Kokoro on 2 cores), the
later pieces are also sized so that each one is synthesized before the audio already queued has
played: a piece of w words may be synthesized while the words queued before it play, so piece k
gets at most (words of pieces 1..k-1) / pace − (words of pieces 2..k-1) words (speech time taken
as proportional to words). Pieces grow 5, 6, 7, 9, 11… words at pace 0.8, instead of a
first clause followed by a whole sentence whose synthesis outlasts it (a stutter).
"""

from __future__ import annotations

import logging
import re

LOG = logging.getLogger(__name__)

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) before whitespace.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n+")
# A clause ends at , ; : or a dash before whitespace.
_CLAUSE_END = re.compile(r"(?:[,;:]|\s[—–-])(?=\s)")
_COMPLETE_WORD = re.compile(r"\S+(?=\s)")  # a word followed by a space: the LLM wrote it all
# Words that end with a period but do not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "no",
    "mt", "ft", "approx", "inc", "ltd", "co", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "a.m", "p.m",
}  # fmt: skip

# Words that start a phrase: cutting before one splits a sentence where speech can pause.
_PHRASE_STARTS = {
    "and", "but", "or", "so", "because", "that", "which", "who", "when", "where", "if", "while",
    "to", "of", "in", "on", "at", "for", "with", "from", "by", "about", "as", "into", "than",
    "the", "a", "an", "is", "are", "was", "were", "will", "would", "can", "could", "should",
}  # fmt: skip


def _words(text: str) -> int:
    return len(text.split())


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the '.' ending at `end` belongs to an abbreviation or an initial ("J.")."""
    if text[end - 1] != ".":
        return False
    word = text[:end].split()[-1].rstrip(".").lower() if text[:end].split() else ""
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


class ClauseChunker:
    """Feed text increments, get back ready pieces; `flush()` at the end returns the rest.

    >>> c = ClauseChunker()
    >>> c.feed("Sure, I can help with that. It will")
    ['Sure, I can help', 'with that.']
    >>> c.feed(" take a minute. ") + c.flush()
    ['It will take a minute.']
    """

    def __init__(
        self,
        first_min_words: int = 3,
        first_max_words: int = 5,
        max_chars: int = 250,
        pace: float | None = None,
    ) -> None:
        self.first_min_words = first_min_words
        self.first_max_words = first_max_words
        self.max_chars = max_chars
        self.pace = pace
        self._buf = ""
        self._emitted = 0  # pieces returned so far
        self._words: list[int] = []  # words of each piece returned so far

    def reset(self) -> None:
        self._buf = ""
        self._emitted = 0
        self._words = []

    def paced_limit(self) -> int | None:
        """The most words the next piece may have to be synthesized before the queued audio
        has played (None: no pace, or the first piece)."""
        if self.pace is None or not self._words:
            return None
        queued = sum(self._words) / self.pace - sum(self._words[1:])
        return max(self.first_max_words, int(queued))

    def feed(self, text: str) -> list[str]:
        """Add a text increment; return the pieces that are complete now."""
        self._buf += text
        out: list[str] = []
        while True:
            cut = self._next_cut()
            if cut is None:
                break
            piece, self._buf = self._buf[:cut].strip(), self._buf[cut:]
            if piece:
                out.append(piece)
                self._emitted += 1
                self._words.append(_words(piece))
        return out

    @property
    def buffered_words(self) -> int:
        """Complete words held back, waiting for their piece to end."""
        return len(_COMPLETE_WORD.findall(self._buf))

    def cut(self, min_words: int = 2) -> list[str]:
        """The complete words held back, as a piece now, before their sentence ends: the
        caller's playback is about to run dry (the LLM writes the sentence slower than the
        pieces before it play). The piece ends at a clause end or before a phrase-starting word
        among its last three words, else after the last complete word. Nothing before the first
        piece (it has its own rule) or with fewer than `min_words` complete words.

        >>> c = ClauseChunker(first_min_words=1)
        >>> c.feed("Well, the printers of that time who ")
        ['Well,']
        >>> c.cut()
        ['the printers of that time']
        """
        complete = list(_COMPLETE_WORD.finditer(self._buf))
        if self._emitted == 0 or len(complete) < min_words:
            return []
        cut = complete[-1].end()
        for count in range(len(complete), max(min_words, len(complete) - 2) - 1, -1):
            word = complete[count - 1].group()
            if word[-1] in ",;:":
                cut = complete[count - 1].end()
                break
            if count < len(complete) and word[-1].isalnum():
                next_word = re.sub(r"[^\w']", "", complete[count].group()).lower()
                if next_word in _PHRASE_STARTS:
                    cut = complete[count - 1].end()
                    break
        piece, self._buf = self._buf[:cut].strip(), self._buf[cut:]
        self._emitted += 1
        self._words.append(_words(piece))
        return [piece]

    def flush(self) -> list[str]:
        """Return whatever is left (the text ended)."""
        out = self.feed("\n")  # a newline ends the last sentence
        rest = self._buf.strip()
        self._buf = ""
        if rest:
            out.append(rest)
            self._emitted += 1
            self._words.append(_words(rest))
        return out

    def _next_cut(self) -> int | None:
        buf = self._buf
        sentence_end = self._sentence_end(buf)
        if self._emitted == 0:
            return self._first_cut(buf, sentence_end)
        limit = self.paced_limit()
        if limit is not None and _words(buf[:sentence_end]) > limit:
            paced = self._cut_within(buf, sentence_end, limit)
            if paced is not None:
                return paced
        if sentence_end is not None and sentence_end <= self.max_chars:
            return sentence_end
        if len(buf) > self.max_chars:
            # Overlong sentence: cut at the last clause boundary (else the last space) in range.
            clause_ends = [m.end() for m in _CLAUSE_END.finditer(buf, 0, self.max_chars)]
            if clause_ends:
                return clause_ends[-1]
            space = buf.rfind(" ", 0, self.max_chars)
            return space if space > 0 else self.max_chars
        return sentence_end

    def _first_cut(self, buf: str, sentence_end: int | None) -> int | None:
        """The first piece: the first clause with enough words, else the first sentence,
        but never more than `first_max_words` words (a long opening must not hold back audio):
        a longer one is cut before a phrase-starting word, else after `first_max_words`."""
        cut = sentence_end
        for m in _CLAUSE_END.finditer(buf):
            if sentence_end is not None and m.end() > sentence_end:
                break
            if _words(buf[: m.end()]) >= self.first_min_words:
                cut = m.end()
                break
        if cut is not None and _words(buf[:cut]) <= self.first_max_words:
            return cut
        complete_words = list(re.finditer(r"\S+(?=\s)", buf))
        last = min(self.first_max_words, len(complete_words) - 1)
        for count in range(self.first_min_words, last + 1):
            next_word = re.sub(r"[^\w']", "", complete_words[count].group()).lower()
            if next_word in _PHRASE_STARTS and complete_words[count - 1].group()[-1].isalnum():
                return complete_words[count - 1].end()
        # A cut after `first_max_words` does not depend on the word after it: once that many
        # words are written it is final (the LLM's next word is not waited for).
        if len(complete_words) >= self.first_max_words:
            return complete_words[self.first_max_words - 1].end()
        return None

    def _cut_within(self, buf: str, sentence_end: int | None, limit: int) -> int | None:
        """A cut within `limit` words of a sentence that runs longer: the last clause end, else
        before the last phrase-starting word, else after `limit` words. None: wait for more."""
        head = buf[:sentence_end]
        complete_words = list(
            re.finditer(r"\S+(?=\s)", head if sentence_end is None else head + " ")
        )
        if len(complete_words) <= limit:
            return None  # the limit's word is not complete yet
        within = complete_words[limit - 1].end()
        clause_ends = [
            m.end()
            for m in _CLAUSE_END.finditer(buf, 0, within)
            if _words(buf[: m.end()]) >= self.first_min_words
        ]
        if clause_ends:
            return clause_ends[-1]
        for count in range(limit, self.first_min_words - 1, -1):
            next_word = re.sub(r"[^\w']", "", complete_words[count].group()).lower()
            if next_word in _PHRASE_STARTS and complete_words[count - 1].group()[-1].isalnum():
                return complete_words[count - 1].end()
        return within

    @staticmethod
    def _sentence_end(buf: str) -> int | None:
        for m in _SENTENCE_END.finditer(buf):
            if m.group().startswith("\n") or not _is_abbreviation(buf, m.end()):
                return m.end()
        return None

    @classmethod
    def split(cls, text: str, **kwargs: int) -> list[str]:
        """All pieces of a complete text."""
        chunker = cls(**kwargs)
        return chunker.feed(text) + chunker.flush()
