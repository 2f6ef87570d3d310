"""Real LLMs, no script: the embedded SmolLM2 (the product default) and an OpenAI-compatible
endpoint (llama.cpp's own server, started on 127.0.0.1 with the same model)."""

import contextlib
import json
import subprocess
import sys
import time

import httpx
import jsonschema
import pytest
from ovos_realtime.brain.models import packaged_smollm2

from tests.conftest import free_port
from tests.realtime_helpers import TIMER_TOOL, WEATHER_TOOL, Realtime, text_of, user_text

pytestmark = pytest.mark.slow


async def one_response(rt: Realtime, text: str, **response) -> list[dict]:
    await rt.conn.conversation.item.create(item=user_text(text))
    await rt.conn.response.create(response=response or None)
    return await rt.reader.until("response.done", timeout=120)


async def test_embedded_model_answers_a_text_turn(realtime, embedded_server):
    events = await one_response(await realtime(embedded_server), "What is the capital of France?")
    done = events[-1]["response"]
    assert done["status"] in ("completed", "incomplete")
    answer = text_of(events)
    assert len(answer.split()) >= 2, answer
    assert done["usage"]["input_tokens"] > 10
    assert done["usage"]["output_tokens"] >= 2


@pytest.mark.parametrize("tool", [WEATHER_TOOL, TIMER_TOOL], ids=["weather", "timer"])
async def test_embedded_forced_tool_call_validates_against_the_schema(
    realtime, embedded_server, tool
):
    events = await one_response(
        await realtime(embedded_server),
        "What's the weather in Lisbon? Also set a timer for 5 minutes.",
        tools=[WEATHER_TOOL, TIMER_TOOL],
        tool_choice={"type": "function", "name": tool["name"]},
    )
    output = events[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["function_call"]
    assert output[0]["name"] == tool["name"]
    jsonschema.validate(json.loads(output[0]["arguments"]), tool["parameters"])


async def test_embedded_required_tool_choice_picks_one_of_the_tools(realtime, embedded_server):
    events = await one_response(
        await realtime(embedded_server),
        "Set a timer for ten minutes please.",
        tools=[WEATHER_TOOL, TIMER_TOOL],
        tool_choice="required",
    )
    call = events[-1]["response"]["output"][0]
    tool = {"get_weather": WEATHER_TOOL, "set_timer": TIMER_TOOL}[call["name"]]
    jsonschema.validate(json.loads(call["arguments"]), tool["parameters"])


async def test_embedded_cancel_stops_generation(realtime, embedded_server):
    rt = await realtime(embedded_server)
    await rt.conn.conversation.item.create(item=user_text("Tell me a long story about a dragon."))
    await rt.conn.response.create()
    await rt.reader.until("response.output_text.delta", timeout=120)
    await rt.conn.response.cancel()
    done = (await rt.reader.until("response.done"))[-1]["response"]
    assert done["status"] == "cancelled"
    assert await rt.reader.drain(quiet=0.5) == []
    # The shared model is free again for the next response.
    await rt.conn.conversation.item.create(item=user_text("Say hello."))
    await rt.conn.response.create()
    events = await rt.reader.until("response.done", timeout=120)
    assert text_of(events)


@pytest.fixture(scope="module")
def llama_cpp_server():
    """llama.cpp's OpenAI-compatible server, a real endpoint for the `openai` backend."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(packaged_smollm2()),
            "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "2048", "--n_threads", "2",
            "--chat_format", "chatml-function-calling",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                break
        time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("llama.cpp server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def endpoint_server(server_factory, llama_cpp_server):
    return server_factory(
        {
            "llm": {
                "backend": "openai",
                "url": llama_cpp_server,
                "model": "smollm2",
                "max_output_tokens": 48,
                "temperature": 0.0,  # a 135M model at 0.7 may answer with nothing at all
            },
            "voice": {"enabled": False},
        }
    )


async def test_openai_compatible_endpoint_answers_a_text_turn(realtime, endpoint_server):
    events = await one_response(await realtime(endpoint_server), "What is the capital of France?")
    assert events[-1]["response"]["status"] in ("completed", "incomplete")
    assert text_of(events).strip()


async def test_openai_compatible_endpoint_streams_a_forced_tool_call(realtime, endpoint_server):
    events = await one_response(
        await realtime(endpoint_server),
        "What's the weather in Oslo?",
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "name": "get_weather"},
    )
    call = events[-1]["response"]["output"][0]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert any(e["type"] == "response.function_call_arguments.delta" for e in events)
    json.loads(call["arguments"])  # the endpoint's own grammar: it parses
