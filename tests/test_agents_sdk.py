"""openai-agents' RealtimeRunner (strict event validation) pointed at the server."""

import asyncio
import logging

import pytest
from agents import function_tool
from agents.realtime import RealtimeAgent, RealtimeRunner

CALLS: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    CALLS.append(city)
    return f"sunny in {city}"


class _ErrorRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def agent_errors():
    # openai-agents logs (and drops) every server event that fails its TypeAdapter.
    recorder = _ErrorRecorder()
    logger = logging.getLogger("openai.agents")
    logger.addHandler(recorder)
    yield recorder.records
    logger.removeHandler(recorder)


async def run_turn(server, agent: RealtimeAgent, text: str, done) -> list:
    """Send `text`, collect session events until `done(events)` is true."""
    runner = RealtimeRunner(agent)
    session = await runner.run(
        model_config={
            "url": f"{server.ws_base}/realtime?model=ovos-realtime",
            "api_key": "unused",
            "initial_model_settings": {"output_modalities": ["text"]},
        }
    )
    events = []
    async with session:
        await session.send_message(text)

        async def collect() -> None:
            async for event in session:
                events.append(event)
                if event.type == "error":
                    raise AssertionError(f"agents reported an error: {event}")
                if done(events):
                    return

        await asyncio.wait_for(collect(), 60)
    return events


def assistant_texts(events: list) -> list[str]:
    texts = []
    for event in events:
        if event.type != "history_updated":
            continue
        texts = [
            part.text or getattr(part, "transcript", None) or ""
            for item in event.history
            if getattr(item, "role", None) == "assistant"
            for part in item.content
        ]
    return texts


async def test_agents_text_turn(scripted_server, agent_errors):
    agent = RealtimeAgent(name="helper", instructions="Be helpful.")
    events = await run_turn(
        scripted_server, agent, "hello agents", lambda evs: evs[-1].type == "agent_end"
    )
    assert any(event.type == "raw_model_event" for event in events)
    assert "Hello! You said: hello agents" in assistant_texts(events)
    assert not agent_errors, [r.getMessage() for r in agent_errors]


async def test_agents_function_tool_round_trip(scripted_server, agent_errors):
    CALLS.clear()
    agent = RealtimeAgent(name="weather", instructions="Use tools.", tools=[get_weather])
    events = await run_turn(
        scripted_server,
        agent,
        "please call a tool for the weather",
        lambda evs: "The tool said: sunny in Paris" in assistant_texts(evs),
    )
    assert CALLS == ["Paris"]
    tool_end = next(event for event in events if event.type == "tool_end")
    assert tool_end.output == "sunny in Paris"
    assert not agent_errors, [r.getMessage() for r in agent_errors]
