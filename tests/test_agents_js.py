"""The stock @openai/agents JavaScript SDK (from npm, locked in tests/js/package-lock.json) in
Node, over its WebSocket transport: a text turn and a tool round trip against the scripted
server, with nothing raised by the SDK's own event handling (tests/js/agents_realtime_check.mjs).
npm installs the packages into tests/js/node_modules the first time."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="needs Node.js (20 or later) and npm",
)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    if not (JS / "node_modules" / "@openai" / "agents").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, timeout=600)
    return JS / "node_modules"


def test_agents_js_text_turn_and_tool_round_trip(node_modules, scripted_server):
    done = subprocess.run(
        [
            "node",
            "agents_realtime_check.mjs",
            f"{scripted_server.ws_base}/realtime?model=ovos-realtime",
        ],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["first"] == "Hello! You said: What is the capital of France?"
    assert result["toolCalls"] == ["Paris"]
    assert result["second"] == "The tool said: It is sunny in Paris."
    assert result["errors"] == []
