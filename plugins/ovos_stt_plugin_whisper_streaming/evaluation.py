"""Word error rate with a normalizer suited to Whisper output (used by the tests and bench)."""

from __future__ import annotations

import logging
import re

LOG = logging.getLogger(__name__)

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + (" " + number_words(rest) if rest else "")
    if 1100 <= n < 2000 and n % 100:  # years are read in pairs: 1465 → fourteen sixty five
        return number_words(n // 100) + " " + number_words(n % 100)
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return number_words(n // size) + " " + name + (" " + number_words(rest) if rest else "")
    return str(n)


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return (head + " " + last).strip()


def _spell_numbers(text: str) -> str:
    """Digits as words: 3 → three, 1961 → nineteen sixty one, 15th → fifteenth, 2.5 → two point
    five, 50% → fifty percent."""

    def repl(match: re.Match) -> str:
        whole, fraction, suffix, percent = match.groups()
        words = number_words(int(whole.replace(",", "")))
        if suffix:
            words = _ordinal(words)
        if fraction:
            words += " point " + " ".join(_ONES[int(d)] for d in fraction)
        return " " + words + (" percent" if percent else "") + " "

    return re.sub(r"(\d+(?:,\d{3})*)(?:\.(\d+))?(st|nd|rd|th)?\b(\s*%)?", repl, text)


# Contractions are expanded so "I'm" and "I am" count as the same words. "'s" is only expanded
# after pronouns and question words ("John's" is a possessive); "'d" is read as "would".
_CONTRACTIONS = {
    "can't": "can not",
    "cannot": "can not",
    "won't": "will not",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "'em": "them",
    "y'all": "you all",
    "et cetera": "etc",  # one word said, two ways to write it
}
_IS = "it he she that what there here who where when how why"
_SUFFIXES = (
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"\b(\w+)'re\b"), r"\1 are"),
    (re.compile(r"\b(\w+)'ve\b"), r"\1 have"),
    (re.compile(r"\b(\w+)'ll\b"), r"\1 will"),
    (re.compile(r"\b(\w+)'d\b"), r"\1 would"),
    (re.compile(rf"\b({'|'.join(_IS.split())})'s\b"), r"\1 is"),
)
_WHOLE = re.compile(r"(?<![\w'])(" + "|".join(re.escape(c) for c in _CONTRACTIONS) + r")(?![\w'])")


def _expand_contractions(text: str) -> str:
    """Lowercase text with its contractions written out (i'm → i am, don't → do not)."""
    text = _WHOLE.sub(lambda m: _CONTRACTIONS[m.group(1)], text)
    for pattern, repl in _SUFFIXES:
        text = pattern.sub(repl, text)
    return text


def normalize(text: str) -> str:
    """Lowercase, contractions expanded, numbers spelled out, hyphens split, punctuation dropped."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = _expand_contractions(_spell_numbers(text))
    text = text.replace("-", " ")
    text = re.sub(r"[^\w\s']", " ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)  # quotes and stray apostrophes
    return " ".join(text.split())


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def word_error_rate(refs: list[str], hyps: list[str]) -> float:
    """Corpus WER: total edits over total reference words, after normalize()."""
    errors = words = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        r, h = normalize(ref).split(), normalize(hyp).split()
        errors += edit_distance(r, h)
        words += len(r)
    return errors / max(words, 1)
