"""The beta dialect (`client.beta.realtime.connect`, `OpenAI-Beta: realtime=v1`) and the
browser handshake (subprotocols)."""

import json

import websockets

from tests.realtime_helpers import BETA_EVENTS, WEATHER_TOOL, text_of, types, user_text


async def test_beta_session_shape_and_text_turn(realtime, scripted_server):
    rt = await realtime(scripted_server, beta=True)
    created = rt.created["session"]
    assert created["modalities"] == ["text"]
    assert created["input_audio_format"] == "pcm16"
    assert "audio" not in created and "output_modalities" not in created

    await rt.conn.session.update(
        session={
            "instructions": "Be terse.",
            "voice": "af_heart",
            "temperature": 0.6,
            "output_audio_format": "g711_ulaw",
        }
    )
    updated = (await rt.reader.until("session.updated"))[-1]["session"]
    assert updated["instructions"] == "Be terse."
    assert updated["voice"] == "af_heart"
    assert updated["temperature"] == 0.6
    assert updated["output_audio_format"] == "g711_ulaw"
    assert updated["input_audio_format"] == "pcm16"

    await rt.conn.conversation.item.create(item=user_text("hi beta"))
    created_item = (await rt.reader.until("conversation.item.created"))[-1]
    assert created_item["item"]["content"][0]["text"] == "hi beta"
    await rt.conn.response.create(response={"modalities": ["text"]})
    events = await rt.reader.until("response.done")
    kinds = types(events)
    assert "response.text.delta" in kinds and "response.output_text.delta" not in kinds
    assert "conversation.item.done" not in kinds
    assert text_of(events, "response.text.delta") == "Hello! You said: hi beta"
    done = events[-1]["response"]
    assert done["modalities"] == ["text"]
    assert done["output"][0]["content"][0]["type"] == "text"


async def test_beta_tool_choice_by_name(realtime, scripted_server):
    rt = await realtime(scripted_server, beta=True)
    await rt.conn.session.update(session={"tools": [WEATHER_TOOL]})
    await rt.reader.until("session.updated")
    await rt.conn.conversation.item.create(item=user_text("weather?"))
    await rt.conn.response.create(response={"tool_choice": "get_weather"})
    events = await rt.reader.until("response.done")
    call = events[-1]["response"]["output"][0]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert json.loads(call["arguments"])["city"] == "Paris"


async def test_browser_subprotocols_choose_beta_and_get_realtime_back(scripted_server):
    async with websockets.connect(
        f"{scripted_server.ws_base}/realtime?model=ovos-realtime",
        subprotocols=["realtime", "openai-beta.realtime-v1", "openai-insecure-api-key.unused"],
    ) as ws:
        assert ws.subprotocol == "realtime"
        created = json.loads(await ws.recv())
        BETA_EVENTS.validate_python(created)
        assert created["type"] == "session.created"
        assert "modalities" in created["session"]


async def test_plain_connection_gets_ga_and_no_subprotocol(scripted_server):
    async with websockets.connect(f"{scripted_server.ws_base}/realtime") as ws:
        assert ws.subprotocol is None
        created = json.loads(await ws.recv())
        assert created["session"]["type"] == "realtime"
