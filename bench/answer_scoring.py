"""Everyday voice-assistant requests with checkable answers, and the scorer for them.

Shared by `bench/answer_quality.py` (the full set, per model and setting) and
`tests/test_answer_quality.py` (a small fixed subset with a floor). An answer passes when all
four checks pass:

- keyword: it contains one of the expected answers (each a tuple of words that must all appear;
  a tool case instead expects a call of the named tool with the expected argument text);
- no_loop: no three-word sequence occurs three or more times;
- length: at most 60 words, unless the request asks for more;
- language: English, unless the request asks for another language (a heuristic: no letters of a
  non-Latin script, and fewer than two words that are common in French, Spanish, German,
  Italian or Portuguese and not English words).

The loop check is written here independently of the product's loop guard, so the benchmark
measures the guard rather than trusting it.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from tests.realtime_helpers import TIMER_TOOL, WEATHER_TOOL

MAX_SPOKEN_WORDS = 60

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# Frequent function words of other Latin-script languages that are not English words.
_FOREIGN = frozenset(
    "le les et est une des du je tu vous nous avec pour pas mon ma mes oui très c'est "
    "el los las y una del por para con muy está gracias señor "
    "und der das ist nicht ich ein eine mit sie auf "
    "il che della sono non per anche questo "
    "não você uma com é são".split()
)


@dataclass(frozen=True)
class Case:
    id: str
    prompt: str
    expect: tuple[tuple[str, ...], ...]  # any of these; each: all its words (lower-case)
    kind: str = "fact"  # fact | math | greeting | howto | language | tool | long
    long_ok: bool = False  # the request asks for more than a short answer
    other_language_ok: bool = False  # the request asks for another language
    tools: tuple[dict[str, Any], ...] = field(default=())
    tool: str | None = None  # a tool case: the call expected


def _any(*options: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(option.split("+")) for option in options)


def _tool_case(case_id: str, prompt: str, argument: str) -> Case:
    """Both tools offered; the one named in the case id (`weather_tool` → get_weather) must be
    called with `argument` in its arguments."""
    tool = {"weather_tool": WEATHER_TOOL, "timer_tool": TIMER_TOOL}[case_id]["name"]
    return Case(
        case_id, prompt, _any(argument), kind="tool", tools=(WEATHER_TOOL, TIMER_TOOL), tool=tool
    )


CASES: tuple[Case, ...] = (
    # Facts
    Case("capital_france", "What is the capital of France?", _any("paris")),
    Case("capital_japan", "What is the capital of Japan?", _any("tokyo")),
    Case("capital_italy", "What's the capital of Italy?", _any("rome")),
    Case("largest_planet", "What is the largest planet in our solar system?", _any("jupiter")),
    Case("days_week", "How many days are in a week?", _any("seven", "7")),
    Case("romeo", "Who wrote Romeo and Juliet?", _any("shakespeare")),
    Case("sky", "What color is the sky on a clear day?", _any("blue")),
    Case("boiling", "At what temperature does water boil in Celsius?", _any("100", "hundred")),
    Case("spider", "How many legs does a spider have?", _any("eight", "8")),
    Case("opposite_hot", "What is the opposite of hot?", _any("cold")),
    Case("everest", "What is the tallest mountain in the world?", _any("everest")),
    Case("brazil", "What language do people speak in Brazil?", _any("portuguese")),
    Case("ocean", "What is the largest ocean on Earth?", _any("pacific")),
    Case("continents", "How many continents are there?", _any("seven", "7")),
    Case("mona_lisa", "Who painted the Mona Lisa?", _any("leonardo", "vinci")),
    Case("minutes_hour", "How many minutes are in an hour?", _any("60", "sixty")),
    Case("cow", "Which animal says moo?", _any("cow")),
    Case("first_month", "What is the first month of the year?", _any("january")),
    Case("meter_cm", "How many centimeters are in a meter?", _any("100", "hundred")),
    Case("hours_day", "How many hours are in a day?", _any("24", "twenty+four")),
    # Arithmetic
    Case("add", "What is two plus two?", _any("4", "four"), kind="math"),
    Case("multiply", "What is 7 times 8?", _any("56", "fifty+six"), kind="math"),
    Case("subtract", "What is 15 minus 6?", _any("9", "nine"), kind="math"),
    Case("divide", "What is 100 divided by 4?", _any("25", "twenty+five"), kind="math"),
    Case("add_tens", "What is 12 plus 30?", _any("42", "forty+two"), kind="math"),
    # Greetings
    Case("hello_anna", "Say hello to Anna.", _any("hello+anna", "hi+anna"), kind="greeting"),
    Case("morning_tom", "Say good morning to Tom.", _any("morning+tom"), kind="greeting"),
    # Short how-tos
    Case("boil_egg", "How do I boil an egg?", _any("water"), kind="howto"),
    Case("tea", "How do I make a cup of tea?", _any("water"), kind="howto"),
    Case(
        "sleep",
        "Give me one tip to fall asleep faster.",
        _any(
            *"bed screen screens dark relax relaxing routine caffeine breath breathing read "
            "reading music meditate meditation exercise exercises phone cool quiet curtains".split()
        ),
        kind="howto",
    ),
    # Another language, asked for
    Case(
        "spanish_thanks",
        "How do you say thank you in Spanish?",
        _any("gracias"),
        kind="language",
        other_language_ok=True,
    ),
    Case(
        "french_hello",
        "How do you say hello in French?",
        _any("bonjour", "salut"),
        kind="language",
        other_language_ok=True,
    ),
    # A longer answer, asked for
    Case(
        "solar_system",
        "Explain in detail what the solar system is.",
        _any("sun"),
        kind="long",
        long_ok=True,
    ),
    # Tool calls, where a tool is offered
    _tool_case("weather_tool", "What's the weather like in Lisbon right now?", "lisbon"),
    _tool_case("timer_tool", "Set a timer for five minutes.", "5"),
)

BY_ID = {case.id: case for case in CASES}


def words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def has_loop(text: str, n: int = 3, repeats: int = 3) -> bool:
    """A sequence of `n` words that occurs `repeats` or more times."""
    seen: dict[tuple[str, ...], int] = {}
    tokens = words(text)
    for i in range(len(tokens) - n + 1):
        gram = tuple(tokens[i : i + n])
        seen[gram] = seen.get(gram, 0) + 1
        if seen[gram] >= repeats:
            return True
    return False


def _non_latin_letter(char: str) -> bool:
    return char.isalpha() and ord(char) > 0x24F and not 0x1E00 <= ord(char) <= 0x1EFF


def other_language(text: str) -> bool:
    if any(_non_latin_letter(char) for char in text):
        return True
    return sum(1 for word in words(text) if word in _FOREIGN) >= 2


def keyword_found(text: str, expect: tuple[tuple[str, ...], ...]) -> bool:
    found = set(words(text))
    lowered = text.lower()
    return any(
        all(word in found or (not word.isalpha() and word in lowered) for word in option)
        for option in expect
    )


def score(case: Case, text: str, tool_call: dict[str, str] | None = None) -> dict[str, Any]:
    """The four checks for one answer. `tool_call`: {"name", "arguments"} when the model called
    a tool instead of answering in words."""
    if case.tool is not None:
        called = tool_call is not None and tool_call.get("name") == case.tool
        keyword = called and keyword_found(tool_call.get("arguments", ""), case.expect)
    else:
        keyword = tool_call is None and keyword_found(text, case.expect)
    checks = {
        "keyword": bool(keyword),
        "no_loop": not has_loop(text),
        "length": case.long_ok or len(words(text)) <= MAX_SPOKEN_WORDS,
        "language": case.other_language_ok or not other_language(text),
    }
    return {**checks, "pass": all(checks.values()), "words": len(words(text))}
