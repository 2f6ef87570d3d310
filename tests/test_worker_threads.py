"""Worker threads yield to the event loop (ovos_realtime/threads.py)."""

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from ovos_realtime.threads import SWITCH_INTERVAL_S, WORKER_NICE, lower_priority
from ovos_realtime.voice.runtime import VoiceRuntime


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
    assert sys.getswitchinterval() <= SWITCH_INTERVAL_S


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_voice_runtimes_executors_run_below_the_event_loop():
    runtime = VoiceRuntime(engines=None)  # the executors need no engines
    try:
        for pool in (runtime.stt_executor, runtime.tts_executor, runtime.turn_executor):
            assert pool.submit(_nice).result() >= WORKER_NICE
    finally:
        runtime.shutdown()
