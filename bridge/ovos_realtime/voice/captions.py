"""Transcript segments as SRT / WebVTT captions and OpenAI verbose_json segments."""

from typing import Any


def _clock(seconds: float, separator: str) -> str:
    millis = int(round(max(0.0, seconds) * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt(segments: list[dict[str, Any]]) -> str:
    blocks = [
        f"{i}\n{_clock(s['start'], ',')} --> {_clock(s['end'], ',')}\n{s['text'].strip()}\n"
        for i, s in enumerate(segments, start=1)
    ]
    return "\n".join(blocks)


def vtt(segments: list[dict[str, Any]]) -> str:
    blocks = [
        f"{_clock(s['start'], '.')} --> {_clock(s['end'], '.')}\n{s['text'].strip()}\n"
        for s in segments
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def verbose_segment(segment: dict[str, Any]) -> dict[str, Any]:
    """Our segment with the fields OpenAI's TranscriptionSegment requires (unknowns neutral)."""
    return {
        "id": segment.get("id", 0),
        "seek": segment.get("seek", 0),
        "start": segment["start"],
        "end": segment["end"],
        "text": " " + segment["text"].strip(),
        "tokens": segment.get("tokens", []),
        "temperature": segment.get("temperature", 0.0),
        "avg_logprob": segment.get("avg_logprob", 0.0),
        "compression_ratio": segment.get("compression_ratio", 1.0),
        "no_speech_prob": segment.get("no_speech_prob", 0.0),
    }
