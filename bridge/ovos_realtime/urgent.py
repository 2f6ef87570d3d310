"""The first audio first: work the user is waiting on makes work that can wait step aside.

Urgent: a pause's decode (the answer starts on its text) and an answer's first clause until its
first audio. When the first clause goes to the TTS, the LLM is still writing the words after it,
and on 2 cores the two share the CPU: Piper's first clause took 250-400 ms in a live
conversation beside the LLM's sprint, 120-170 ms alone (bench/voice_latency.py's stage log). The
words the LLM writes meanwhile are not needed before that clause has played (a second or more),
so the LLM waits at its next token, for at most `MAX_WAIT_S` per answer; reading ahead (the
prompt of a turn still being spoken) waits between its batches, so that a pause's decode gets
both cores.

One gauge per process, like the CPU it shares out (`URGENT`): urgent work runs `urgently()` or
between `begin()` and `end()`; the LLM's threads call `wait()`. An answer steps aside only once
its own first clause has gone to the TTS (urgent work begun for its conversation, `owner`):
before that, its words are what its own user waits on, as urgent as another session's pause.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# An answer waits at most this long in all: Piper's first clause takes 0.1-0.25 s; Kokoro's takes
# ~1 s on 2 cores, and an LLM held back for all of it (0.5 s a token) wrote the next clauses so
# late that Kokoro's playback ran dry twice as long (10 turns: 2.3 -> 4.6 s of stalls).
MAX_WAIT_S = 0.3


class UrgentWork:
    def __init__(self) -> None:
        self._running = 0
        self._owners: Counter[str] = Counter()  # urgent work running, per conversation
        self._done = threading.Condition()

    @property
    def running(self) -> bool:
        return self._running > 0

    def running_for(self, owner: str) -> bool:
        """Urgent work of this conversation runs now."""
        return self._owners[owner] > 0

    def begin(self, owner: str | None = None) -> None:
        with self._done:
            self._running += 1
            if owner is not None:
                self._owners[owner] += 1

    def end(self, owner: str | None = None) -> None:
        with self._done:
            self._running = max(0, self._running - 1)
            if owner is not None:
                self._owners[owner] -= 1
                if self._owners[owner] <= 0:
                    del self._owners[owner]
            if not self._running:
                self._done.notify_all()

    def wait(self, max_wait_s: float = MAX_WAIT_S) -> float:
        """Until no urgent work runs, or `max_wait_s` has passed (blocking: a worker thread's
        call). Returns the seconds waited."""
        if not self._running:  # the common case, without the lock
            return 0.0
        began = time.perf_counter()
        with self._done:
            self._done.wait_for(lambda: not self._running, timeout=max_wait_s)
        return time.perf_counter() - began


URGENT = UrgentWork()


def urgently(work: Callable[[], T]) -> T:
    """`work()` as urgent work (blocking: for a worker thread)."""
    URGENT.begin()
    try:
        return work()
    finally:
        URGENT.end()
