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


def favour_the_event_loop() -> None:
    """The process's GIL switch interval (never lengthens a shorter one). A process-wide setting:
    the command that serves calls it once, at start (cli.py); library objects leave it alone."""
    if sys.getswitchinterval() > SWITCH_INTERVAL_S:
        sys.setswitchinterval(SWITCH_INTERVAL_S)


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
