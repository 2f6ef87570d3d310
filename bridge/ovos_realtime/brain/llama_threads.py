"""How many threads llama.cpp computes with, phase by phase of an answer.

- Reading the prompt (one batch, no barrier per token): the cores idle when the answer starts
  (`llm.batch_threads`, 0 = auto).
- The first tokens (a sprint): as many threads as cores were idle, while that pays. llama.cpp's
  threads meet at a barrier at every token, so when another thread takes a core (the TTS starts
  on the first clause, another session's STT decodes) two threads crawl (~1 token/s was seen):
  the first token that comes much slower than the fastest so far ends the sprint, and the rest of
  the answer runs on `llm.threads`. With Qwen2.5-0.5B on 2 idle cores a token takes ~27-30 ms with
  two threads and ~40 ms with one (llama.cpp's OpenMP set up as ovos_realtime/openmp.py says;
  ~38 and ~65 ms on an earlier machine and build).
- Reading ahead (the user's words while they still speak): one thread; it is not in a hurry and
  the STT's partial decodes need the other core.
"""

import logging
import time
from collections.abc import Callable

from ovos_realtime.config import LLMSettings
from ovos_realtime.cpu import idle_cores

log = logging.getLogger(__name__)

# A token this many times slower than the fastest of the answer so far: a core was taken.
SPRINT_SLOWDOWN = 1.6

SetThreads = Callable[[int, int], None]  # (generation threads, batch threads)


class ThreadPlan:
    def __init__(self, settings: LLMSettings, set_threads: SetThreads) -> None:
        self.settings = settings
        self._set_threads = set_threads
        self.threads = settings.threads
        self.batch_threads = settings.batch_threads or settings.threads
        self._last: float | None = None
        self._fastest: float | None = None

    def _use(self, threads: int, batch: int) -> None:
        if (threads, batch) != (self.threads, self.batch_threads):
            self.threads, self.batch_threads = threads, batch
            self._set_threads(threads, batch)

    def for_reading_ahead(self) -> None:
        self._use(self.settings.threads, 1)

    def for_answer(self, alone: bool = True) -> None:
        """Before an answer's prompt is read: the idle cores read it and sprint (not beside
        another answer: `alone` False)."""
        idle = (idle_cores() or 0) if alone else 0
        base = self.settings.threads
        batch = self.settings.batch_threads or max(base, idle)
        sprint = self.settings.sprint_threads or max(base, idle)
        self._use(max(base, sprint), batch)
        self._last = self._fastest = None

    @property
    def sprinting(self) -> bool:
        return self.threads > self.settings.threads

    def token(self) -> None:
        """A token came: end the sprint when it came much slower than the fastest one."""
        now = time.perf_counter()
        last, self._last = self._last, now
        if last is None:  # the first token: its time is the prompt's reading
            return
        took = now - last
        if self._fastest is None or took < self._fastest:
            self._fastest = took
        elif self.sprinting and took > SPRINT_SLOWDOWN * self._fastest:
            log.debug(
                "sprint over: a token took %.0f ms (fastest %.0f ms); %d thread(s) on",
                took * 1000,
                self._fastest * 1000,
                self.settings.threads,
            )
            self._use(self.settings.threads, self.batch_threads)
