"""Helpers for voice tests: real speech clips, speech made by the server's own TTS, real-time
streaming into a Realtime connection."""

import asyncio
import base64
import wave
from pathlib import Path

import httpx
import numpy as np

from tests.corpus import SPEECH_DIR as SPEECH
from tests.corpus import load_clip, manifest


def tts_clip(http_url: str, text: str) -> np.ndarray:
    """Speech for `text` at 24 kHz, from the server's own /v1/audio/speech."""
    response = httpx.post(
        f"{http_url}/v1/audio/speech",
        json={"model": "tts", "input": text, "voice": "alloy", "response_format": "pcm"},
        timeout=60,
    )
    response.raise_for_status()
    return np.frombuffer(response.content, "<i2").copy()


def silence(seconds: float, rate: int = 24000) -> np.ndarray:
    return np.zeros(int(seconds * rate), np.int16)


async def stream_audio(
    conn, samples: np.ndarray, rate: int = 24000, chunk_ms: int = 40, pace: float = 1.0, encode=None
) -> None:
    """Append `samples` in `chunk_ms` chunks; pace 1.0 is real time, 0 is as fast as possible."""
    step = rate * chunk_ms // 1000
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index, offset in enumerate(range(0, samples.size, step)):
        chunk = samples[offset : offset + step]
        data = encode(chunk) if encode else chunk.astype("<i2").tobytes()
        await conn.input_audio_buffer.append(audio=base64.b64encode(data).decode())
        if pace:
            delay = start + (index + 1) * chunk_ms / 1000 / pace - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)


def pcm_from_deltas(events: list[dict], delta_type: str = "response.output_audio.delta") -> bytes:
    return b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == delta_type)


def transcribe(http_url: str, pcm24k: bytes) -> str:
    """Transcribe 24 kHz PCM with the server's own /v1/audio/transcriptions."""
    import io

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24000)
        wav.writeframes(pcm24k)
    response = httpx.post(
        f"{http_url}/v1/audio/transcriptions",
        files={"file": ("audio.wav", buffer.getvalue(), "audio/wav")},
        data={"model": "whisper-1", "response_format": "json"},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()["text"]


__all__ = ["SPEECH", "Path", "load_clip", "manifest"]
