"""Shared fixtures: real server servers started as processes on 127.0.0.1."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import yaml
from openai import AsyncOpenAI

from tests.realtime_helpers import EventReader, Realtime

REPO = Path(__file__).resolve().parents[1]
SCRIPTED_BACKEND = "tests.scripted_llm:ScriptedLLM"


def text_server_config(**sections: dict) -> dict:
    """A text-only server on the scripted LLM (door tests: auth, Origin, the home page), with
    `sections` added, e.g. server={"api_key": KEY}."""
    return {"llm": {"backend": SCRIPTED_BACKEND}, "voice": {"enabled": False}, **sections}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`ovos-realtime serve` in a child process, as a user would run it."""

    def __init__(self, tmp: Path, config: dict, extra_args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.config_file = tmp / f"server-{self.port}.yaml"
        config = {**config, "server": {**config.get("server", {}), "port": self.port}}
        self.config_file.write_text(yaml.safe_dump(config))
        self.log_file = tmp / f"server-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OVOS_REALTIME_")}
        env["PYTHONPATH"] = str(REPO)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ovos_realtime",
                "serve",
                "--config",
                str(self.config_file),
                *extra_args,
            ],
            stdout=self.log_file.open("w"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )
        self._wait_ready()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1"

    # Loading the speech engines and the LLM took up to 150 s on a 2-core machine under load.
    def _wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_file.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.http_url}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log_file.read_text()}")

    def log(self) -> str:
        return self.log_file.read_text()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    started: list[ServerProcess] = []

    def start(config: dict, *extra_args: str) -> ServerProcess:
        server = ServerProcess(tmp_path_factory.mktemp("server"), config, extra_args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    # Server-side bugs that a client might not notice: an event the SDK types reject (we
    # refuse to send it) or a handler that crashed.
    for server in started:
        for marker in ("refusing to send an invalid server event", "handler failed"):
            assert marker not in server.log(), f"{marker!r} in {server.log_file}"


@pytest.fixture(scope="session")
def listening_runtime():
    """The voice runtime's listening half in this process: the dual VAD and streaming Whisper,
    no TTS (for tests of the voice pipeline itself)."""
    from ovos_realtime.voice.engines import VoiceEngines
    from ovos_realtime.voice.runtime import VoiceRuntime
    from ovos_stt_plugin_whisper_streaming import WhisperStreamingSTT

    runtime = VoiceRuntime(
        VoiceEngines(WhisperStreamingSTT({}), None, {"module": "ovos-vad-plugin-dual"})
    )
    yield runtime
    runtime.shutdown()


@pytest.fixture(scope="session")
def scripted_server(server_factory) -> ServerProcess:
    """A server whose brain is the scripted LLM: for deterministic protocol tests."""
    return server_factory(
        {"llm": {"backend": SCRIPTED_BACKEND}, "voice": {"enabled": False}, "log_level": "debug"}
    )


@pytest.fixture(scope="session")
def embedded_server(server_factory) -> ServerProcess:
    """A server on the product's default brain: the default model in embedded llama.cpp."""
    return server_factory(
        {"llm": {"max_output_tokens": 64, "temperature": 0.0}, "voice": {"enabled": False}}
    )


@pytest.fixture(scope="session")
def voice_server(server_factory) -> ServerProcess:
    """The full voice loop (our OPM plugins) with the scripted LLM: what it heard is what it says."""
    return server_factory(
        {
            "llm": {"backend": SCRIPTED_BACKEND},
            # max_turn_s small, so the full-buffer test stays short; semantic_vad by its word
            # list, whose rules tests/test_voice_loop.py checks (the end-of-turn models have
            # their own server there)
            "voice": {"max_turn_s": 20, "turn_model": False, "turn_text_model": False},
            # WebRTC calls on loopback only (tests/test_webrtc.py); a call that never connects
            # ends soon.
            "webrtc": {"host_addresses": ["127.0.0.1"], "connect_timeout_s": 5},
            "log_level": "debug",
        }
    )


@pytest_asyncio.fixture(loop_scope="session")
async def realtime() -> AsyncIterator[Callable[..., Awaitable[Realtime]]]:
    """Connects Realtime clients (the openai SDK) to a server:

        rt = await realtime(server, beta=False, model="ovos-realtime", api_key="unused", **query)

    `rt.conn` is the SDK connection, `rt.reader` an EventReader in its dialect, `rt.created` the
    session.created event it began with; `query` goes into the URL (`?lang=en-GB`). Every
    connection opened is closed when the test ends, passed or failed."""
    async with contextlib.AsyncExitStack() as opened:

        async def connect(
            server: ServerProcess,
            *,
            beta: bool = False,
            model: str = "ovos-realtime",
            api_key: str = "unused",
            **query: str,
        ) -> Realtime:
            client = AsyncOpenAI(api_key=api_key, websocket_base_url=server.ws_base)
            api = client.beta.realtime if beta else client.realtime
            conn = await opened.enter_async_context(api.connect(model=model, extra_query=query))
            reader = EventReader(conn, beta=beta)
            created = await reader.next()
            assert created["type"] == "session.created", created
            return Realtime(client, conn, reader, created)

        yield connect
