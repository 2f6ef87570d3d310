"""Spoken output keeps ahead of playback while the LLM is still writing a long sentence: the
words written so far are cut off as a piece before the audio out has played (speech_out.py)."""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from ovos_realtime.voice.speech_out import SpeechOutput
from ovos_tts_plugin_onnx_stream.chunker import ClauseChunker

RATE = 24000
WORD_S = 0.25  # audio per word: a short first piece plays for about half a second
SENTENCE = "the printers of that time who worked with care made books that lasted for ages. "


class WordAudioTTS:
    """0.25 s of audio per word, at once (what is tested is when pieces are cut, not the
    engine); the plugin's own chunker with a two-word first piece."""

    sample_rate = RATE

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def chunker(self) -> ClauseChunker:
        return ClauseChunker(first_min_words=2, first_max_words=3)

    def synth_stream(self, text: str, voice=None, speed=None) -> Iterator[np.ndarray]:
        self.pieces.append(text)
        yield np.ones(int(len(text.split()) * WORD_S * RATE), np.int16)


async def speak(words_per_s: float) -> tuple[list[str], float]:
    """The pieces synthesized when an LLM writes "Well, hello. " and then SENTENCE at
    `words_per_s`, and how long playback ran dry in all (the client plays what arrives in
    real time from the first audio)."""
    tts, executor = WordAudioTTS(), ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()
    arrivals: list[tuple[float, float]] = []
    try:
        speech = SpeechOutput(
            tts, executor, None, None, RATE,
            lambda piece, samples: arrivals.append((loop.time(), samples.size / RATE)),
        )  # fmt: skip
        speech.feed("Well, hello. ")
        for word in SENTENCE.split(" "):
            await asyncio.sleep(1 / words_per_s)
            speech.feed(word + " ")
        await speech.finish()
    finally:
        executor.shutdown()
    stalled, played_at = 0.0, arrivals[0][0]
    for arrived, seconds in arrivals:
        stalled += max(0.0, arrived - played_at)
        played_at = max(played_at, arrived) + seconds
    return tts.pieces, stalled


async def test_a_sentence_written_slower_than_speech_is_cut_before_playback_runs_dry():
    pieces, stalled = await speak(words_per_s=5)  # the sentence takes 3 s to write
    assert pieces[0] == "Well, hello."
    assert len(pieces) >= 3 and not pieces[1].endswith(".")  # cut mid-sentence
    assert " ".join(pieces[1:]) == SENTENCE.strip()  # nothing lost or doubled
    # Without the cut, the sentence's audio comes ~2.5 s after the first piece's 0.5 s ran out.
    assert stalled < 0.3, pieces


async def test_a_sentence_written_in_time_stays_whole():
    pieces, stalled = await speak(words_per_s=200)
    assert pieces == ["Well, hello.", SENTENCE.strip()] and stalled == 0.0
