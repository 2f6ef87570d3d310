"""The server on a real OVOS stack: ovos-messagebus and ovos-core (intent pipeline + the
reference skill) as processes, the server pointed at the bus, Realtime clients on the openai SDK.

The LLM is tests.ovos_llm:DirectedLLM (the scripted LLM, plus `use <tool> <JSON>` to call a
given server tool). The bus-restart test runs last: it takes the bus down and brings it back.
"""

import asyncio
import json
import re
import signal
import time

import pytest
from ovos_bus_client.message import Message

from tests.ovos_fixtures import (  # noqa: F401  (fixtures)
    SKILL_ID,
    TIME_ANSWER,
    BusRecorder,
    bus_client,
    health,
    mcp_items,
    open_bus_client,
    ovos_stack,
    turn,
    wait_until,
)
from tests.realtime_helpers import Realtime, text_of, types, user_text

pytestmark = pytest.mark.timeout(120)

DIRECTED = "tests.ovos_llm:DirectedLLM"


TOOLBOX = {
    "name": "toolbox",
    "instructions": "You run the device's tools.",
    "brain": "persona",
    "tools": [f"skill:{SKILL_ID}"],
}


@pytest.fixture(scope="module")
def ovos_server(server_factory, ovos_stack, tmp_path_factory):  # noqa: F811
    personas = tmp_path_factory.mktemp("personas")
    (personas / "toolbox.json").write_text(json.dumps(TOOLBOX))
    return server_factory(
        {
            "llm": {"backend": DIRECTED},
            "voice": {"enabled": False},
            "ovos": {"bus_url": ovos_stack.bus_url, "utterance_timeout_s": 4},
            "personas": {"folder": str(personas)},
            "log_level": "debug",
        }
    )


@pytest.fixture(scope="module")
def server_connected(ovos_server):
    assert wait_until(lambda: health(ovos_server)["ovos"]["connected"], 20), ovos_server.log()
    return ovos_server


# ---- ovos brain mode ----


async def test_ovos_persona_answers_with_the_skill(realtime, server_connected):
    rt = await realtime(server_connected, model="ovos")
    events = await turn(rt, "what time is it")
    assert events[-1]["response"]["status"] == "completed"
    assert TIME_ANSWER.match(text_of(events)), text_of(events)
    # one text delta per `speak`, so speech can be made per speak
    assert types(events).count("response.output_text.delta") == 1


async def test_ovos_persona_falls_back_to_the_llm_when_no_skill_can(realtime, server_connected):
    rt = await realtime(server_connected, model="ovos")
    events = await turn(rt, "tell me about the moon")
    assert text_of(events) == "Hello! You said: tell me about the moon"


async def test_expect_response_sends_the_next_turn_back_to_the_skill(realtime, server_connected):
    rt = await realtime(server_connected, model="ovos")
    asked = await turn(rt, "start a timer")
    assert text_of(asked) == "For how long?"
    answered = await turn(rt, "two seconds")
    assert text_of(answered) == "Timer started for 2 seconds."


async def test_two_sessions_stay_apart(realtime, server_connected):
    a, b = await asyncio.gather(
        realtime(server_connected, model="ovos"), realtime(server_connected, model="ovos")
    )
    for _ in range(2):
        events_a, events_b = await asyncio.gather(
            turn(a, "what time is it"), turn(b, "what is the date")
        )
        assert TIME_ANSWER.match(text_of(events_a)), text_of(events_a)
        assert text_of(events_b).startswith("Today is "), text_of(events_b)
        assert "Today" not in text_of(events_a) and "It is" not in text_of(events_b)


# ---- persona mode: skill APIs and ask_ovos as server tools ----


async def test_llm_calls_a_skill_api_and_the_result_reaches_the_answer(realtime, server_connected):
    rt = await realtime(server_connected)
    events = await turn(rt, "use get_time {}")
    (mcp,) = mcp_items(events)
    assert mcp["name"] == "get_time" and mcp["server_label"] == "ovos"
    assert re.match(r"^\d\d:\d\d \w+", mcp["output"]), mcp
    assert text_of(events) == f"The tool said: {mcp['output']}"


async def test_scripted_llm_calls_the_first_skill_tool(realtime, server_connected):
    # "call a tool" makes the scripted LLM call the first tool on offer; the toolbox persona
    # offers the reference skill's API alone, and tools come sorted by name: cancel_timer first.
    rt = await realtime(server_connected, model="toolbox")
    events = await turn(rt, "please call a tool")
    (mcp,) = mcp_items(events)
    assert (mcp["name"], mcp["output"]) == ("cancel_timer", "There is no such timer running.")
    assert text_of(events) == "The tool said: There is no such timer running."


async def test_skill_timer_runs_in_the_session_context(realtime, server_connected, bus_client):  # noqa: F811
    recorder = BusRecorder(bus_client, f"{SKILL_ID}.timer.expired", "speak")
    rt = await realtime(server_connected)
    session_id = rt.created["session"]["id"]
    try:
        args = json.dumps({"duration_seconds": 1, "name": "tea"})
        events = await turn(rt, f"use start_timer {args}")
        (mcp,) = mcp_items(events)
        assert mcp["output"] == "Timer 'tea' started for 1 second."

        def ours(msg_type: str) -> list[Message]:
            return [
                m
                for m in recorder.of(msg_type)
                if m.context.get("session", {}).get("session_id") == session_id
            ]

        assert wait_until(lambda: ours(f"{SKILL_ID}.timer.expired"), 10)
        assert ours(f"{SKILL_ID}.timer.expired")[0].data["name"] == "tea"
        assert wait_until(lambda: ours("speak"), 5)
        assert ours("speak")[-1].data["utterance"] == "Your tea timer is done."
    finally:
        recorder.close()


async def test_ask_ovos_runs_the_utterance_through_the_pipeline(realtime, server_connected):
    rt = await realtime(server_connected)
    events = await turn(rt, 'use ask_ovos {"utterance": "what time is it"}')
    (mcp,) = mcp_items(events)
    assert mcp["name"] == "ask_ovos"
    assert TIME_ANSWER.match(mcp["output"]), mcp
    assert text_of(events) == f"The tool said: {mcp['output']}"
    events = await turn(rt, 'use ask_ovos {"utterance": "fly me to the moon"}')
    assert mcp_items(events)[0]["output"] == "No OVOS skill could handle that."


async def test_lang_and_site_id_come_from_the_query(realtime, server_connected, bus_client):  # noqa: F811
    recorder = BusRecorder(bus_client, "recognizer_loop:utterance")
    rt = await realtime(server_connected, model="ovos", lang="en-GB", site_id="kitchen")
    session_id = rt.created["session"]["id"]
    try:
        await turn(rt, "what time is it")
        assert wait_until(lambda: recorder.of("recognizer_loop:utterance"), 5)
        sent = recorder.of("recognizer_loop:utterance")[-1]
        assert sent.context["session"]["session_id"] == session_id
        assert sent.context["session"]["site_id"] == "kitchen"
        assert sent.context["session"]["lang"] == "en-GB"
    finally:
        recorder.close()


# ---- bus manners ----


def send_raw(client, payload: str) -> None:
    """Straight onto the websocket: MessageBusClient.emit would add a default session."""
    client.client.send(payload)


async def test_stop_on_the_bus_cancels_the_response(realtime, server_connected, bus_client):  # noqa: F811
    recorder = BusRecorder(
        bus_client, "recognizer_loop:audio_output_end", "recognizer_loop:audio_output_start"
    )
    rt = await realtime(server_connected)
    session_id = rt.created["session"]["id"]
    try:
        await rt.conn.conversation.item.create(item=user_text("slow please"))
        await rt.conn.response.create()
        await rt.reader.until("response.output_text.delta")
        # stops for another session, or for the device's own default session, are not ours
        for other in ("sess_someone_else", "default"):
            stop = Message("mycroft.stop", {}, {"session": {"session_id": other}})
            send_raw(bus_client, stop.serialize())
        await asyncio.sleep(0.5)
        assert "response.done" not in types(rt.reader.seen)
        stop = Message("mycroft.stop", {}, {"session": {"session_id": session_id}})
        send_raw(bus_client, stop.serialize())
        done = (await rt.reader.until("response.done", timeout=10))[-1]
        assert done["response"]["status"] == "cancelled"
        assert done["response"]["status_details"]["reason"] == "client_cancelled"
        # a global stop (no session) and speech stop also cancel
        for msg_type in ("mycroft.stop", "mycroft.audio.speech.stop"):
            await rt.conn.conversation.item.create(item=user_text("slow again"))
            await rt.conn.response.create()
            await rt.reader.until("response.output_text.delta")
            send_raw(bus_client, json.dumps({"type": msg_type, "data": {}, "context": {}}))
            done = (await rt.reader.until("response.done", timeout=10))[-1]
            assert done["response"]["status"] == "cancelled", msg_type
        # the session told OVOS its (text) speech ended after each response
        ends = recorder.of("recognizer_loop:audio_output_end")
        assert wait_until(
            lambda: (
                len(
                    [
                        m
                        for m in recorder.of("recognizer_loop:audio_output_end")
                        if m.context["session"]["session_id"] == session_id
                    ]
                )
                >= 3
            ),
            5,
        ), ends
        assert not recorder.of("recognizer_loop:audio_output_start")  # no audio: text only
    finally:
        recorder.close()


async def ask_until_skill_answers(rt: Realtime, deadline_s: float = 40) -> str:
    """ovos-core's bus client reconnects 5 s after its connection broke: retry until then."""
    deadline = time.monotonic() + deadline_s
    answer = ""
    while time.monotonic() < deadline:
        answer = text_of(await turn(rt, "what time is it"))
        if TIME_ANSWER.match(answer):
            break
        await asyncio.sleep(1)
    return answer


async def test_bad_and_foreign_bus_messages_are_ignored(realtime, server_connected, ovos_stack):  # noqa: F811
    # A frame that is not a message breaks the connection of every stock ovos-bus-client
    # (ovos-core's too, which reconnects 5 s later); the server drops the frame and stays on.
    sender = open_bus_client(ovos_stack.bus_url)
    rt = await realtime(server_connected, model="ovos")
    session_id = rt.created["session"]["id"]
    try:
        garbage = [
            "not json at all",
            "[1, 2, 3]",
            "null",
            '{"type": 5}',
            '{"type": "speak", "data": "not a dict"}',
            '{"type": "speak", "data": {"utterance": 42}, "context": {"session": "x"}}',
            '{"type": "ovos.utterance.handled", "data": {}, "context": {"session": []}}',
            json.dumps(
                {
                    "type": "speak",
                    "data": {"utterance": "intruder"},
                    "context": {"session": {"session_id": "sess_not_ours"}},
                }
            ),
            json.dumps(
                {
                    "type": "speak",
                    "data": {"utterance": "intruder"},
                    "context": {"session": {"session_id": session_id, "active_skills": "bad"}},
                }
            ),
            json.dumps({"type": f"{SKILL_ID}.public_api.response", "data": {"get_time": 7}}),
            "\x00\xff" * 10,
        ]
        for payload in garbage:
            send_raw(sender, payload)
        answer = await ask_until_skill_answers(rt)
        assert TIME_ANSWER.match(answer), answer
        assert "intruder" not in answer
        assert health(server_connected)["ovos"]["connected"]
        assert health(server_connected)["ovos"]["connections"] == 1  # never dropped the bus
    finally:
        sender.close()


async def test_malformed_public_api_replies_are_skipped(
    realtime,
    server_factory,
    ovos_stack,  # noqa: F811
    bus_client,  # noqa: F811
):
    fake = "fake-skill.tester"

    def broken_api(message: Message) -> None:
        bus_client.emit(
            message.response(
                {
                    "ok_but_odd": {"type": f"{fake}.odd", "help": 17, "parameters": "x"},
                    "no_type": {"help": "missing its message type"},
                    "bad name!": {"type": f"{fake}.bad"},
                    "not_a_dict": ["x"],
                }
            )
        )

    def odd(message: Message) -> None:
        bus_client.emit(message.response({"result": {"odd": True}}))

    bus_client.on(f"{fake}.public_api", broken_api)
    bus_client.on(f"{fake}.odd", odd)
    server = server_factory(
        {
            "llm": {"backend": DIRECTED},
            "voice": {"enabled": False},
            "ovos": {"bus_url": ovos_stack.bus_url, "skills": [fake, SKILL_ID, "absent.skill"]},
        }
    )
    try:
        assert wait_until(lambda: health(server)["ovos"]["connected"], 20)
        rt = await realtime(server)
        events = await turn(rt, "use ok_but_odd {}")
        assert mcp_items(events)[0]["output"] == '{"odd": true}'
        events = await turn(rt, "use get_time {}")
        assert re.match(r"^\d\d:\d\d", mcp_items(events)[0]["output"])
        events = await turn(rt, "use no_type {}")
        assert text_of(events) == "Hello! You said: use no_type {}"  # not a tool
    finally:
        bus_client.remove(f"{fake}.public_api", broken_api)
        bus_client.remove(f"{fake}.odd", odd)
        server.stop()


# ---- the bus goes down and comes back (last: it restarts the bus) ----


async def test_bus_restart_keeps_server_and_sessions(realtime, server_connected, ovos_stack):  # noqa: F811
    rt = await realtime(server_connected, model="ovos")
    assert TIME_ANSWER.match(text_of(await turn(rt, "what time is it")))
    ovos_stack.bus.send_signal(signal.SIGKILL)
    ovos_stack.bus.wait(10)
    assert wait_until(lambda: not health(server_connected)["ovos"]["connected"], 15)
    # the session lives on: with no bus, the ovos persona's LLM answers
    events = await turn(rt, "what time is it")
    assert text_of(events) == "Hello! You said: what time is it"
    ovos_stack.start_bus()
    assert wait_until(lambda: health(server_connected)["ovos"]["connected"], 20)
    assert health(server_connected)["ovos"]["connections"] >= 2
    # ovos-core reconnects on its own schedule (5 s); then skills answer again
    answer = await ask_until_skill_answers(rt)
    assert TIME_ANSWER.match(answer), answer
    rt = await realtime(server_connected)
    events = await turn(rt, "use get_time {}")
    assert re.match(r"^\d\d:\d\d", mcp_items(events)[0]["output"]), events[-1]
