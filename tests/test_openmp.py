"""llama.cpp's OpenMP runtime spins 1,000 times at a crowded barrier, the STT's keeps its
defaults (ovos_realtime/openmp.py). libgomp prints the settings it read when it loaded
(OMP_DISPLAY_ENV=VERBOSE): llama.cpp's copy loads with the LLM, CTranslate2's with the STT."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

# The LLM first (its runtime prints first), then the STT's runtime.
LOAD_THE_LLM_THEN_THE_STT = """
import os
from ovos_realtime.brain.llama_embedded import EmbeddedLlamaBackend
from ovos_realtime.config import LLMSettings
EmbeddedLlamaBackend(LLMSettings(slots=1, context_tokens=512))
print("env after:", os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT"))
import ctranslate2
"""


def _runtimes(extra_env: dict[str, str]) -> tuple[list[dict[str, str]], str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") and not k.startswith("OVOS_REALTIME_")
    }
    env.update(OMP_DISPLAY_ENV="VERBOSE", **extra_env)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_THE_LLM_THEN_THE_STT],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    blocks = re.findall(
        r"OPENMP DISPLAY ENVIRONMENT BEGIN(.*?)OPENMP DISPLAY ENVIRONMENT END", done.stderr, re.S
    )
    settings = [dict(re.findall(r"^\s*(\w+) = '([^']*)'", block, re.M)) for block in blocks]
    return settings, done.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libgomp (Linux builds)")
def test_the_llms_openmp_runtime_spins_at_crowded_barriers_and_the_stts_keeps_its_defaults():
    (llm, stt), stdout = _runtimes({})
    assert (llm["OMP_WAIT_POLICY"], llm["GOMP_SPINCOUNT"]) == ("ACTIVE", "300000")
    assert (stt["OMP_WAIT_POLICY"], stt["GOMP_SPINCOUNT"]) == ("PASSIVE", "300000")
    assert "env after: None None" in stdout  # taken back once llama.cpp has loaded


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libgomp (Linux builds)")
def test_a_users_openmp_setting_wins():
    (llm, stt), _ = _runtimes({"GOMP_SPINCOUNT": "5000"})
    assert (llm["OMP_WAIT_POLICY"], llm["GOMP_SPINCOUNT"]) == ("PASSIVE", "5000")
    assert stt["GOMP_SPINCOUNT"] == "5000"
