"""Reading ahead (issue 10): while the user still speaks, the voice pipeline hands on the STT's
best guess of the turn's words (`on_words`), from which the LLM reads the prompt ahead; real
VAD, real streaming Whisper, a real 9.7 s sentence streamed at 2x real time."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from ovos_realtime.voice.pipeline import VoicePipeline

from tests.corpus import read_wav, speech_rows, wer

RATE = 16000
CHUNK = 512 * 2  # 32 ms of PCM16

pytestmark = pytest.mark.slow


async def test_the_turns_words_come_while_it_is_spoken(listening_runtime):
    name = "ljspeech_LJ001-0001.wav"
    text = next(row["text"] for row in speech_rows() if row["file"] == name)
    samples, rate = read_wav(name)
    assert rate == RATE
    words: list[tuple[bool, str]] = []  # (the turn had stopped, the words)
    pipeline = VoicePipeline(
        listening_runtime, "read-ahead-test", on_words=lambda t: words.append((stopped, t))
    )
    pipeline.configure({"type": "audio/pcm", "rate": RATE}, {"type": "server_vad"})
    stopped = False
    wire = np.concatenate([samples, np.zeros(RATE, np.int16)]).astype("<i2").tobytes()
    for offset in range(0, len(wire), CHUNK):
        async for event in pipeline.feed(wire[offset : offset + CHUNK]):
            stopped |= event.kind == "stopped"
        await asyncio.sleep(0.016)  # 2x real time
    final = await pipeline.finish()
    early = [t for was_stopped, t in words if not was_stopped]
    assert len(early) >= 2, words
    # A guess may still change, but it is the turn's words: the last one before the turn ended
    # reads like the final's beginning.
    guess = early[-1].split()
    assert len(guess) >= 8, early
    assert wer(" ".join(final.split()[: len(guess)]), " ".join(guess)) <= 0.25, (early, final)
    assert wer(text, final) <= 0.2, final
