"""Partial decodes take only the CPU time that nothing else wants.

A partial decode is a guess that the next one replaces; a pause's decode is what the user waits
on. CTranslate2 runs each call on its model's own worker threads, started when the model loads
(and their OpenMP threads, started by them later), not on the calling thread, so the caller's
priority does not reach them: the threads a model starts get the nice value themselves. Linux
only (there a nice value is per thread); elsewhere nothing changes.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

LOG = logging.getLogger(__name__)

_TASKS = "/proc/self/task"


def _threads() -> set[int]:
    try:
        return {int(name) for name in os.listdir(_TASKS)}
    except (OSError, ValueError):
        return set()


@contextmanager
def threads_started_at_nice(nice: int) -> Iterator[None]:
    """Threads the process starts inside the block run at `nice` (at least) from then on, and
    the threads they start inherit it. Meant for loading a model at start-up: a thread another
    part of the process starts meanwhile would get it too."""
    if nice <= 0 or not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        yield
        return
    before = _threads()
    yield
    for tid in sorted(_threads() - before):
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
        except OSError as exc:  # gone already, or a sandbox forbids it
            LOG.debug("thread %d keeps its priority: %r", tid, exc)
