"""The event loop answers first: how the server's worker threads yield to it.

The LLM's generation thread and the STT/TTS threads compute for tens of milliseconds at a time
and run Python between their native calls. The event loop thread only needs a moment now and
then — to pass a `response.cancel` on, to send audio — but it needs it at once (issue 10: cancel
→ `response.done` must stay ≤ 10 ms at p99 while TTS and STT are busy; it measured 16.5 ms).
Two things make it wait:

- the GIL: each time the loop thread gives it up (every socket call, every wait in select) it
  may wait a whole switch interval to get it back; CPython's default is 5 ms, we use 1 ms;
- the CPU: on 2 cores the worker threads (and llama.cpp's OpenMP threads, which inherit their
  creator's priority) keep both cores busy; a worker thread runs at a lower priority
  (nice +10: a tenth of the loop thread's CPU weight), so a waking loop thread gets a core
  first. It costs the workers nothing while the loop is idle — but on a machine shared with
  other busy processes, our workers get less of it than theirs.

Measured with the real LLM generating and the real TTS synthesizing beside an asyncio loop on
the shared, overloaded 2-core machine (load ~10), the loop's wake-up lag over 3 ms sleeps:
p95 17 ms → 6–9 ms, p99 25–31 ms → 9–13 ms with both; the switch interval alone: p95 14–17 ms;
nice +10 alone: p95 10 ms.
"""

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.001
WORKER_NICE = 10
# Spins of a waiting OpenMP thread before it sleeps (libgomp's default: 300,000).
OPENMP_SPIN_COUNT = "1000"


def favour_the_event_loop() -> None:
    """The process's GIL switch interval (never lengthens a shorter one). A process-wide setting:
    the command that serves calls it once, at start (cli.py); library objects leave it alone."""
    if sys.getswitchinterval() > SWITCH_INTERVAL_S:
        sys.setswitchinterval(SWITCH_INTERVAL_S)


def share_cores_between_runtimes() -> None:
    """Let waiting OpenMP threads sleep soon. A process-wide setting, made by the command that
    serves before the STT and the LLM load (libgomp reads it once, when it loads); a
    GOMP_SPINCOUNT or OMP_WAIT_POLICY of the user's wins.

    Why: CTranslate2 (the STT) and llama.cpp (the LLM) each run their threads on OpenMP, whose
    waiting threads spin up to 300,000 times at every barrier before they sleep. When both run
    at once on 2 cores (two sessions, or a partial decode beside the LLM's reading ahead), each
    runtime's spinning threads take the cores the other's working threads need. Measured on the
    2-core machine, Whisper tiny.en decoding (beam 2) beside Qwen writing tokens, default →
    1,000 spins: with the STT on 2 threads the LLM went 1.7–2.9 → 10–12.5 tokens/s (the STT
    unchanged, ~350 ms); with the STT on 1 thread, STT 441–452 → 354–366 ms and the LLM 9.6 →
    11.4–12.4 tokens/s. Each alone was as fast as before (Qwen 21–26 tokens/s either way, within
    the noise); spinning 0 times (OMP_WAIT_POLICY=PASSIVE) made Qwen alone 2.7 times slower.
    """
    if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = OPENMP_SPIN_COUNT


def lower_priority() -> None:
    """Lower the calling thread's CPU priority (and that of threads it starts later): an
    executor `initializer` for worker threads. Linux only; elsewhere it does nothing."""
    if not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return
    try:
        # On Linux the nice value is per thread: PRIO_PROCESS with a thread id sets that thread.
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current < WORKER_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICE)
    except OSError as exc:  # a sandbox may forbid it: the thread keeps its priority
        log.debug("worker thread priority unchanged: %r", exc)
