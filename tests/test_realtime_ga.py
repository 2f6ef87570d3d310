"""The GA Realtime protocol, driven with the official openai SDK (`client.realtime.connect`).

The brain is the scripted LLM so that event sequences are deterministic."""

import asyncio
import json

import pytest
from openai import AsyncOpenAI

from tests.realtime_helpers import WEATHER_TOOL, EventReader, text_of, types, user_text


@pytest.fixture
def client(scripted_bridge) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="unused", websocket_base_url=scripted_bridge.ws_base)


async def connect(client: AsyncOpenAI):
    conn = await client.realtime.connect(model="ovos-realtime").enter()
    reader = EventReader(conn)
    created = await reader.next()
    return conn, reader, created


async def test_session_created_first_with_full_config(client):
    conn, reader, created = await connect(client)
    try:
        assert created["type"] == "session.created"
        session = created["session"]
        assert session["type"] == "realtime"
        assert session["model"] == "ovos-realtime"
        for key in ("instructions", "output_modalities", "audio", "tools", "tool_choice"):
            assert key in session, key
        assert session["audio"]["output"]["format"]["type"] == "audio/pcm"
    finally:
        await conn.close()


async def test_session_update_is_a_partial_merge(client):
    conn, reader, created = await connect(client)
    try:
        await conn.session.update(
            session={
                "type": "realtime",
                "instructions": "Talk like a pirate.",
                "tools": [WEATHER_TOOL],
            }
        )
        updated = (await reader.until("session.updated"))[-1]["session"]
        assert updated["instructions"] == "Talk like a pirate."
        assert updated["tools"][0]["name"] == "get_weather"
        await conn.session.update(session={"type": "realtime", "audio": {"output": {"speed": 1.2}}})
        updated = (await reader.until("session.updated"))[-1]["session"]
        assert updated["instructions"] == "Talk like a pirate."  # kept from the first update
        assert updated["audio"]["output"]["speed"] == 1.2
        assert updated["audio"]["output"]["voice"] == created["session"]["audio"]["output"]["voice"]
        assert updated["audio"]["input"] == created["session"]["audio"]["input"]
    finally:
        await conn.close()


async def test_text_turn_event_order_and_usage(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.conversation.item.create(item=user_text("good morning"))
        added = await reader.until("conversation.item.done")
        assert types(added) == ["conversation.item.added", "conversation.item.done"]
        await conn.response.create()
        events = await reader.until("response.done")
        kinds = types(events)
        first_delta = kinds.index("response.output_text.delta")
        assert kinds[:first_delta] == [
            "response.created",
            "response.output_item.added",
            "conversation.item.added",
            "response.content_part.added",
        ]
        assert kinds[kinds.index("response.output_text.done") :] == [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ]
        assert text_of(events) == "Hello! You said: good morning"
        done = events[-1]["response"]
        assert done["status"] == "completed"
        assert (
            done["usage"]["total_tokens"]
            == done["usage"]["input_tokens"] + done["usage"]["output_tokens"]
        )
        assert done["output"][0]["content"][0]["text"] == "Hello! You said: good morning"
        assert await reader.drain() == []
    finally:
        await conn.close()


async def test_client_tool_round_trip(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.session.update(session={"type": "realtime", "tools": [WEATHER_TOOL]})
        await reader.until("session.updated")
        await conn.conversation.item.create(item=user_text("please call a tool for Paris"))
        await conn.response.create()
        events = await reader.until("response.done")
        call = events[-1]["response"]["output"][0]
        assert call["type"] == "function_call" and call["name"] == "get_weather"
        deltas = "".join(
            e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"
        )
        args_done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
        assert deltas == args_done["arguments"] == call["arguments"]
        assert json.loads(call["arguments"]) == {"city": "Paris", "unit": "celsius"}

        await conn.conversation.item.create(
            item={
                "type": "function_call_output",
                "call_id": call["call_id"],
                "output": "sunny, 21C",
            }
        )
        await reader.until("conversation.item.done")
        await conn.response.create()
        events = await reader.until("response.done")
        assert text_of(events) == "The tool said: sunny, 21C"
    finally:
        await conn.close()


async def test_forced_tool_call_per_response(client):
    conn, reader, _ = await connect(client)
    try:
        other = {
            **WEATHER_TOOL,
            "name": "get_time",
            "parameters": {"type": "object", "properties": {}},
        }
        await conn.conversation.item.create(item=user_text("hello"))
        await conn.response.create(
            response={
                "tools": [other, WEATHER_TOOL],
                "tool_choice": {"type": "function", "name": "get_weather"},
            }
        )
        events = await reader.until("response.done")
        output = events[-1]["response"]["output"]
        assert [item["name"] for item in output] == ["get_weather"]
    finally:
        await conn.close()


async def test_tool_choice_naming_unknown_function_is_an_error(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.send(
            {
                "type": "response.create",
                "event_id": "evt_forced",
                "response": {
                    "tools": [WEATHER_TOOL],
                    "tool_choice": {"type": "function", "name": "nope"},
                },
            }
        )
        error = (await reader.until("error"))[-1]["error"]
        assert error["event_id"] == "evt_forced"
        assert error["param"] == "response.tool_choice"
    finally:
        await conn.close()


async def test_cancel_mid_stream_then_nothing_of_that_response(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.conversation.item.create(item=user_text("be slow"))
        await conn.response.create()
        events = await reader.until("response.output_text.delta")
        response_id = next(e for e in events if e["type"] == "response.created")["response"]["id"]
        await conn.response.cancel()
        events = await reader.until("response.done")
        done = events[-1]["response"]
        assert done["status"] == "cancelled"
        assert done["status_details"]["reason"] == "client_cancelled"
        assert done["output"][0]["status"] == "incomplete"
        later = await reader.drain(quiet=0.5)
        assert not [e for e in later if e.get("response_id") == response_id], types(later)
        # The session goes on.
        await conn.conversation.item.create(item=user_text("again"))
        await conn.response.create()
        events = await reader.until("response.done")
        assert text_of(events) == "Hello! You said: again"
    finally:
        await conn.close()


async def test_cancel_with_nothing_in_flight_is_an_error(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.send({"type": "response.cancel", "event_id": "evt_cancel"})
        error = (await reader.until("error"))[-1]["error"]
        assert error["code"] == "response_cancel_not_active"
        assert error["event_id"] == "evt_cancel"
    finally:
        await conn.close()


async def test_second_response_while_one_is_active_is_refused(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.conversation.item.create(item=user_text("slow please"))
        await conn.response.create()
        await reader.until("response.output_text.delta")
        await conn.send({"type": "response.create", "event_id": "evt_second"})
        events = await reader.until("error")
        assert events[-1]["error"]["code"] == "conversation_already_has_active_response"
        await conn.response.cancel()
        await reader.until("response.done")
    finally:
        await conn.close()


async def test_conversation_items_insert_retrieve_delete(client):
    conn, reader, _ = await connect(client)
    try:
        for item_id, text in (("item_a", "first"), ("item_c", "third")):
            await conn.conversation.item.create(item={**user_text(text), "id": item_id})
        await conn.conversation.item.create(
            item={**user_text("second"), "id": "item_b"}, previous_item_id="item_a"
        )
        await conn.conversation.item.create(
            item={**user_text("zeroth"), "id": "item_0"}, previous_item_id="root"
        )
        added = [e for e in await reader.drain() if e["type"] == "conversation.item.added"]
        assert [(e["item"]["id"], e["previous_item_id"]) for e in added] == [
            ("item_a", None),
            ("item_c", "item_a"),
            ("item_b", "item_a"),
            ("item_0", None),
        ]
        await conn.conversation.item.retrieve(item_id="item_b")
        retrieved = (await reader.until("conversation.item.retrieved"))[-1]
        assert retrieved["item"]["content"][0]["text"] == "second"
        await conn.conversation.item.delete(item_id="item_b")
        assert (await reader.until("conversation.item.deleted"))[-1]["item_id"] == "item_b"
        await conn.send(
            {"type": "conversation.item.retrieve", "item_id": "item_b", "event_id": "e1"}
        )
        error = (await reader.until("error"))[-1]["error"]
        assert (error["code"], error["param"], error["event_id"]) == (
            "item_not_found",
            "item_id",
            "e1",
        )
        await conn.send(
            {
                "type": "conversation.item.create",
                "event_id": "e2",
                "previous_item_id": "item_missing",
                "item": user_text("x"),
            }
        )
        error = (await reader.until("error"))[-1]["error"]
        assert (error["param"], error["event_id"]) == ("previous_item_id", "e2")
        # History order reaches the brain: the last item is the one answered.
        await conn.response.create()
        events = await reader.until("response.done")
        assert text_of(events) == "Hello! You said: third"
    finally:
        await conn.close()


async def test_truncate_needs_an_assistant_audio_part(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.conversation.item.create(item={**user_text("hi"), "id": "item_u"})
        await reader.until("conversation.item.done")
        await conn.conversation.item.truncate(item_id="item_u", content_index=0, audio_end_ms=10)
        assert (await reader.until("error"))[-1]["error"]["param"] == "item_id"
        await conn.conversation.item.truncate(item_id="item_nope", content_index=0, audio_end_ms=10)
        assert (await reader.until("error"))[-1]["error"]["code"] == "item_not_found"
    finally:
        await conn.close()


async def test_out_of_band_response_leaves_the_conversation_alone(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.conversation.item.create(item={**user_text("in conversation"), "id": "item_1"})
        await reader.until("conversation.item.done")
        await conn.response.create(
            response={
                "conversation": "none",
                "metadata": {"purpose": "classify"},
                "input": [user_text("out of band")],
                "output_modalities": ["text"],
            }
        )
        events = await reader.until("response.done")
        assert "conversation.item.added" not in types(events)
        done = events[-1]["response"]
        assert done["conversation_id"] is None
        assert done["metadata"] == {"purpose": "classify"}
        assert text_of(events) == "Hello! You said: out of band"
        # The conversation still ends with the user's item: a normal response answers it.
        await conn.response.create()
        events = await reader.until("response.done")
        assert text_of(events) == "Hello! You said: in conversation"
    finally:
        await conn.close()


async def test_response_input_can_reference_conversation_items(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.conversation.item.create(item={**user_text("referenced"), "id": "item_ref"})
        await conn.conversation.item.create(item=user_text("latest"))
        await reader.drain()
        await conn.response.create(
            response={
                "conversation": "none",
                "input": [{"type": "item_reference", "id": "item_ref"}],
            }
        )
        events = await reader.until("response.done")
        assert text_of(events) == "Hello! You said: referenced"
    finally:
        await conn.close()


async def test_max_output_tokens_ends_incomplete(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.conversation.item.create(item=user_text("one two three four five six"))
        await conn.response.create(response={"max_output_tokens": 3})
        events = await reader.until("response.done")
        done = events[-1]["response"]
        assert done["status"] == "incomplete"
        assert done["status_details"]["reason"] == "max_output_tokens"
        assert text_of(events) == "Hello! You said:"
    finally:
        await conn.close()


async def test_brain_failure_fails_the_response_not_the_session(client):
    conn, reader, _ = await connect(client)
    try:
        await conn.conversation.item.create(item=user_text("fail now"))
        await conn.response.create()
        done = (await reader.until("response.done"))[-1]["response"]
        assert done["status"] == "failed"
        await conn.conversation.item.create(item=user_text("still here?"))
        await conn.response.create()
        events = await reader.until("response.done")
        assert text_of(events) == "Hello! You said: still here?"
    finally:
        await conn.close()


async def test_two_sessions_are_independent(client):
    (c1, r1, s1), (c2, r2, s2) = await asyncio.gather(connect(client), connect(client))
    try:
        assert s1["session"]["id"] != s2["session"]["id"]
        await c1.conversation.item.create(item=user_text("one"))
        await c2.conversation.item.create(item=user_text("two"))
        await c1.response.create()
        await c2.response.create()
        e1, e2 = await asyncio.gather(r1.until("response.done"), r2.until("response.done"))
        assert text_of(e1) == "Hello! You said: one"
        assert text_of(e2) == "Hello! You said: two"
    finally:
        await c1.close()
        await c2.close()


async def test_disconnect_mid_response_leaves_nothing_behind(client, scripted_bridge):
    import httpx

    conn, reader, _ = await connect(client)
    await conn.conversation.item.create(item=user_text("slow goodbye"))
    await conn.response.create()
    await reader.until("response.output_text.delta")
    await conn.close()
    async with httpx.AsyncClient(base_url=scripted_bridge.http_url) as http:
        for _ in range(50):
            if (await http.get("/health")).json()["sessions"] == 0:
                break
            await asyncio.sleep(0.1)
        assert (await http.get("/health")).json()["sessions"] == 0
    assert "Task was destroyed but it is pending" not in scripted_bridge.log()
