"""The Realtime turn controller on a fake VAD and a fake STT: commit, speculation and adoption,
a resumed turn, manual commits, partials, a client that stops sending mid-turn (the stall
fallback). No models but semantic_vad's Smart Turn where named: milliseconds each, about a
second for those that wait out a stall.

The fake VAD calls a frame speech when its samples are loud; the fake STT names each run of
loud audio it was fed with one word (alpha, beta, …), so a transcript tells what it heard."""

import asyncio
import base64
import threading

import numpy as np
import pytest
from ovos_realtime.core.assistant import AssistantSession
from ovos_realtime.core.personas import Persona
from ovos_realtime.session.realtime_session import RealtimeSession
from ovos_realtime.session.settings import SessionDefaults
from ovos_realtime.voice.engines import VoiceEngines
from ovos_realtime.voice.pipeline import STALL_S
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_realtime.voice.turn_model import SmartTurn

from tests.realtime_helpers import Recorder, text_of, types
from tests.scripted_llm import ScriptedLLM

RATE = 24000  # the session's default input format: PCM16 at 24 kHz
WORDS = ["alpha", "beta", "gamma", "delta"]


class FakeFrameVAD:
    """32 ms frames at 16 kHz, loud or not."""

    def __init__(self) -> None:
        self.pending = np.zeros(0, np.int16)

    def probabilities(self, pcm16: bytes) -> list[float]:
        samples = np.concatenate([self.pending, np.frombuffer(pcm16, "<i2")])
        whole = samples.size - samples.size % 512
        self.pending = samples[whole:]
        frames = samples[:whole].reshape(-1, 512)
        return [1.0 if np.abs(frame).mean() > 1000 else 0.0 for frame in frames]

    def reset(self) -> None:
        self.pending = np.zeros(0, np.int16)


class FakeVAD:
    def new_frame_vad(self, sample_rate: int | None = None) -> FakeFrameVAD:
        return FakeFrameVAD()


class FakeStream:
    """Words for the loud runs fed so far; a partial after each new word."""

    def __init__(self, on_partial, fail: bool, stt: "FakeSTT | None" = None) -> None:
        self.on_partial = on_partial
        self.fail = fail
        self.stt = stt
        self.loud_before = False
        self.words = 0
        self.decodes = 0  # peeks and finishes
        self.abandoned_peeks = 0
        self.lock = threading.Lock()

    def feed(self, pcm16: bytes) -> None:
        samples = np.frombuffer(pcm16, "<i2")
        loud = samples.size > 0 and np.abs(samples).mean() > 1000
        with self.lock:
            if loud and not self.loud_before:
                self.words += 1
                if self.on_partial:
                    self.on_partial(self._text())
            self.loud_before = loud

    def _text(self) -> str:
        if self.stt and self.stt.punctuate:  # "alpha." then "alpha. beta.": still extensions
            return "".join(f"{word}. " for word in WORDS[: self.words]).strip()
        return " ".join(WORDS[: self.words])

    def peek(self) -> str:
        self.decodes += 1
        if self.fail:
            raise RuntimeError("stt broke")
        if self.stt and self.stt.peek_gate is not None:
            self.stt.peek_gate.wait(5)  # the pause's decode takes as long as the test says
        with self.lock:
            text = self._text()
        return text[:-1] + self.stt.peek_changes if self.stt and self.stt.peek_changes else text

    def finish(self) -> str:
        return self.peek()

    def abandon_peek(self) -> None:
        self.abandoned_peeks += 1

    def close(self) -> None: ...


class FakeSTT:
    def __init__(self) -> None:
        self.fail = False
        self.streams: list[FakeStream] = []
        self.punctuate = False  # end the text with "." (a finished sentence)
        self.peek_gate: threading.Event | None = None  # the pause's decode waits for it
        self.peek_changes = ""  # the pause's decode ends differently from the partial

    def new_stream(self, sample_rate=None, language=None, prompt=None, on_partial=None):
        self.streams.append(FakeStream(on_partial, self.fail, self))
        return self.streams[-1]


class FakeEngines(VoiceEngines):
    def new_vad(self) -> FakeVAD:
        return FakeVAD()


def speech(seconds: float) -> np.ndarray:
    return np.full(int(seconds * RATE), 4000, np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


@pytest.fixture
def stt() -> FakeSTT:
    return FakeSTT()


@pytest.fixture
async def session(stt):
    recorder = Recorder()
    runtime = VoiceRuntime(FakeEngines(stt=stt, tts=None, vad_config={}))
    assistant = AssistantSession("sess_t", Persona("t"), ScriptedLLM(), voice=runtime)
    session = RealtimeSession(
        session_id="sess_t",
        assistant=assistant,
        defaults=SessionDefaults(model="m", instructions=""),
        emit=recorder,
    )
    session.recorder = recorder
    await session.handle({"type": "session.update", "session": {"output_modalities": ["text"]}})
    yield session
    await session.close()
    runtime.shutdown()


async def send(session: RealtimeSession, *pieces: np.ndarray, chunk_ms: int = 40) -> None:
    audio = np.concatenate(pieces)
    step = RATE * chunk_ms // 1000
    for offset in range(0, audio.size, step):
        data = audio[offset : offset + step].tobytes()
        await session.handle(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(data).decode()}
        )
        await asyncio.sleep(0)  # chunks arrive one by one: callbacks run in between


async def test_a_turn_is_committed_transcribed_and_answered(session):
    rec = session.recorder
    await send(session, silence(0.3), speech(1.0), silence(1.0))
    await rec.until("response.done")
    kinds = types(rec.events)
    turn = [k for k in kinds if k.startswith(("input_audio_buffer", "conversation.item"))]
    assert turn[:4] == [
        "input_audio_buffer.speech_started",
        "conversation.item.input_audio_transcription.delta",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
    ]
    started, delta, stopped, committed = (
        next(e for e in rec.events if e["type"] == kind) for kind in turn[:4]
    )
    assert started["item_id"] == delta["item_id"] == stopped["item_id"] == committed["item_id"]
    completed = next(e for e in rec.events if e["type"].endswith("transcription.completed"))
    assert completed["transcript"] == "alpha"
    # The response (started speculatively during the silence) shows only after the commit.
    assert kinds.index("response.created") > kinds.index("input_audio_buffer.committed")
    assert kinds.count("response.created") == 1
    assert text_of(rec.events) == "Hello! You said: alpha"
    assert [item["role"] for item in session.conversation.items()] == ["user", "assistant"]


async def test_speech_that_resumes_in_the_window_is_one_turn_and_one_answer(session):
    rec = session.recorder
    # 300 ms of quiet: a pause (the speculation starts), not the end of the turn (500 ms).
    await send(session, speech(0.8), silence(0.3))
    await asyncio.sleep(0.1)  # let the speculative response run as far as it can
    assert "response.created" not in types(rec.events)  # held back
    await send(session, speech(0.8), silence(1.0))
    await rec.until("response.done")
    kinds = types(rec.events)
    assert kinds.count("input_audio_buffer.speech_started") == 1
    assert kinds.count("response.created") == 1
    completed = next(e for e in rec.events if e["type"].endswith("transcription.completed"))
    assert completed["transcript"] == "alpha beta"
    assert text_of(rec.events) == "Hello! You said: alpha beta"


async def test_speech_that_resumes_abandons_the_pauses_decode(session, stt):
    """A cancelled speculation releases its STT work: the pause's decode, still running when
    the speaker goes on, is told to stop (its text would be thrown away)."""
    stt.peek_gate = threading.Event()  # the pause's decode runs until the test lets it end
    await send(session, speech(0.8), silence(0.3))
    assert stt.streams[-1].abandoned_peeks == 0
    await send(session, speech(0.8))
    assert stt.streams[-1].abandoned_peeks == 1
    stt.peek_gate.set()
    await send(session, silence(1.0))
    await session.recorder.until("response.done")
    assert text_of(session.recorder.events) == "Hello! You said: alpha beta"


async def test_a_turn_ended_within_one_chunk_is_decoded_once(session, stt):
    """A client sending large chunks: the pause opens and the window runs out in one chunk. The
    turn's final decode is the only one (a speculation that had not started is dropped, not left
    to decode the same audio beside it)."""
    rec = session.recorder
    await send(session, speech(1.0), silence(1.0), chunk_ms=2000)
    await rec.until("response.done")
    assert [stream.decodes for stream in stt.streams] == [1]
    assert text_of(rec.events) == "Hello! You said: alpha"


async def test_two_turns_get_two_items_and_two_answers(session):
    rec = session.recorder
    await send(session, speech(0.6), silence(1.0))
    await rec.until("response.done")
    await send(session, speech(0.6), silence(1.0))
    await rec.until("response.done", count=2)
    users = [item for item in session.conversation.items() if item["role"] == "user"]
    assert [u["content"][0]["transcript"] for u in users] == ["alpha", "alpha"]
    assert len({u["id"] for u in users}) == 2


async def test_a_blip_that_passes_for_a_turn_is_not_answered(session):
    """A click or a breath long enough to start a turn (64 ms) but with less speech than a
    word in it: the STT hears something ("alpha" here, "You" from Whisper), the turn ends
    with an empty transcript and no response, as OpenAI does for empty transcripts."""
    rec = session.recorder
    await send(session, silence(0.3), speech(0.1), silence(1.0))
    await rec.until("conversation.item.done")
    await asyncio.sleep(0.2)
    kinds = types(rec.events)
    assert "input_audio_buffer.speech_started" in kinds
    assert "response.created" not in kinds
    completed = next(e for e in rec.events if e["type"].endswith("transcription.completed"))
    assert completed["transcript"] == ""
    # The next real turn is answered.
    await send(session, speech(0.4), silence(1.0))
    await rec.until("response.done")
    assert text_of(rec.events) == "Hello! You said: alpha"


async def test_no_response_when_create_response_is_off(session):
    rec = session.recorder
    await session.handle(
        {
            "type": "session.update",
            "session": {
                "audio": {
                    "input": {"turn_detection": {"type": "server_vad", "create_response": False}}
                }
            },
        }
    )
    await send(session, speech(0.6), silence(1.0))
    await rec.until("conversation.item.done")
    await asyncio.sleep(0.2)
    assert "response.created" not in types(rec.events)


async def test_a_failing_transcriber_fails_the_transcription_not_the_session(session, stt):
    stt.fail = True
    rec = session.recorder
    await send(session, speech(0.6), silence(1.0))
    await rec.until("conversation.item.input_audio_transcription.failed")
    assert "response.created" not in types(rec.events)  # nothing heard, nothing answered
    stt.fail = False
    await send(session, speech(0.6), silence(1.0))
    await rec.until("response.done")


async def test_manual_turns_commit_what_was_sent(session):
    rec = session.recorder
    await session.handle(
        {"type": "session.update", "session": {"audio": {"input": {"turn_detection": None}}}}
    )
    await send(session, silence(0.02))
    with pytest.raises(Exception, match="buffer too small"):
        await session.handle({"type": "input_audio_buffer.commit"})
    await send(session, speech(0.5), silence(0.2))
    await session.handle({"type": "input_audio_buffer.commit"})
    completed = next(e for e in rec.events if e["type"].endswith("transcription.completed"))
    assert completed["transcript"] == "alpha"
    assert "response.created" not in types(rec.events)  # a manual commit asks for no answer


async def test_clear_drops_the_turn(session):
    rec = session.recorder
    await send(session, speech(0.6))
    await session.handle({"type": "input_audio_buffer.clear"})
    assert types(rec.events)[-1] == "input_audio_buffer.cleared"
    await send(session, silence(1.0))
    assert "input_audio_buffer.committed" not in types(rec.events)


async def test_speech_interrupts_the_answer(session):
    rec = session.recorder
    await session.handle(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "tell me a long story"}],
            },
        }
    )
    await session.handle({"type": "response.create"})
    await rec.until("response.output_text.delta")
    await send(session, speech(0.3))
    await rec.until("response.done")
    done = next(e for e in rec.events if e["type"] == "response.done")
    assert done["response"]["status_details"]["reason"] == "turn_detected"


# ---- the answer starts on a stable partial that reads as a finished sentence ----


class RecordingLLM(ScriptedLLM):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    async def stream(self, request):
        self.asked.append(request.messages[-1]["content"])
        async for event in super().stream(request):
            yield event


@pytest.fixture
async def early(stt):
    stt.punctuate, stt.peek_gate = True, threading.Event()
    llm = RecordingLLM()
    runtime = VoiceRuntime(FakeEngines(stt=stt, tts=None, vad_config={}))
    session = RealtimeSession(
        session_id="sess_e",
        assistant=AssistantSession("sess_e", Persona("t"), llm, voice=runtime),
        defaults=SessionDefaults(model="m", instructions=""),
        emit=Recorder(),
    )
    session.llm = llm
    await session.handle({"type": "session.update", "session": {"output_modalities": ["text"]}})
    yield session
    stt.peek_gate.set()
    await session.close()
    runtime.shutdown()


async def _pause_then_decode(session, stt) -> None:
    await send(session, speech(0.4), silence(0.1), speech(0.4), silence(0.3))
    for _ in range(100):  # the brain is asked while the pause's decode still runs
        if session.llm.asked:
            break
        await asyncio.sleep(0.01)
    assert session.llm.asked == ["alpha. beta."]
    stt.peek_gate.set()
    await send(session, silence(0.7))
    await session.emit.until("response.done")


async def test_a_finished_stable_partial_is_answered_before_the_pauses_decode(early, stt):
    await _pause_then_decode(early, stt)
    assert early.llm.asked == ["alpha. beta."]  # the decode agreed: no second answer
    assert types(early.emit.events).count("response.created") == 1
    assert text_of(early.emit.events) == "Hello! You said: alpha. beta."


async def test_the_answer_restarts_when_the_pauses_decode_differs(early, stt):
    stt.peek_changes = " gamma?"
    await _pause_then_decode(early, stt)
    assert early.llm.asked == ["alpha. beta.", "alpha. beta gamma?"]
    assert types(early.emit.events).count("response.created") == 1
    assert text_of(early.emit.events) == "Hello! You said: alpha. beta gamma?"


async def test_a_verdict_after_the_last_chunk_still_ends_the_turn(early, stt):
    """semantic_vad waits for the pause's transcript; when it comes after the client stopped
    sending (as a push-to-talk client or a paused stream does), the turn still ends."""
    await early.handle(
        {
            "type": "session.update",
            "session": {
                "audio": {
                    "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}
                }
            },
        }
    )
    await send(early, speech(0.6), silence(0.4))  # then nothing more
    await asyncio.sleep(0.1)
    assert "input_audio_buffer.speech_stopped" not in types(early.emit.events)
    stt.peek_gate.set()  # "alpha." is a finished sentence: 200 ms of quiet is enough
    await early.emit.until("input_audio_buffer.speech_stopped", timeout=3)
    await early.emit.until("response.done", timeout=5)
    assert text_of(early.emit.events) == "Hello! You said: alpha."


# ---- semantic_vad's end-of-turn model (the real Smart Turn file; its failure injected) ----


@pytest.fixture
async def model_session(stt):
    stt.punctuate = True  # "alpha.": the transcript rule's window is the short one
    recorder = Recorder()
    runtime = VoiceRuntime(FakeEngines(stt=stt, tts=None, vad_config={}), turn_model=True)
    session = RealtimeSession(
        session_id="sess_m",
        assistant=AssistantSession("sess_m", Persona("t"), ScriptedLLM(), voice=runtime),
        defaults=SessionDefaults(model="m", instructions=""),
        emit=recorder,
    )
    session.recorder = recorder
    await session.handle(
        {
            "type": "session.update",
            "session": {
                "output_modalities": ["text"],
                "audio": {
                    "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}
                },
            },
        }
    )
    yield session
    await session.close()
    runtime.shutdown()


async def test_a_failed_model_after_the_last_chunk_still_ends_the_turn(model_session, monkeypatch):
    """The model fails after the client stopped sending: the transcript rule decides ("alpha."
    is complete: 200 ms of quiet, already heard) and the turn ends then, not at the next chunk."""
    gate = threading.Event()

    def broken(self, audio):  # the turn thread
        gate.wait(5)
        raise RuntimeError("model broke")

    monkeypatch.setattr(SmartTurn, "probability", broken)
    rec = model_session.recorder
    await send(model_session, speech(0.6), silence(0.4))  # then nothing more
    await asyncio.sleep(0.1)
    assert "input_audio_buffer.speech_stopped" not in types(rec.events)  # waiting for the model
    gate.set()
    # Well before the stalled-client fallback could end it (a second after the last chunk).
    await rec.until("input_audio_buffer.speech_stopped", timeout=0.5)
    await rec.until("response.done", timeout=5)
    assert text_of(rec.events) == "Hello! You said: alpha."


# ---- a client that stops sending mid-turn: the stall fallback (voice/pipeline.STALL_S) ----


async def test_a_turn_ends_when_the_client_stops_sending_at_its_last_word(session):
    rec = session.recorder
    loop = asyncio.get_running_loop()
    await send(session, silence(0.3), speech(1.0))  # no quiet after it, then nothing
    sent = loop.time()
    await rec.until("input_audio_buffer.speech_stopped", timeout=STALL_S + 1.0)
    waited = loop.time() - sent
    assert STALL_S - 0.05 <= waited, waited
    stopped = next(e for e in rec.events if e["type"] == "input_audio_buffer.speech_stopped")
    # Where the window (500 ms) would have run out in quiet after the last frame (32 ms frames:
    # the audio's 1.3 s end at 1.28 s).
    assert stopped["audio_end_ms"] == 1280 + 500
    await rec.until("response.done")
    assert text_of(rec.events) == "Hello! You said: alpha"
    # The next chunk is the next audio: the stream clock did not move on with the assumed quiet.
    await send(session, silence(0.3), speech(0.5), silence(1.0))
    await rec.until("response.done", count=2)
    started = [e for e in rec.events if e["type"] == "input_audio_buffer.speech_started"]
    assert started[1]["audio_start_ms"] == 1600 - 300  # prefix padding 300 ms


async def test_a_gap_in_sending_shorter_than_the_stall_is_not_the_end(session):
    rec = session.recorder
    await send(session, speech(0.5))
    await asyncio.sleep(STALL_S * 0.7)  # a network stall mid-word
    await send(session, speech(0.5), silence(1.0))
    await rec.until("response.done")
    kinds = types(rec.events)
    assert kinds.count("input_audio_buffer.speech_started") == 1
    assert kinds.count("input_audio_buffer.speech_stopped") == 1
    completed = next(e for e in rec.events if e["type"].endswith("transcription.completed"))
    assert completed["transcript"] == "alpha"  # one word: the audio was never cut


async def test_nothing_fires_after_clear_or_close(session):
    rec = session.recorder
    await send(session, speech(0.6))
    assert session.turns.pipeline._stall is not None  # armed
    await session.handle({"type": "input_audio_buffer.clear"})
    await send(session, speech(0.6))  # a new turn, armed again
    await session.close()
    count = len(rec.events)
    await asyncio.sleep(STALL_S + 0.3)
    assert len(rec.events) == count, types(rec.events[count:])
    assert "input_audio_buffer.speech_stopped" not in types(rec.events)


async def test_semantic_vad_waits_for_the_pauses_transcript_after_a_stall(early, stt):
    """The transcript rule: the missing audio opens a pause; its decode ("alpha." complete)
    ends the turn, where a 200 ms window would have ended it."""
    await early.handle(
        {
            "type": "session.update",
            "session": {
                "audio": {
                    "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}
                }
            },
        }
    )
    await send(early, speech(0.6))  # then nothing more
    await asyncio.sleep(STALL_S + 0.2)
    assert "input_audio_buffer.speech_stopped" not in types(early.emit.events)  # decoding
    stt.peek_gate.set()
    await early.emit.until("input_audio_buffer.speech_stopped", timeout=1)
    stopped = next(e for e in early.emit.events if e["type"] == "input_audio_buffer.speech_stopped")
    assert stopped["audio_end_ms"] == 576 + 200
    await early.emit.until("response.done", timeout=5)
    assert text_of(early.emit.events) == "Hello! You said: alpha."


async def test_the_model_hears_the_pause_a_stall_opens(model_session):
    """semantic_vad with the model: the missing audio opens a pause, the real model scores
    the turn's audio, and its verdict ends the turn: 150 ms after the audio ("complete"),
    or the 2 s ceiling ("incomplete"), as that much quiet would have."""
    rec = model_session.recorder
    await send(model_session, speech(0.6))  # then nothing more
    await rec.until("input_audio_buffer.speech_stopped", timeout=STALL_S + 2.0 + 1.0)
    stopped = next(e for e in rec.events if e["type"] == "input_audio_buffer.speech_stopped")
    assert stopped["audio_end_ms"] - 576 in (150, 2000), stopped
    await rec.until("response.done", timeout=5)
    assert text_of(rec.events) == "Hello! You said: alpha."


async def test_manual_turns_never_end_on_a_stall(session):
    rec = session.recorder
    await session.handle(
        {"type": "session.update", "session": {"audio": {"input": {"turn_detection": None}}}}
    )
    await send(session, speech(0.6))  # then nothing: the client commits when it wants
    assert session.turns.pipeline._stall is None
    await asyncio.sleep(STALL_S + 0.2)
    assert "input_audio_buffer.committed" not in types(rec.events)
    await session.handle({"type": "input_audio_buffer.commit"})
    completed = next(e for e in rec.events if e["type"].endswith("transcription.completed"))
    assert completed["transcript"] == "alpha"


class PreparingLLM(ScriptedLLM):
    """The scripted LLM, able to read ahead: it keeps the requests it was asked to prepare."""

    def __init__(self) -> None:
        super().__init__()
        self.prepared: list = []

    def prepare(self, request) -> None:
        self.prepared.append(request)

    def forget(self, conversation: str) -> None:
        pass


async def test_the_turns_words_are_read_ahead_only_by_a_brain_that_can(session, stt):
    """The scripted LLM cannot read ahead: no request is built for it while the user speaks.
    One that can gets the turn's words so far, before the turn ends."""
    built = []
    prepare = session.prepare_response
    session.prepare_response = lambda items: built.append(items) or prepare(items)
    await send(session, speech(0.6), silence(0.1), speech(0.6))
    await asyncio.sleep(0.05)
    assert stt.streams and stt.streams[0].words >= 2  # partials came: words to read ahead
    assert built == [], "a request was built for a brain that cannot read ahead"

    brain = PreparingLLM()
    runtime = VoiceRuntime(FakeEngines(stt=stt, tts=None, vad_config={}))
    assistant = AssistantSession("sess_p", Persona("t"), brain, voice=runtime)
    other = RealtimeSession(
        session_id="sess_p",
        assistant=assistant,
        defaults=SessionDefaults(model="m", instructions=""),
        emit=Recorder(),
    )
    try:
        await send(other, speech(0.6), silence(0.1), speech(0.6))
        await asyncio.sleep(0.05)
        assert brain.prepared, "the turn's words were not handed to the brain"
        last = brain.prepared[-1].messages[-1]
        assert last["role"] == "user" and "alpha" in str(last["content"])
    finally:
        await other.close()
        runtime.shutdown()
