"""Spoken durations ("five minutes", "1 hour and 30 seconds") to seconds, and back to words."""

import re

_UNITS = {
    "second": 1,
    "seconds": 1,
    "sec": 1,
    "secs": 1,
    "minute": 60,
    "minutes": 60,
    "min": 60,
    "mins": 60,
    "hour": 3600,
    "hours": 3600,
}
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "half": 0.5,
}
_PART = re.compile(r"(\d+(?:\.\d+)?|[a-z-]+)\s+(" + "|".join(_UNITS) + r")\b")


def parse_duration(text: str) -> int | None:
    """Seconds in `text`, or None when it names no duration."""
    text = text.lower().replace(" and a half", " and 0.5").replace("half an hour", "30 minutes")
    total = 0.0
    for number, unit in _PART.findall(text):
        value = float(number) if number[0].isdigit() else _NUMBERS.get(number)
        if value is None:
            continue
        total += value * _UNITS[unit]
    return int(total) if total > 0 else None


def describe_duration(seconds: float) -> str:
    """'1 hour 5 minutes', '30 seconds'."""
    seconds = int(round(seconds))
    parts = []
    for name, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 seconds"
