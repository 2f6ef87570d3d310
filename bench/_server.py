"""Start a server process for a benchmark and wait for it to answer /health."""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Server:
    ws_base: str  # ws://127.0.0.1:PORT/v1
    http_url: str  # http://127.0.0.1:PORT
    pid: int
    log_path: str = ""

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def _code_path(code: str | None = None) -> str:
    """The server runs this checkout, or the one `code` or else BENCH_OTHER_CHECKOUT names
    (another commit's worktree, for a before/after comparison: see compare.py)."""
    # This checkout too is named part by part: a copy of the repository runs its own code, not
    # the editable install's.
    other = code or os.environ.get("BENCH_OTHER_CHECKOUT") or str(REPO)
    return os.pathsep.join(str(Path(other) / part) for part in ("bridge", "plugins", ""))


def _healthy(port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    return False


@contextlib.contextmanager
def running_server(
    config: dict, log_path: str | None = None, code: str | None = None, stage_log: bool = False
) -> Iterator[Server]:
    """`stage_log`: the voice loop's DEBUG lines go to the log, time-stamped (_serve_logged.py)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "bench.yaml"
        config_file.write_text(
            yaml.safe_dump({"log_level": "warning", **config, "server": {"port": port}})
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("OVOS_REALTIME_")}
        env.update(PYTHONPATH=_code_path(code), PYTHONUNBUFFERED="1")
        log_path = log_path or str(Path(tmp) / "server.log")
        launcher = (
            [str(REPO / "bench" / "_serve_logged.py")] if stage_log else ["-m", "ovos_realtime"]
        )
        proc = subprocess.Popen(
            [sys.executable, *launcher, "serve", "--config", str(config_file)],
            env=env,
            stdout=open(log_path, "w"),
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + float(os.environ.get("BENCH_START_TIMEOUT_S", "300"))
            while not _healthy(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start:\n{Path(log_path).read_text()}")
                time.sleep(0.2)
            yield Server(
                f"ws://127.0.0.1:{port}/v1", f"http://127.0.0.1:{port}", proc.pid, log_path
            )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
