"""Bad frames get an `error` event naming the param and the client's event_id; the session and
its conversation survive, and a normal turn works afterwards."""

import json

import pytest
import websockets

from tests.realtime_helpers import GA_EVENTS, text_of, user_text


class RawClient:
    """A bare WebSocket client, to send what no SDK would."""

    def __init__(self, ws) -> None:
        self.ws = ws

    async def next(self, timeout: float = 30) -> dict:
        import asyncio

        event = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        GA_EVENTS.validate_python(event)
        return event

    async def until(self, event_type: str) -> list[dict]:
        events = []
        while True:
            events.append(await self.next())
            if events[-1]["type"] == event_type:
                return events

    async def send(self, frame: str | bytes | dict) -> None:
        await self.ws.send(json.dumps(frame) if isinstance(frame, dict) else frame)


@pytest.fixture
async def raw(scripted_server):
    async with websockets.connect(
        f"{scripted_server.ws_base}/realtime?model=ovos-realtime", max_size=None
    ) as ws:
        client = RawClient(ws)
        assert (await client.next())["type"] == "session.created"
        yield client


BAD_FRAMES = [
    # (frame, expected code, expected param, expected event_id)
    ("{not json", "invalid_json", None, None),
    ("[1, 2, 3]", "invalid_json", None, None),
    ('"just a string"', "invalid_json", None, None),
    ({"event_id": "e1"}, "missing_required_parameter", "type", "e1"),
    ({"type": 42, "event_id": "e2"}, "missing_required_parameter", "type", "e2"),
    ({"type": "no.such.event", "event_id": "e3"}, "invalid_value", "type", "e3"),
    (
        {"type": "session.update", "event_id": "e4", "session": "nope"},
        "invalid_value",
        "session",
        "e4",
    ),
    ({"type": "session.update", "event_id": "e5"}, "missing_required_parameter", "session", "e5"),
    (
        {"type": "session.update", "event_id": "e6", "session": {"type": "realtime", "tools": 7}},
        "invalid_value",
        "session.tools",
        "e6",
    ),
    (
        {
            "type": "session.update",
            "event_id": "e7",
            "session": {"type": "realtime", "output_modalities": ["text", "audio"]},
        },
        "invalid_value",
        "session.output_modalities",
        "e7",
    ),
    (
        {"type": "conversation.item.delete", "event_id": "e8"},
        "missing_required_parameter",
        "item_id",
        "e8",
    ),
    (
        {"type": "conversation.item.delete", "event_id": "e9", "item_id": "ghost"},
        "item_not_found",
        "item_id",
        "e9",
    ),
    (
        {"type": "conversation.item.create", "event_id": "e10", "item": {"type": "message"}},
        None,
        None,
        "e10",
    ),
    (
        {
            "type": "conversation.item.create",
            "event_id": "e11",
            "item": {"type": "function_call_output", "output": "x"},
        },
        "missing_required_parameter",
        "item.call_id",
        "e11",
    ),
    (
        {"type": "response.create", "event_id": "e12", "response": {"conversation": "other"}},
        "invalid_value",
        "response.conversation",
        "e12",
    ),
    (
        {"type": "response.create", "event_id": "e13", "response": {"input": [{"type": "bogus"}]}},
        None,
        None,
        "e13",
    ),
    (
        {
            "type": "response.create",
            "event_id": "e14",
            "response": {"metadata": {f"k{i}": "v" for i in range(20)}},
        },
        "invalid_value",
        "response.metadata",
        "e14",
    ),
    (
        {"type": "input_audio_buffer.append", "event_id": "e15", "audio": "AAAA"},
        None,
        "type",
        "e15",
    ),
    (
        {
            "type": "conversation.item.truncate",
            "event_id": "e16",
            "item_id": "x",
            "content_index": "zero",
            "audio_end_ms": 1,
        },
        "invalid_value",
        "content_index",
        "e16",
    ),
    (b"\xff\xfe\x00binary", "invalid_json", None, None),
]


@pytest.mark.parametrize(("frame", "code", "param", "event_id"), BAD_FRAMES)
async def test_bad_frame_gets_an_error_and_the_session_goes_on(raw, frame, code, param, event_id):
    await raw.send(frame)
    error = (await raw.until("error"))[-1]["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error
    assert error["event_id"] == event_id
    await raw.send({"type": "conversation.item.create", "item": user_text("still alive")})
    await raw.send({"type": "response.create"})
    assert text_of(await raw.until("response.done")) == "Hello! You said: still alive"


async def test_oversized_frame_is_refused_with_an_error(raw):
    await raw.send(
        {"type": "conversation.item.create", "item": {**user_text("keep me"), "id": "item_keep"}}
    )
    await raw.until("conversation.item.done")
    huge = json.dumps(
        {
            "event_id": "evt_huge",
            "type": "conversation.item.create",
            "item": user_text("x" * (16 * 1024 * 1024)),
        }
    )
    await raw.send(huge)
    error = (await raw.until("error"))[-1]["error"]
    assert error["code"] == "event_too_large"
    assert error["event_id"] == "evt_huge"
    # Nothing was lost: the earlier item is still there and answered.
    await raw.send({"type": "conversation.item.retrieve", "item_id": "item_keep"})
    assert (await raw.until("conversation.item.retrieved"))[-1]["item"]["id"] == "item_keep"
    await raw.send({"type": "response.create"})
    assert text_of(await raw.until("response.done")) == "Hello! You said: keep me"


async def test_a_burst_of_garbage_does_not_disturb_the_conversation(raw):
    await raw.send({"type": "conversation.item.create", "item": user_text("first")})
    await raw.until("conversation.item.done")
    for i in range(200):
        await raw.send("garbage" if i % 2 else {"type": f"bad.{i}"})
    errors = 0
    while errors < 200:
        event = await raw.next()
        errors += event["type"] == "error"
    await raw.send({"type": "response.create"})
    assert text_of(await raw.until("response.done")) == "Hello! You said: first"
