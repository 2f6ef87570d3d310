"""A real hivemind-core hub (AGPL-3.0, test-only, run as its own process) and real
hivemind-bus-client satellites, on 127.0.0.1, in a temporary HOME / XDG tree."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hivemind_bus_client.client import BinaryDataCallbacks, HiveMessageBusClient
from hivemind_bus_client.message import HiveMessage, HiveMessageType
from ovos_bus_client.message import Message
from ovos_utils.fakebus import FakeBus

from tests.conftest import free_port

HUB_BIN = Path(sys.executable).with_name("hivemind-core")


class Hub:
    """`hivemind-core listen` with the given agent / binary protocol plugins."""

    def __init__(
        self,
        tmp: Path,
        agent: tuple[str, dict[str, Any]],
        binary: tuple[str, dict[str, Any]] | None = None,
        mycroft_conf: dict[str, Any] | None = None,
    ) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OVOS_REALTIME_")},
            "HOME": str(tmp / "home"),
            "XDG_CONFIG_HOME": str(tmp / "config"),
            "XDG_DATA_HOME": str(tmp / "data"),
            "XDG_CACHE_HOME": str(tmp / "cache"),
            "HF_HUB_OFFLINE": "1",
        }
        config = {
            "binarize": True,
            "agent_protocol": {"module": agent[0], agent[0]: agent[1]},
            "binary_protocol": {"module": binary[0], binary[0]: binary[1]}
            if binary
            else {"module": None},
            "network_protocol": {
                "hivemind-websocket-plugin": {"host": "127.0.0.1", "port": self.port}
            },
            "database": {
                "module": "hivemind-json-db-plugin",
                "hivemind-json-db-plugin": {"name": "clients", "subfolder": "hivemind-core"},
            },
        }
        folder = tmp / "config" / "hivemind-core"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "server.json").write_text(json.dumps(config, indent=2))
        if mycroft_conf is not None:  # the device's config: the hub fills sessions in with it
            (tmp / "config" / "mycroft").mkdir(parents=True, exist_ok=True)
            (tmp / "config" / "mycroft" / "mycroft.conf").write_text(json.dumps(mycroft_conf))
        self.log_file = tmp / "hub.log"
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(HUB_BIN), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def add_client(self, name: str, allow: tuple[str, ...] = ()) -> tuple[str, str]:
        """`hivemind-core add-client` (+ `allow-msg` per type); returns (access key, password)."""
        key, password = f"key-{name}", f"pass-{name}"
        out = self.cli("add-client", "--name", name, "--access-key", key, "--password", password)
        node_id = re.search(r"Node ID:\s*(\d+)", out).group(1)
        for msg_type in allow:
            self.cli("allow-msg", msg_type, node_id)
        return key, password

    def add_clients(self, names: tuple[str, ...], allow: tuple[str, ...] = ()) -> dict:
        """Several clients in one process (each CLI call costs seconds of imports): the same
        database calls `add-client` and `allow-msg` make; returns name → (key, password)."""
        creds = {name: (f"key-{name}", f"pass-{name}") for name in names}
        script = (
            "import json, sys\n"
            "from hivemind_core.database import ClientDatabase\n"
            "creds, allow = json.loads(sys.argv[1]), json.loads(sys.argv[2])\n"
            "with ClientDatabase() as db:\n"
            "    for name, (key, password) in creds.items():\n"
            "        assert db.add_client(name, key, password=password)\n"
            "        user = db.get_client_by_api_key(key)\n"
            "        user.allowed_types += [t for t in allow if t not in user.allowed_types]\n"
            "        db.update_item(user)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, json.dumps(creds), json.dumps(list(allow))],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return creds

    def start(self, timeout: float = 60) -> Hub:
        """Starts `listen` and waits for its port; a hub whose binary protocol loads speech
        engines before it listens (hivemind-audio-binary-protocol) needs a longer `timeout`."""
        self.proc = subprocess.Popen(
            [str(HUB_BIN), "listen"],
            env=self.env,
            stdout=self.log_file.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited:\n{self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"hub did not listen:\n{self.log()}")

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class _TTSRecorder(BinaryDataCallbacks):
    def __init__(self) -> None:
        self.audio: queue.Queue[tuple[bytes, str, str, str]] = queue.Queue()

    def handle_receive_tts(self, bin_data: bytes, utterance: str, lang: str, file_name: str):
        self.audio.put((bin_data, utterance, lang, file_name))


class Satellite:
    """A hivemind-bus-client node: what it receives from the hub queues up in `received`."""

    def __init__(self, hub: Hub, name: str, key: str, password: str) -> None:
        self.name = name
        self.tts = _TTSRecorder()
        self.received: queue.Queue[Message] = queue.Queue()
        self.bus = HiveMessageBusClient(
            key=key,
            password=password,
            host="ws://127.0.0.1",
            port=hub.port,
            useragent=name,
            self_signed=True,
            bin_callbacks=self.tts,
        )
        self.arrivals: list[tuple[float, str]] = []  # (monotonic time, type) of all received
        self.bus.on(HiveMessageType.BUS, self._on_bus)
        self.bus.connect(bus=FakeBus(), site_id=f"site-{name}")

    def _on_bus(self, message: HiveMessage) -> None:
        self.arrivals.append((time.monotonic(), message.payload.msg_type))
        self.received.put(message.payload)

    def first_arrival(self, msg_type: str, after: float = 0.0) -> float | None:
        return next((t for t, kind in self.arrivals if kind == msg_type and t >= after), None)

    def emit(self, msg_type: str, data: dict[str, Any] | None = None) -> None:
        self.bus.emit(Message(msg_type, data or {}, {}))

    def say(self, text: str) -> None:
        self.emit("recognizer_loop:utterance", {"utterances": [text], "lang": "en-US"})

    def send_audio(self, pcm: bytes, rate: int = 16000, width: int = 2) -> None:
        from hivemind_bus_client.message import HiveMindBinaryPayloadType

        self.bus.emit(
            HiveMessage(
                HiveMessageType.BINARY,
                payload=pcm,
                metadata={"sample_rate": rate, "sample_width": width},
            ),
            binary_type=HiveMindBinaryPayloadType.RAW_AUDIO,
        )

    def next(self, msg_type: str | None = None, timeout: float = 20) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no {msg_type or 'message'} in {timeout} s")
            message = self.received.get(timeout=left)
            if msg_type is None or message.msg_type == msg_type:
                return message

    def turn(self, timeout: float = 20) -> list[Message]:
        """Every message up to and including `ovos.utterance.handled`."""
        messages = []
        while True:
            message = self.next(timeout=timeout)
            messages.append(message)
            if message.msg_type == "ovos.utterance.handled":
                return messages

    def drain(self) -> list[Message]:
        out = []
        with contextlib.suppress(queue.Empty):
            while True:
                out.append(self.received.get_nowait())
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.bus.close()


def spoken(messages: list[Message]) -> str:
    return " ".join(m.data["utterance"] for m in messages if m.msg_type == "speak")
