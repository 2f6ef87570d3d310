"""How many CPU cores are idle (Linux), for work that can use them all for a moment."""

import os
import time
from pathlib import Path

_STAT = Path("/proc/stat")


def _runnable() -> int | None:
    try:
        with _STAT.open() as stat:
            for line in stat:
                if line.startswith("procs_running "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def idle_cores(looks: int = 5, spacing_s: float = 0.001) -> int | None:
    """Cores that no other task kept busy over a few looks (a task that only runs for a moment,
    like an event loop moving audio, does not count), or None where the system does not say.
    Counts runnable tasks system-wide; in a container that sees the host's /proc/stat it errs
    towards "busy"."""
    fewest: int | None = None
    for look in range(looks):
        if look:
            time.sleep(spacing_s)
        running = _runnable()
        if running is None:
            return None
        fewest = running if fewest is None else min(fewest, running)
    others = (fewest or 1) - 1  # the caller itself is running
    return max(0, (os.cpu_count() or 1) - others)
