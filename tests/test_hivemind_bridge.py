"""The server as a HiveMind client: OVOS skills reached through a real hivemind-core hub
(its OVOS agent plugin, in front of a real messagebus + ovos-core with the reference skill)."""

from __future__ import annotations

import re

import pytest

from tests.hivemind_fixtures import Hub
from tests.ovos_fixtures import (  # noqa: F401  (fixtures)
    SKILL_ID,
    TIME_ANSWER,
    health,
    mcp_items,
    mycroft_conf,
    ovos_stack,
    turn,
    wait_until,
)
from tests.realtime_helpers import text_of

pytestmark = pytest.mark.timeout(240)

# What this bridge may send (the hub's defaults include recognizer_loop:utterance); get_date
# is left out on purpose: the ACL test calls it.
ALLOW = ("mycroft.stop", f"{SKILL_ID}.public_api", f"{SKILL_ID}.get_time")


@pytest.fixture(scope="module")
def hub(tmp_path_factory, ovos_stack):  # noqa: F811
    tmp = tmp_path_factory.mktemp("hub-ovos")
    agent = ("hivemind-ovos-agent-plugin", {"host": "127.0.0.1", "port": ovos_stack.port})
    # On a device the hub reads ovos-core's mycroft.conf: sessions it fills in get its pipeline.
    hub = Hub(tmp, agent, mycroft_conf=mycroft_conf(ovos_stack.port))
    hub.creds = {"bridge": hub.add_client("bridge", ALLOW)}
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture(scope="module")
def bridge(server_factory, hub):
    key, password = hub.creds["bridge"]
    server = server_factory(
        {
            "llm": {"backend": "tests.ovos_llm:DirectedLLM"},
            "voice": {"enabled": False},
            "ovos": {
                "hivemind": {
                    "host": "127.0.0.1",
                    "port": hub.port,
                    "access_key": key,
                    "password": password,
                    "site_id": "living-room",
                },
                # Through a hub, ovos-core's skill list (a broadcast) does not reach us.
                "skills": [SKILL_ID],
                "tool_timeout_s": 3,
                "utterance_timeout_s": 10,
            },
            "log_level": "debug",
        }
    )
    ready = wait_until(lambda: health(server)["ovos"]["connected"], 60)
    assert ready, server.log()[-3000:]
    return server


async def test_ovos_persona_answers_with_the_skill_through_the_hub(realtime, bridge):
    assert health(bridge)["ovos"]["via"] == "hivemind"
    rt = await realtime(bridge, model="ovos")
    events = await turn(rt, "what time is it")
    assert TIME_ANSWER.match(text_of(events)), (text_of(events), bridge.log()[-3000:])
    # A second conversation gets its own answers (the replies carry its session back).
    other = await realtime(bridge, model="ovos")
    assert TIME_ANSWER.match(text_of(await turn(other, "what time is it")))


async def test_skill_api_as_a_tool_through_the_hub(realtime, bridge):
    rt = await realtime(bridge)
    events = await turn(rt, "use get_time {}")
    (mcp,) = mcp_items(events)
    assert re.match(r"^\d\d:\d\d \w+", mcp["output"] or ""), mcp


async def test_a_message_type_the_hub_refuses_is_a_clear_error(realtime, bridge, hub):
    rt = await realtime(bridge)
    events = await turn(rt, "use get_date {}")
    (mcp,) = mcp_items(events)
    error = str(mcp.get("error"))
    assert "ACL" in error and f"allow-msg {SKILL_ID}.get_date" in error, mcp
    assert events[-1]["response"]["status"] == "completed"  # the answer goes on
    assert "sent an unauthorized bus message" in hub.log()


async def test_hub_going_away_and_coming_back(realtime, bridge, hub):
    # Last: it restarts the hub. Meanwhile the ovos persona's LLM answers; then skills again.
    hub.stop()
    assert wait_until(lambda: not health(bridge)["ovos"]["connected"], 30), bridge.log()[-2000:]
    rt = await realtime(bridge, model="ovos")
    assert text_of(await turn(rt, "what time is it")) == "Hello! You said: what time is it"
    hub.start()
    # Both sides' logs: one full-suite run saw the bridge connect and be dropped every 5 s.
    assert wait_until(lambda: health(bridge)["ovos"]["connected"], 90), (
        bridge.log()[-3000:] + "\n--- hub ---\n" + hub.log()[-3000:]
    )
    assert TIME_ANSWER.match(text_of(await turn(rt, "what time is it")))
