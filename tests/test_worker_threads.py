"""Worker threads yield to the event loop (ovos_realtime/threads.py)."""

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from ovos_realtime.threads import (
    SWITCH_INTERVAL_S,
    WORKER_NICE,
    favour_the_event_loop,
    lower_priority,
)
from ovos_realtime.voice.runtime import VoiceRuntime

from tests.conftest import REPO


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_a_worker_thread_runs_below_the_event_loop_and_its_children_inherit_it():
    loop_thread = _nice()
    with ThreadPoolExecutor(1, initializer=lower_priority) as pool:
        worker = pool.submit(_nice).result()

        def child_of_worker() -> int:
            seen: list[int] = []
            child = threading.Thread(target=lambda: seen.append(_nice()))
            child.start()
            child.join()
            return seen[0]

        child = pool.submit(child_of_worker).result()
    assert worker >= max(WORKER_NICE, loop_thread) and child == worker
    assert _nice() == loop_thread  # the calling (event loop) thread keeps its priority


@pytest.fixture
def switch_interval():
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # CPython's default
    yield
    sys.setswitchinterval(before)


def test_worker_threads_leave_the_processs_switch_interval_alone(switch_interval):
    # A process-wide setting: the command that serves sets it, not a library's worker thread.
    with ThreadPoolExecutor(1, initializer=lower_priority) as pool:
        pool.submit(_nice).result()
    assert sys.getswitchinterval() == 0.005


def test_favouring_the_event_loop_shortens_the_switch_interval_never_lengthens_it(
    switch_interval,
):
    favour_the_event_loop()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    sys.setswitchinterval(SWITCH_INTERVAL_S / 2)
    favour_the_event_loop()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S / 2)


@pytest.mark.parametrize("command", ["serve", "wyoming"])
def test_the_serving_command_sets_the_switch_interval_before_it_builds(command):
    # A backend that cannot be loaded stops the command right after the start-up (exit 2), in
    # the process that would have served: its switch interval is already set.
    code = (
        "import sys\n"
        "from ovos_realtime.cli import main\n"
        f"rc = main([{command!r}, '--llm-backend', 'no_such_module:Brain'])\n"
        "print(rc, sys.getswitchinterval())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVOS_REALTIME_")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=60
    )
    rc, interval = done.stdout.split()
    assert rc == "2" and float(interval) == pytest.approx(SWITCH_INTERVAL_S), done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_voice_runtimes_executors_run_below_the_event_loop():
    runtime = VoiceRuntime(engines=None)  # the executors need no engines
    try:
        for pool in (runtime.stt_executor, runtime.tts_executor, runtime.turn_executor):
            assert pool.submit(_nice).result() >= WORKER_NICE
    finally:
        runtime.shutdown()
