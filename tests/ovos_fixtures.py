"""A real OVOS stack for the OVOS integration tests: ovos-messagebus and ovos-core (skills service
with the intent pipeline and our reference skill) as processes on 127.0.0.1.

Each process gets its own XDG folders and a minimal mycroft.conf, so nothing of the machine's own
OVOS setup (audio, other skills, network) is used. Import the fixtures into a test module:

    from tests.ovos_fixtures import ovos_stack  # noqa: F401
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ovos_bus_client.client import MessageBusClient
from ovos_bus_client.message import Message

from tests.conftest import REPO, free_port
from tests.realtime_helpers import Realtime, user_text

SKILL_ID = "ovos-skill-realtime-tools.openvoiceos"
# Pipeline stages that exist with ovos-core + padacioso alone (no padatious, adapt, OCP, models).
PIPELINE = [
    "stop_high",
    "converse",
    "padacioso_high",
    "fallback_high",
    "stop_medium",
    "padacioso_medium",
    "fallback_medium",
    "padacioso_low",
    "fallback_low",
]


TIME_ANSWER = re.compile(
    r"^It is \d\d:\d\d\.$"
)  # the reference skill's answer to "what time is it"


def health(server: Any) -> dict:
    """The server's /health JSON (its `ovos` block says whether the bus is connected)."""
    return httpx.get(f"{server.http_url}/health", timeout=5).json()


async def turn(rt: Realtime, text: str, timeout: float = 30) -> list[dict]:
    """One text turn on a Realtime connection: every event up to `response.done`."""
    await rt.conn.conversation.item.create(item=user_text(text))
    await rt.conn.response.create()
    return await rt.reader.until("response.done", timeout=timeout)


def mcp_items(events: list[dict]) -> list[dict]:
    """The `mcp_call` items (skill APIs run as tools) of the turn's `response.done`."""
    return [item for item in events[-1]["response"]["output"] if item["type"] == "mcp_call"]


def mycroft_conf(port: int) -> dict:
    return {
        "lang": "en-US",
        "secondary_langs": [],
        "websocket": {
            "host": "127.0.0.1",
            "port": port,
            "route": "/core",
            "ssl": False,
            "shared_connection": True,
        },
        "intents": {"pipeline": PIPELINE, "padacioso": {"fuzz": False}},
        "skills": {"blacklisted_skills": [], "installer": {"allow_pip": False}},
        "utterance_transformers": {},
        "metadata_transformers": {},
        "intent_transformers": {},
        "open_data": {"intent_urls": []},
        "log_level": "DEBUG",
        "logs": {"path": "stdout"},
        "location": {"timezone": {"code": "UTC", "name": "UTC"}},
    }


class OvosProcesses:
    """ovos-messagebus and ovos-core, restartable; `bus_url` is what the server is given."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.env = self._environment()
        self.bus: subprocess.Popen | None = None
        self.core: subprocess.Popen | None = None
        self.helper: _CoreHelper | None = None

    @property
    def bus_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/core"

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OVOS_REALTIME_")}
        for name in ("CONFIG", "DATA", "CACHE", "STATE"):
            folder = self.tmp / name.lower()
            folder.mkdir(exist_ok=True)
            env[f"XDG_{name}_HOME"] = str(folder)
        env["XDG_CONFIG_DIRS"] = str(self.tmp / "config")  # no /etc/xdg/mycroft either
        conf = self.tmp / "config" / "mycroft" / "mycroft.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(json.dumps(mycroft_conf(self.port), indent=2))
        env["PYTHONPATH"] = str(REPO)
        return env

    def _spawn(self, name: str, module: str) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("a")
        return subprocess.Popen(
            [sys.executable, "-m", module],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.tmp,
            start_new_session=True,
        )

    def start_bus(self) -> None:
        self.bus = self._spawn("messagebus", "ovos_messagebus")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                import socket

                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            if self.bus.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"ovos-messagebus did not start:\n{self.log('messagebus')}")

    def stop_bus(self) -> None:
        _stop(self.bus)
        self.bus = None

    def start_core(self, timeout: float = 120) -> None:
        self.helper = _CoreHelper(self.bus_url)
        self.core = self._spawn("core", "ovos_core")
        if not self.helper.wait_ready(self.core, timeout):
            raise RuntimeError(f"ovos-core did not get ready:\n{self.log('core')[-6000:]}")

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.helper:
            self.helper.close()
        _stop(self.core)
        self.stop_bus()


class _CoreHelper:
    """A bus client beside ovos-core that answers the questions a full OVOS install would answer,
    so ovos-core starts in seconds: the network check (else it probes the internet itself), the
    GUI check (3 s timeouts otherwise), and intent training (padacioso needs none, but ovos-core
    waits 60 s for `mycroft.skills.trained`, which only padatious sends)."""

    def __init__(self, bus_url: str) -> None:
        self.client = open_bus_client(bus_url)
        self.client.on("ovos.PHAL.internet_check", self._no_network)
        self.client.on("gui.status.request", self._no_gui)
        self.client.on("mycroft.skills.train", self._trained)

    def _no_network(self, message: Message) -> None:
        self.client.emit(
            message.response({"internet_connected": False, "network_connected": False})
        )

    def _no_gui(self, message: Message) -> None:
        self.client.emit(message.response({"connected": False}))

    def _trained(self, message: Message) -> None:
        self.client.emit(message.reply("mycroft.skills.trained"))

    def wait_ready(self, core: subprocess.Popen, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and core.poll() is None:
            reply = self.client.wait_for_response(Message("mycroft.skills.is_ready"), timeout=1)
            if reply and reply.data.get("status"):
                api = self.client.wait_for_response(Message(f"{SKILL_ID}.public_api"), timeout=2)
                if api and api.data:
                    return True
            time.sleep(0.3)
        return False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()


def open_bus_client(bus_url: str) -> MessageBusClient:
    """A plain ovos-bus-client connection for tests (speaks garbage, listens for replies)."""
    host_port = bus_url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    client = MessageBusClient(host=host, port=int(port), route="/core")
    client.run_in_thread()
    if not client.connected_event.wait(15):
        raise RuntimeError(f"no bus at {bus_url}")
    return client


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def ovos_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvosProcesses]:
    """ovos-messagebus + ovos-core with the reference skill loaded and trained."""
    stack = OvosProcesses(tmp_path_factory.mktemp("ovos"))
    try:
        stack.start_bus()
        stack.start_core()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def bus_client(ovos_stack: OvosProcesses) -> Iterator[MessageBusClient]:
    client = open_bus_client(ovos_stack.bus_url)
    yield client
    with contextlib.suppress(Exception):
        client.close()


def wait_until(check: Callable[[], bool], timeout: float = 30, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


class BusRecorder:
    """Collects every message of some types seen on the bus (from a test's own client)."""

    def __init__(self, client: MessageBusClient, *msg_types: str) -> None:
        self.client = client
        self.msg_types = msg_types
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        for msg_type in msg_types:
            client.on(msg_type, self._record)

    def _record(self, message: Message) -> None:
        with self._lock:
            self.messages.append(message)

    def of(self, msg_type: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.msg_type == msg_type]

    def close(self) -> None:
        for msg_type in self.msg_types:
            self.client.remove(msg_type, self._record)
