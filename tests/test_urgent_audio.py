"""The first audio first (urgent.py): a pause's decode and an answer's first clause are urgent
work, and work that can wait waits for them, never longer than its cap."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from ovos_realtime.urgent import URGENT, UrgentWork, urgently
from ovos_realtime.voice.speech_out import SpeechOutput

from tests.test_speech_release import CountingTTS


def test_waiting_costs_nothing_when_nothing_is_urgent():
    assert UrgentWork().wait(1.0) == 0.0


def test_waiting_ends_when_the_urgent_work_does():
    urgent = UrgentWork()
    urgent.begin()
    threading.Timer(0.2, urgent.end).start()
    waited = urgent.wait(2.0)
    assert 0.15 <= waited < 1.0 and not urgent.running


def test_waiting_never_lasts_past_its_cap():
    urgent = UrgentWork()
    urgent.begin()
    waited = urgent.wait(0.1)
    assert 0.09 <= waited < 0.5 and urgent.running
    urgent.end()


def test_urgent_work_is_counted_per_conversation():
    urgent = UrgentWork()
    urgent.begin("a")
    urgent.begin("a")
    urgent.begin()
    assert urgent.running_for("a") and not urgent.running_for("b")
    urgent.end("a")
    urgent.end("a")
    assert not urgent.running_for("a") and urgent.running
    urgent.end()
    assert not urgent.running and not urgent._owners  # nothing kept per finished conversation


def test_work_done_urgently_is_urgent_until_it_ends_even_when_it_fails():
    assert urgently(lambda: URGENT.running) is True

    def fails() -> None:
        raise ValueError("decode failed")

    try:
        urgently(fails)
    except ValueError:
        pass
    assert not URGENT.running


class WatchingTTS(CountingTTS):
    """Writes a little silence per clause and notes whether urgent work was under way while it
    synthesized (what is tested is the scheduling, not the engine)."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        super().__init__()
        self.urgent_while: list[tuple[str, bool]] = []
        self.gate = gate

    def get_tts(self, text: str, path: str, voice=None) -> None:
        if self.gate is not None:
            self.gate.wait(5)
        self.urgent_while.append((text, URGENT.running))
        super().get_tts(text, path, voice)


async def test_only_the_first_clause_is_urgent_and_only_until_its_audio():
    tts, executor = WatchingTTS(), ThreadPoolExecutor(1)
    heard: list[bool] = []
    try:
        speech = SpeechOutput(
            tts, executor, None, None, 24000, lambda piece, samples: heard.append(URGENT.running)
        )
        speech.feed("Hello there. It is sunny. ")
        await speech.finish()
        assert tts.urgent_while == [("Hello there.", True), ("It is sunny.", False)]
        assert heard and not any(heard)  # over before the first audio is handed on
        assert not URGENT.running
    finally:
        executor.shutdown()


async def test_a_first_clause_cancelled_mid_synthesis_leaves_nothing_urgent():
    gate = threading.Event()
    tts, executor = WatchingTTS(gate), ThreadPoolExecutor(1)
    try:
        speech = SpeechOutput(tts, executor, None, None, 24000, lambda piece, samples: None)
        speech.feed("Hello there. ")
        await asyncio.sleep(0.05)
        assert URGENT.running  # its synthesis has begun
        speech.cancel()
        gate.set()
        await asyncio.wrap_future(executor.submit(lambda: None))  # its synthesis is over
        assert not URGENT.running
    finally:
        gate.set()
        executor.shutdown()
