"""The agent protocol plugin in a real hivemind-core hub, answering real hivemind-bus-client
satellites with a running ovos-realtime server (scripted LLM: deterministic answers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from tests.conftest import SCRIPTED_BACKEND as SCRIPTED
from tests.hivemind_fixtures import Hub, Satellite, spoken

pytestmark = pytest.mark.timeout(180)

# Message types a satellite may send besides the hub's defaults (see the README's HiveMind section).
ALLOW = ("mycroft.stop", "speak:synth")


@pytest.fixture(scope="module")
def hub(tmp_path_factory, scripted_server):
    tmp = tmp_path_factory.mktemp("hub")
    agent = ("hivemind-realtime-agent-plugin", {"url": scripted_server.ws_base})
    hub = Hub(tmp, agent)
    # One client through the CLI, as the README tells; the others in one process (faster).
    hub.creds = {"kitchen": hub.add_client("kitchen", ALLOW)}
    hub.creds.update(hub.add_clients(("bedroom", "hostile"), ALLOW))
    hub.creds.update(hub.add_clients(("strict",)))  # the hub's default ACL only
    hub.start()
    yield hub
    hub.stop()
    log = hub.log()
    assert "Traceback" not in log, log[-4000:]


@pytest.fixture
def satellite(hub):
    opened = []

    def connect(name: str) -> Satellite:
        sat = Satellite(hub, name, *hub.creds[name])
        opened.append(sat)
        return sat

    yield connect
    for sat in opened:
        sat.close()


def test_text_satellite_gets_the_answer_one_speak_per_clause(satellite):
    sat = satellite("kitchen")
    sat.say("what is the capital of France, and what is its river?")
    messages = sat.turn()
    speaks = [m for m in messages if m.msg_type == "speak"]
    assert spoken(messages) == (
        "Hello! You said: what is the capital of France, and what is its river?"
    )
    assert len(speaks) >= 2, [m.data for m in speaks]  # streamed by clause, not one block
    assert messages[-1].msg_type == "ovos.utterance.handled"
    for m in messages:  # addressed to this satellite (its client moves destination to source)
        route = f"{m.context.get('destination')} {m.context.get('source')}"
        assert f"{sat.name}::" in route, m.context


def test_two_satellites_keep_their_own_conversations(satellite, hub):
    a, b = satellite("kitchen"), satellite("bedroom")
    a.say("my name is Ada")
    b.say("my name is Bob")
    assert spoken(a.turn()) == "Hello! You said: my name is Ada"
    assert spoken(b.turn()) == "Hello! You said: my name is Bob"
    a.say("and again")
    assert "and again" in spoken(a.turn())
    # Both of a's turns went to one Realtime session (the server keeps its history there).
    opened = [line for line in hub.log().splitlines() if "] Realtime session sess_" in line]
    assert len([line for line in opened if a.bus.session_id in line]) == 1, opened
    assert len([line for line in opened if b.bus.session_id in line]) == 1, opened
    time.sleep(0.3)
    # Neither saw a message of the other's turn.
    assert not [m for m in a.drain() if "Bob" in str(m.data)]
    assert not [m for m in b.drain() if "Ada" in str(m.data) or "again" in str(m.data)]


def test_stop_cancels_the_answer_in_flight(satellite):
    sat = satellite("kitchen")
    sat.say("tell me a long story")
    first = sat.next("speak")
    assert first.data["utterance"].startswith("word0")
    sat.emit("mycroft.stop")
    rest = sat.turn(timeout=10)
    # 400 words 10 ms apart would take 4 s; the stop ends the turn well before.
    assert len(spoken([first, *rest]).split()) < 300
    sat.say("hello again")
    assert spoken(sat.turn()) == "Hello! You said: hello again"


def test_stop_refused_by_the_hub_acl_leaves_the_answer_alone(satellite, hub):
    # mycroft.stop is not in the hub's default allowed types: the hub drops it (with a log
    # line naming the client) and the answer goes on to its end.
    sat = satellite("strict")
    sat.say("tell me a long story")
    sat.next("speak")
    sat.emit("mycroft.stop")
    messages = sat.turn(timeout=30)
    assert spoken(messages).split()[-1] == "word399"
    assert "sent an unauthorized bus message" in hub.log()


def test_malformed_and_hostile_messages_cost_a_log_line(satellite, hub):
    sat = satellite("hostile")
    for data in (
        {},
        {"utterances": "not a list"},
        {"utterances": []},
        {"utterances": [None]},
        {"utterances": [{"x": 1}]},
        {"utterances": ["   "]},
        {"utterances": [12345]},
    ):
        sat.emit("recognizer_loop:utterance", data)
    sat.emit("mycroft.stop", {"garbage": [1, 2, 3]})  # nothing in flight: nothing to stop
    sat.emit("speak:synth", {"utterance": None})  # no audio protocol here: ignored
    sat.say("x" * 5000)  # over max_utterance_chars
    refused = sat.turn()
    assert [m.msg_type for m in refused] == ["complete_intent_failure", "ovos.utterance.handled"]
    sat.say("still there?")
    assert spoken(sat.turn()) == "Hello! You said: still there?"
    assert "utterance without text" in hub.log()


def test_satellite_gone_mid_answer_closes_its_session(satellite, hub, scripted_server):
    sat = satellite("kitchen")
    sat.say("tell me a long story")
    sat.next("speak")
    sat.close()
    deadline = time.monotonic() + 10
    while "Realtime session closed" not in hub.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "satellite gone: closing its session" in hub.log()
    again = satellite("kitchen")
    again.say("back")
    assert spoken(again.turn()) == "Hello! You said: back"


def test_server_going_away_and_coming_back(tmp_path, server_factory):
    """The ovos-realtime server stops: the satellite gets complete_intent_failure and
    ovos.utterance.handled (no hang), the hub lives on; the server returns: answers again."""
    server = server_factory({"llm": {"backend": SCRIPTED}, "voice": {"enabled": False}})
    hub = Hub(tmp_path, ("hivemind-realtime-agent-plugin", {"url": server.ws_base}))
    creds = hub.add_clients(("porch",))
    hub.start()
    sat = None
    try:
        sat = Satellite(hub, "porch", *creds["porch"])
        sat.say("first")
        assert spoken(sat.turn()) == "Hello! You said: first"
        server.stop()
        sat.say("anyone there?")
        assert [m.msg_type for m in sat.turn()] == [
            "complete_intent_failure",
            "ovos.utterance.handled",
        ]
        # The same port again: `serve` with the same config file.
        server.proc = subprocess.Popen(
            [sys.executable, "-m", "ovos_realtime", "serve", "--config", str(server.config_file)],
            stdout=server.log_file.open("a"),
            stderr=subprocess.STDOUT,
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("OVOS_REALTIME_")},
                "PYTHONPATH": str(REPO),
            },
            cwd=REPO,
        )
        server._wait_ready()
        sat.say("back again")
        assert spoken(sat.turn()) == "Hello! You said: back again"
        assert "conversation starts afresh" in hub.log()
    finally:
        if sat is not None:
            sat.close()
        hub.stop()
    assert "Traceback" not in hub.log()
