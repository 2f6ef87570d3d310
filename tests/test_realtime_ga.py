"""The GA Realtime protocol, driven with the official openai SDK (`client.realtime.connect`).

The brain is the scripted LLM so that event sequences are deterministic."""

import asyncio
import json

from tests.realtime_helpers import WEATHER_TOOL, text_of, types, user_text


async def test_session_created_first_with_full_config(realtime, scripted_server):
    rt = await realtime(scripted_server)
    assert rt.created["type"] == "session.created"
    session = rt.created["session"]
    assert session["type"] == "realtime"
    assert session["model"] == "ovos-realtime"
    for key in ("instructions", "output_modalities", "audio", "tools", "tool_choice"):
        assert key in session, key
    assert session["audio"]["output"]["format"]["type"] == "audio/pcm"


async def test_session_update_is_a_partial_merge(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.session.update(
        session={
            "type": "realtime",
            "instructions": "Talk like a pirate.",
            "tools": [WEATHER_TOOL],
        }
    )
    updated = (await rt.reader.until("session.updated"))[-1]["session"]
    assert updated["instructions"] == "Talk like a pirate."
    assert updated["tools"][0]["name"] == "get_weather"
    await rt.conn.session.update(session={"type": "realtime", "audio": {"output": {"speed": 1.2}}})
    updated = (await rt.reader.until("session.updated"))[-1]["session"]
    assert updated["instructions"] == "Talk like a pirate."  # kept from the first update
    assert updated["audio"]["output"]["speed"] == 1.2
    assert updated["audio"]["output"]["voice"] == rt.created["session"]["audio"]["output"]["voice"]
    assert updated["audio"]["input"] == rt.created["session"]["audio"]["input"]


async def test_text_turn_event_order_and_usage(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.conversation.item.create(item=user_text("good morning"))
    added = await rt.reader.until("conversation.item.done")
    assert types(added) == ["conversation.item.added", "conversation.item.done"]
    await rt.conn.response.create()
    events = await rt.reader.until("response.done")
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
    assert await rt.reader.drain() == []


async def test_client_tool_round_trip(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.session.update(session={"type": "realtime", "tools": [WEATHER_TOOL]})
    await rt.reader.until("session.updated")
    await rt.conn.conversation.item.create(item=user_text("please call a tool for Paris"))
    await rt.conn.response.create()
    events = await rt.reader.until("response.done")
    call = events[-1]["response"]["output"][0]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    deltas = "".join(
        e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"
    )
    args_done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert deltas == args_done["arguments"] == call["arguments"]
    assert json.loads(call["arguments"]) == {"city": "Paris", "unit": "celsius"}

    await rt.conn.conversation.item.create(
        item={
            "type": "function_call_output",
            "call_id": call["call_id"],
            "output": "sunny, 21C",
        }
    )
    await rt.reader.until("conversation.item.done")
    await rt.conn.response.create()
    events = await rt.reader.until("response.done")
    assert text_of(events) == "The tool said: sunny, 21C"


async def test_forced_tool_call_per_response(realtime, scripted_server):
    rt = await realtime(scripted_server)
    other = {
        **WEATHER_TOOL,
        "name": "get_time",
        "parameters": {"type": "object", "properties": {}},
    }
    await rt.conn.conversation.item.create(item=user_text("hello"))
    await rt.conn.response.create(
        response={
            "tools": [other, WEATHER_TOOL],
            "tool_choice": {"type": "function", "name": "get_weather"},
        }
    )
    events = await rt.reader.until("response.done")
    output = events[-1]["response"]["output"]
    assert [item["name"] for item in output] == ["get_weather"]


async def test_tool_choice_naming_unknown_function_is_an_error(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.send(
        {
            "type": "response.create",
            "event_id": "evt_forced",
            "response": {
                "tools": [WEATHER_TOOL],
                "tool_choice": {"type": "function", "name": "nope"},
            },
        }
    )
    error = (await rt.reader.until("error"))[-1]["error"]
    assert error["event_id"] == "evt_forced"
    assert error["param"] == "response.tool_choice"


async def test_cancel_mid_stream_then_nothing_of_that_response(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.conversation.item.create(item=user_text("be slow"))
    await rt.conn.response.create()
    events = await rt.reader.until("response.output_text.delta")
    response_id = next(e for e in events if e["type"] == "response.created")["response"]["id"]
    await rt.conn.response.cancel()
    events = await rt.reader.until("response.done")
    done = events[-1]["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"]["reason"] == "client_cancelled"
    assert done["output"][0]["status"] == "incomplete"
    later = await rt.reader.drain(quiet=0.5)
    assert not [e for e in later if e.get("response_id") == response_id], types(later)
    # The session goes on.
    await rt.conn.conversation.item.create(item=user_text("again"))
    await rt.conn.response.create()
    events = await rt.reader.until("response.done")
    assert text_of(events) == "Hello! You said: again"


async def test_cancel_with_nothing_in_flight_is_an_error(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.send({"type": "response.cancel", "event_id": "evt_cancel"})
    error = (await rt.reader.until("error"))[-1]["error"]
    assert error["code"] == "response_cancel_not_active"
    assert error["event_id"] == "evt_cancel"


async def test_second_response_while_one_is_active_is_refused(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.conversation.item.create(item=user_text("slow please"))
    await rt.conn.response.create()
    await rt.reader.until("response.output_text.delta")
    await rt.conn.send({"type": "response.create", "event_id": "evt_second"})
    events = await rt.reader.until("error")
    assert events[-1]["error"]["code"] == "conversation_already_has_active_response"
    await rt.conn.response.cancel()
    await rt.reader.until("response.done")


async def test_conversation_items_insert_retrieve_delete(realtime, scripted_server):
    rt = await realtime(scripted_server)
    for item_id, text in (("item_a", "first"), ("item_c", "third")):
        await rt.conn.conversation.item.create(item={**user_text(text), "id": item_id})
    await rt.conn.conversation.item.create(
        item={**user_text("second"), "id": "item_b"}, previous_item_id="item_a"
    )
    await rt.conn.conversation.item.create(
        item={**user_text("zeroth"), "id": "item_0"}, previous_item_id="root"
    )
    added = [e for e in await rt.reader.drain() if e["type"] == "conversation.item.added"]
    assert [(e["item"]["id"], e["previous_item_id"]) for e in added] == [
        ("item_a", None),
        ("item_c", "item_a"),
        ("item_b", "item_a"),
        ("item_0", None),
    ]
    await rt.conn.conversation.item.retrieve(item_id="item_b")
    retrieved = (await rt.reader.until("conversation.item.retrieved"))[-1]
    assert retrieved["item"]["content"][0]["text"] == "second"
    await rt.conn.conversation.item.delete(item_id="item_b")
    assert (await rt.reader.until("conversation.item.deleted"))[-1]["item_id"] == "item_b"
    await rt.conn.send(
        {"type": "conversation.item.retrieve", "item_id": "item_b", "event_id": "e1"}
    )
    error = (await rt.reader.until("error"))[-1]["error"]
    assert (error["code"], error["param"], error["event_id"]) == (
        "item_not_found",
        "item_id",
        "e1",
    )
    await rt.conn.send(
        {
            "type": "conversation.item.create",
            "event_id": "e2",
            "previous_item_id": "item_missing",
            "item": user_text("x"),
        }
    )
    error = (await rt.reader.until("error"))[-1]["error"]
    assert (error["param"], error["event_id"]) == ("previous_item_id", "e2")
    # History order reaches the brain: the last item is the one answered.
    await rt.conn.response.create()
    events = await rt.reader.until("response.done")
    assert text_of(events) == "Hello! You said: third"


async def test_truncate_needs_an_assistant_audio_part(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.conversation.item.create(item={**user_text("hi"), "id": "item_u"})
    await rt.reader.until("conversation.item.done")
    await rt.conn.conversation.item.truncate(item_id="item_u", content_index=0, audio_end_ms=10)
    assert (await rt.reader.until("error"))[-1]["error"]["param"] == "item_id"
    await rt.conn.conversation.item.truncate(item_id="item_nope", content_index=0, audio_end_ms=10)
    assert (await rt.reader.until("error"))[-1]["error"]["code"] == "item_not_found"


async def test_out_of_band_response_leaves_the_conversation_alone(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.conversation.item.create(item={**user_text("in conversation"), "id": "item_1"})
    await rt.reader.until("conversation.item.done")
    await rt.conn.response.create(
        response={
            "conversation": "none",
            "metadata": {"purpose": "classify"},
            "input": [user_text("out of band")],
            "output_modalities": ["text"],
        }
    )
    events = await rt.reader.until("response.done")
    assert "conversation.item.added" not in types(events)
    done = events[-1]["response"]
    assert done["conversation_id"] is None
    assert done["metadata"] == {"purpose": "classify"}
    assert text_of(events) == "Hello! You said: out of band"
    # The conversation still ends with the user's item: a normal response answers it.
    await rt.conn.response.create()
    events = await rt.reader.until("response.done")
    assert text_of(events) == "Hello! You said: in conversation"


async def test_response_input_can_reference_conversation_items(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.conversation.item.create(item={**user_text("referenced"), "id": "item_ref"})
    await rt.conn.conversation.item.create(item=user_text("latest"))
    await rt.reader.drain()
    await rt.conn.response.create(
        response={
            "conversation": "none",
            "input": [{"type": "item_reference", "id": "item_ref"}],
        }
    )
    events = await rt.reader.until("response.done")
    assert text_of(events) == "Hello! You said: referenced"


async def test_max_output_tokens_ends_incomplete(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.conversation.item.create(item=user_text("one two three four five six"))
    await rt.conn.response.create(response={"max_output_tokens": 3})
    events = await rt.reader.until("response.done")
    done = events[-1]["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"]["reason"] == "max_output_tokens"
    assert text_of(events) == "Hello! You said:"


async def test_brain_failure_fails_the_response_not_the_session(realtime, scripted_server):
    rt = await realtime(scripted_server)
    await rt.conn.conversation.item.create(item=user_text("fail now"))
    await rt.conn.response.create()
    done = (await rt.reader.until("response.done"))[-1]["response"]
    assert done["status"] == "failed"
    await rt.conn.conversation.item.create(item=user_text("still here?"))
    await rt.conn.response.create()
    events = await rt.reader.until("response.done")
    assert text_of(events) == "Hello! You said: still here?"


async def test_two_sessions_are_independent(realtime, scripted_server):
    one, two = await asyncio.gather(realtime(scripted_server), realtime(scripted_server))
    assert one.created["session"]["id"] != two.created["session"]["id"]
    await one.conn.conversation.item.create(item=user_text("one"))
    await two.conn.conversation.item.create(item=user_text("two"))
    await one.conn.response.create()
    await two.conn.response.create()
    e1, e2 = await asyncio.gather(
        one.reader.until("response.done"), two.reader.until("response.done")
    )
    assert text_of(e1) == "Hello! You said: one"
    assert text_of(e2) == "Hello! You said: two"


async def test_disconnect_mid_response_leaves_nothing_behind(realtime, scripted_server):
    import httpx

    rt = await realtime(scripted_server)
    await rt.conn.conversation.item.create(item=user_text("slow goodbye"))
    await rt.conn.response.create()
    await rt.reader.until("response.output_text.delta")
    await rt.conn.close()
    async with httpx.AsyncClient(base_url=scripted_server.http_url) as http:
        for _ in range(50):
            if (await http.get("/health")).json()["sessions"] == 0:
                break
            await asyncio.sleep(0.1)
        assert (await http.get("/health")).json()["sessions"] == 0
    assert "Task was destroyed but it is pending" not in scripted_server.log()
