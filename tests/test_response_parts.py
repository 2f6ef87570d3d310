"""The parts of a response, each alone and without models: the speculation gate, the output
writer (event order, validated against the openai SDK's types), the server-tool rounds and the
spoken answer."""

import asyncio
import contextlib

import numpy as np
from ovos_realtime.brain.base import (
    BrainRequest,
    Finished,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallStarted,
    ToolSpec,
)
from ovos_realtime.brain.tool_rounds import (
    ServerToolCallStarted,
    ServerToolDone,
    ServerToolRunning,
    answer_with_server_tools,
)
from ovos_realtime.brain.tools import ServerTool
from ovos_realtime.core.spoken import SpeechChunk, SpeechDone, spoken
from ovos_realtime.session.conversation import Conversation
from ovos_realtime.session.output_writer import OutputWriter
from ovos_realtime.session.settings import SessionDefaults, default_session, resolve_response
from ovos_realtime.session.speculation_gate import SpeculationGate
from ovos_realtime.voice.engines import VoiceEngines
from ovos_realtime.voice.runtime import VoiceRuntime

from tests.realtime_helpers import Recorder, types
from tests.scripted_llm import ScriptedLLM

# ---- speculation gate ----


def test_an_open_gate_acts_at_once():
    gate, seen = SpeculationGate(), []
    gate.run(lambda: seen.append(1))
    assert seen == [1] and gate.released.is_set() and not gate.holding


def test_a_holding_gate_releases_in_order_then_lets_through():
    gate, seen = SpeculationGate(holding=True), []
    gate.run(lambda: seen.append(1))
    gate.run(lambda: seen.append(2))
    assert seen == [] and not gate.released.is_set()
    gate.release()
    gate.run(lambda: seen.append(3))
    assert seen == [1, 2, 3] and gate.released.is_set()


def test_a_discarded_gate_shows_nothing_ever():
    gate, seen = SpeculationGate(holding=True), []
    gate.run(lambda: seen.append(1))
    gate.discard()
    gate.run(lambda: seen.append(2))
    assert seen == [] and not gate.released.is_set()


# ---- output writer ----


def _writer(audio: bool = False, conversation: Conversation | None = None):
    recorder = Recorder()
    session = default_session("sess_w", SessionDefaults(model="m", instructions=""), voice=True)
    settings = resolve_response(session, None)
    writer = OutputWriter("resp_1", settings, audio=audio, conversation=conversation, emit=recorder)
    return writer, recorder


def test_a_text_answer_in_openai_order():
    conversation = Conversation()
    writer, rec = _writer(conversation=conversation)
    writer.created()
    writer.text("Hello")
    writer.text(" there")
    writer.finish("completed", input_tokens=3, output_tokens=2)
    assert types(rec.events) == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    done = rec.events[-1]["response"]
    assert done["output"][0]["content"][0]["text"] == "Hello there"
    assert done["usage"]["total_tokens"] == 5
    assert conversation.items()[0]["status"] == "completed"


def test_a_spoken_answer_sends_each_transcript_piece_with_its_audio():
    writer, rec = _writer(audio=True)
    writer.created()
    writer.text("Hello there.")  # opens the message; the words come with the audio
    writer.audio_out("Hello there.", np.ones(2400, np.int16))
    writer.audio_out("", np.ones(2400, np.int16))
    writer.finish("completed")
    kinds = types(rec.events)
    assert kinds[2:6] == [
        "response.content_part.added",
        "response.output_audio_transcript.delta",
        "response.output_audio.delta",
        "response.output_audio.delta",
    ]
    assert "response.output_text.delta" not in kinds
    assert rec.events[-1]["response"]["output"][0]["content"][0]["transcript"] == "Hello there."


def test_tool_calls_and_a_cancel_close_every_item():
    writer, rec = _writer()
    writer.created()
    writer.call_started("call_1", "get_weather")
    writer.arguments('{"city": ')
    writer.arguments('"Paris"}')
    writer.call_started("call_2", "ask_ovos", server_label="ovos")
    writer.server_tool_running()
    writer.server_tool_done(None, "timed out")
    writer.text("Sorry")
    writer.finish("cancelled", reason="client_cancelled")
    kinds = types(rec.events)
    assert (
        kinds.count("response.output_item.added") == kinds.count("response.output_item.done") == 3
    )
    assert "response.function_call_arguments.done" in kinds
    assert kinds.index("response.mcp_call.in_progress") < kinds.index("response.mcp_call.failed")
    output = rec.events[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["function_call", "mcp_call", "message"]
    assert output[0]["arguments"] == '{"city": "Paris"}'
    assert output[1]["error"]["message"] == "timed out"
    assert output[2]["status"] == "incomplete"
    assert rec.events[-1]["response"]["status"] == "cancelled"


# ---- server-tool rounds ----

SPEC = ToolSpec(
    "get_weather", "weather", {"type": "object", "properties": {"city": {"type": "string"}}}
)


async def _collect(stream) -> list:
    async with contextlib.aclosing(stream) as events:
        return [event async for event in events]


async def test_a_server_tool_runs_between_rounds_and_its_output_reaches_the_brain():
    calls = []

    async def weather(arguments: dict) -> str:
        calls.append(arguments)
        return "sunny"

    request = BrainRequest(
        messages=[{"role": "user", "content": "please call a tool"}], tools=[SPEC]
    )
    tools = {"get_weather": ServerTool(SPEC, weather)}
    events = await _collect(answer_with_server_tools(ScriptedLLM(), request, tools))
    kinds = [type(e) for e in events]
    assert kinds[0] is ServerToolCallStarted
    assert ToolCallStarted not in kinds  # a server tool call is not the client's
    assert kinds.index(ServerToolRunning) < kinds.index(ServerToolDone)
    assert calls == [{"city": "Paris"}]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "The tool said: sunny"
    assert isinstance(events[-1], Finished) and events[-1].output_tokens > 0


async def test_a_tool_waits_for_the_turn_to_be_final():
    calls, final = [], asyncio.Event()

    async def weather(arguments: dict) -> str:
        calls.append(arguments)
        return "sunny"

    request = BrainRequest(
        messages=[{"role": "user", "content": "please call a tool"}], tools=[SPEC]
    )
    task = asyncio.create_task(
        _collect(
            answer_with_server_tools(
                ScriptedLLM(),
                request,
                {"get_weather": ServerTool(SPEC, weather)},
                before_acting=final.wait,
            )
        )
    )
    await asyncio.sleep(0.1)
    assert calls == []
    final.set()
    await task
    assert len(calls) == 1


async def test_client_tools_pass_through():
    request = BrainRequest(
        messages=[{"role": "user", "content": "please call a tool"}], tools=[SPEC]
    )
    events = await _collect(answer_with_server_tools(ScriptedLLM(), request, {}))
    assert isinstance(events[0], ToolCallStarted)
    assert any(isinstance(e, ToolArgumentsDelta) for e in events)


# ---- spoken answers ----


class FakeTTS:
    """Clause-streamed synthesis: 10 ms of audio per character, in two chunks."""

    sample_rate = 24000

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def chunker(self):
        from ovos_realtime.voice.synthesis import SimpleChunker

        return SimpleChunker()

    def synth_stream(self, text, voice=None, speed=None):
        self.spoken.append(text)
        half = len(text) * 120
        yield np.ones(half, np.int16)
        yield np.ones(half, np.int16)


async def test_a_spoken_answer_brings_audio_by_sentence_and_settles_before_it_ends():
    tts = FakeTTS()
    runtime = VoiceRuntime(VoiceEngines(stt=None, tts=tts, vad_config={}))

    async def brain_events():
        for word in ["Hi ", "there. ", "How ", "are ", "you?"]:
            yield TextDelta(word)
        yield Finished("stop", 1, 5)

    events = await _collect(
        spoken(brain_events(), lambda on_audio: runtime.speech_output(None, 1.0, 24000, on_audio))
    )
    runtime.shutdown()
    chunks = [e for e in events if isinstance(e, SpeechChunk)]
    assert [c.transcript for c in chunks if c.transcript] == ["Hi there.", "How are you?"]
    assert sum(c.samples.size for c in chunks) > 0
    assert isinstance(events[-2], SpeechDone) and isinstance(events[-1], Finished)
    assert tts.spoken == ["Hi there.", "How are you?"]


async def test_closing_a_spoken_answer_stops_the_brain():
    stopped = asyncio.Event()

    async def endless():
        try:
            while True:
                yield TextDelta("word ")
                await asyncio.sleep(0.01)
        finally:
            stopped.set()

    runtime = VoiceRuntime(VoiceEngines(stt=None, tts=FakeTTS(), vad_config={}))
    stream = spoken(endless(), lambda on_audio: runtime.speech_output(None, 1.0, 24000, on_audio))
    async with contextlib.aclosing(stream) as events:
        async for _event in events:
            break
    await asyncio.wait_for(stopped.wait(), 1)
    runtime.shutdown()
