"""The OVOS integration's pure parts: tool schemas from skill docstrings, `public_api` replies,
bus frames, session state from ovos-core's replies (the bus itself: tests/test_ovos_server.py)."""

import json

import pytest
from ovos_bus_client.message import Message
from ovos_realtime.ovos.bus import parse_bus_url, valid_message
from ovos_realtime.ovos.schema import schema_from_docstring, summary, tool_parameters
from ovos_realtime.ovos.session import OvosSession, session_id_of
from ovos_realtime.ovos.skill_api import _tool_names, parse_public_api

GOOGLE = """Start a countdown timer.

    More words here.

    Args:
        duration_seconds (int): How long, in seconds.
        name (str, optional): A name for it,
            spanning two lines.
        loud (bool): Ring loudly.

    Returns:
        str: what happened
"""


def test_google_docstring_schema():
    assert schema_from_docstring(GOOGLE) == {
        "type": "object",
        "properties": {
            "duration_seconds": {"type": "integer", "description": "How long, in seconds."},
            "name": {"type": "string", "description": "A name for it, spanning two lines."},
            "loud": {"type": "boolean", "description": "Ring loudly."},
        },
        "required": ["duration_seconds", "loud"],
    }
    assert summary(GOOGLE) == "Start a countdown timer."


def test_sphinx_and_at_param_docstrings():
    doc = ":param float level: volume 0-1\n:param room: where\n:type room: Optional[str]"
    schema = schema_from_docstring(doc)
    assert schema["properties"] == {
        "level": {"type": "number", "description": "volume 0-1"},
        "room": {"type": "string", "description": "where"},
    }
    assert schema["required"] == ["level"]
    assert schema_from_docstring("@param city: the city")["required"] == ["city"]
    assert schema_from_docstring("No arguments.") == {"type": "object", "properties": {}}


def test_explicit_parameters_win_and_bad_ones_are_ignored():
    explicit = {"type": "object", "properties": {"x": {"type": "integer"}}}
    assert tool_parameters({"help": GOOGLE, "parameters": explicit}) == explicit
    assert tool_parameters({"help": 5, "parameters": "nope"}) == {
        "type": "object",
        "properties": {},
    }


def test_public_api_parsing_skips_malformed_entries():
    methods = parse_public_api(
        "skill.a",
        {
            "good": {"type": "skill.a.good", "help": GOOGLE},
            "no_type": {"help": "x"},
            "empty_type": {"type": ""},
            "bad name": {"type": "skill.a.bad"},
            "not_a_dict": [1],
            7: {"type": "skill.a.seven"},
        },
    )
    assert [(m.method, m.msg_type) for m in methods] == [("good", "skill.a.good")]
    assert parse_public_api("skill.a", ["not", "a", "dict"]) == []
    assert parse_public_api("skill.a", None) == []


def test_tool_names_tell_clashing_skills_apart():
    a = parse_public_api("weather.alice", {"forecast": {"type": "a.f"}, "now": {"type": "a.n"}})
    b = parse_public_api("weather.bob", {"forecast": {"type": "b.f"}})
    names = [name for _method, name in _tool_names(a + b)]
    assert names == ["weather_alice_forecast", "now", "weather_bob_forecast"]


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        "null",
        '{"type": 5}',
        '{"type": ""}',
        '{"type": "speak", "data": "text"}',
        '{"type": "speak", "data": {}, "context": [1]}',
        b"\x00\xff",
        None,
    ],
)
def test_malformed_frames_are_no_messages(frame):
    assert valid_message(frame) is None


def test_valid_frames_are_messages():
    message = valid_message(json.dumps({"type": "speak", "data": {"utterance": "hi"}}))
    assert message is not None and message.data == {"utterance": "hi"}


def test_bus_url_parsing():
    assert parse_bus_url("ws://127.0.0.1:8181/core") == ("127.0.0.1", 8181, "/core", False)
    assert parse_bus_url("wss://hub.local/core") == ("hub.local", 443, "/core", True)


def test_session_context_and_updates_from_core():
    session = OvosSession("sess_1", lang="en-GB", site_id="kitchen")
    context = session.context()
    assert context["session"]["session_id"] == "sess_1"
    assert context["session"]["lang"] == "en-GB" and context["session"]["site_id"] == "kitchen"
    assert context["session"]["pipeline"] == []  # ovos-core uses its own pipeline
    reply = Message(
        "speak",
        {},
        {
            "session": {
                "session_id": "sess_1",
                "active_skills": [["timer.skill", 1700000000.0]],
                "utterance_states": {"timer.skill": "response"},
            }
        },
    )
    session.update_from(reply)
    assert session.serialized()["active_skills"] == [["timer.skill", 1700000000.0]]
    assert session.serialized()["utterance_states"] == {"timer.skill": "response"}
    # other sessions' state and malformed state change nothing
    for bad in (
        {"session_id": "sess_2", "active_skills": []},
        {"session_id": "sess_1", "active_skills": "all", "utterance_states": ["x"]},
        {"session_id": "sess_1", "active_skills": [["only-one-field"]]},
    ):
        session.update_from(Message("speak", {}, {"session": bad}))
    assert session.serialized()["active_skills"] == [["timer.skill", 1700000000.0]]
    assert session_id_of(Message("x", {}, {})) is None
    assert session_id_of(Message("x", {}, {"session": {"session_id": 3}})) is None
    session.close()
