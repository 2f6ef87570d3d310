"""Server-side tools inside a response: `mcp_call` items, output fed back to the brain.

The Realtime session is driven in-process (it knows nothing of WebSockets); every event it emits
goes through the wire codec, which validates it against the openai SDK's types."""

import asyncio

from ovos_realtime.brain.base import ToolSpec
from ovos_realtime.brain.tools import ServerTool
from ovos_realtime.core.assistant import AssistantSession
from ovos_realtime.core.personas import Persona
from ovos_realtime.session.realtime_session import RealtimeSession
from ovos_realtime.session.settings import SessionDefaults

from tests.realtime_helpers import WEATHER_TOOL, Recorder, text_of, types, user_text
from tests.scripted_llm import ScriptedLLM

TIME_SPEC = ToolSpec(
    name="get_weather",
    description="Weather from the device's skill.",
    parameters=WEATHER_TOOL["parameters"],
)


def weather_tool(answer: str) -> tuple[list[dict], ServerTool]:
    """A server tool that answers `answer` and records the arguments of every call."""
    calls: list[dict] = []

    async def weather(arguments: dict) -> str:
        calls.append(arguments)
        return answer

    return calls, ServerTool(spec=TIME_SPEC, run=weather)


def new_session(
    recorder: Recorder, server_tools: list[ServerTool] | None = None
) -> RealtimeSession:
    async def source() -> list[ServerTool]:
        return list(server_tools or [])

    assistant = AssistantSession("sess_test", Persona("test"), ScriptedLLM(), tools=source)
    return RealtimeSession(
        session_id="sess_test",
        assistant=assistant,
        defaults=SessionDefaults(model="m", instructions="i"),
        emit=recorder,
    )


async def run_turn(server_tools: list[ServerTool], text: str, **response) -> Recorder:
    recorder = Recorder()
    session = new_session(recorder, server_tools)
    session.open()
    await session.handle({"type": "conversation.item.create", "item": user_text(text)})
    await session.handle({"type": "response.create", "response": response or None})
    for _ in range(200):
        if recorder.events[-1]["type"] == "response.done":
            break
        await asyncio.sleep(0.01)
    return recorder


async def test_server_tool_runs_inside_the_response():
    calls, tool = weather_tool("rainy, 12C")
    rec = await run_turn([tool], "please call a tool")
    assert calls == [{"city": "Paris", "unit": "celsius"}]
    kinds = types(rec.events)
    start = kinds.index("response.mcp_call_arguments.delta")
    assert kinds[start - 2 : start] == ["response.output_item.added", "conversation.item.added"]
    tail = kinds[kinds.index("response.mcp_call_arguments.done") :]
    assert tail[:5] == [
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.output_item.done",
        "conversation.item.done",
    ]
    done = rec.events[-1]["response"]
    assert done["status"] == "completed"
    mcp, message = done["output"]
    assert (mcp["type"], mcp["server_label"], mcp["output"]) == ("mcp_call", "ovos", "rainy, 12C")
    assert text_of(rec.events) == "The tool said: rainy, 12C"
    # Beta has no mcp items: beta clients only see the answer.
    assert not [t for t in rec.beta_types if "mcp" in t]
    assert "response.text.delta" in rec.beta_types


async def test_failing_and_slow_server_tools_fail_the_call_not_the_response():
    async def broken(arguments: dict) -> str:
        raise RuntimeError("skill crashed")

    async def slow(arguments: dict) -> str:
        await asyncio.sleep(5)
        return "too late"

    for tool, message in (
        (ServerTool(spec=TIME_SPEC, run=broken), "skill crashed"),
        (ServerTool(spec=TIME_SPEC, run=slow, timeout_s=0.1), "timed out"),
    ):
        rec = await run_turn([tool], "please call a tool")
        assert "response.mcp_call.failed" in types(rec.events)
        mcp = rec.events[-1]["response"]["output"][0]
        assert mcp["error"]["message"] == message
        assert text_of(rec.events) == f"The tool said: error: {message}"
        assert rec.events[-1]["response"]["status"] == "completed"


async def test_a_client_tool_of_the_same_name_wins():
    async def never(arguments: dict) -> str:
        raise AssertionError("the server tool must not run")

    rec = await run_turn(
        [ServerTool(spec=TIME_SPEC, run=never)], "please call a tool", tools=[WEATHER_TOOL]
    )
    output = rec.events[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["function_call"]


async def test_tool_choice_none_hides_server_tools():
    async def never(arguments: dict) -> str:
        raise AssertionError("the server tool must not run")

    rec = await run_turn(
        [ServerTool(spec=TIME_SPEC, run=never)], "please call a tool", tool_choice="none"
    )
    assert text_of(rec.events) == "Hello! You said: please call a tool"


async def test_tool_choice_may_force_a_server_tool():
    calls, tool = weather_tool("snow")
    rec = await run_turn(
        [tool],
        "hello",
        tool_choice={"type": "function", "name": "get_weather"},
    )
    assert len(calls) == 1
    assert text_of(rec.events) == "The tool said: snow"


async def test_a_speculative_response_runs_no_tool_until_adopted():
    calls, tool = weather_tool("fog")
    recorder = Recorder()
    session = new_session(recorder, [tool])
    run = await session.start_response(
        None, pending_items=[user_text("please call a tool")], speculative=True
    )
    await asyncio.sleep(0.3)
    assert calls == [] and recorder.events == []  # nothing ran, nothing was seen
    assert session.adopt(run)
    for _ in range(200):
        if recorder.events and recorder.events[-1]["type"] == "response.done":
            break
        await asyncio.sleep(0.01)
    assert len(calls) == 1
    assert recorder.events[0]["type"] == "response.created"
    assert text_of(recorder.events) == "The tool said: fog"


async def test_a_discarded_speculation_leaves_no_trace():
    recorder = Recorder()
    session = new_session(recorder)
    run = await session.start_response(None, pending_items=[user_text("hi")], speculative=True)
    await asyncio.sleep(0.1)
    run.discard()
    await asyncio.sleep(0.1)
    assert recorder.events == []
    assert len(session.conversation) == 0
