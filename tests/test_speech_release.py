"""A cancelled answer's speech frees the TTS worker: synthesis queued behind other work never
starts (a dropped speculation must not make the next answer wait for its clauses)."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from ovos_realtime.voice.speech_out import SpeechOutput


class CountingTTS:
    """Counts the clauses it is asked to synthesize (the engine's cost is not what is tested)."""

    sample_rate = 24000

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_tts(self, text: str, path: str, voice=None) -> None:
        import wave

        self.asked.append(text)
        with wave.open(path, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(self.sample_rate)
            wav.writeframes(b"\0\0" * 240)


async def test_a_cancelled_answers_queued_clause_is_never_synthesized():
    tts, executor, busy = CountingTTS(), ThreadPoolExecutor(1), threading.Event()
    try:
        executor.submit(busy.wait, 5)  # another session's synthesis holds the worker
        speech = SpeechOutput(tts, executor, None, None, 24000, lambda piece, samples: None)
        speech.feed("Hello there. ")
        await asyncio.sleep(0.05)  # its clause is queued behind the busy worker
        speech.cancel()
        busy.set()
        await asyncio.wrap_future(executor.submit(lambda: None))  # the queue has drained
        assert tts.asked == []
        # The same path synthesizes when nothing cancels it.
        speech = SpeechOutput(tts, executor, None, None, 24000, lambda piece, samples: None)
        speech.feed("Hello there. ")
        await speech.finish()
        assert tts.asked == ["Hello there."]
    finally:
        executor.shutdown()
