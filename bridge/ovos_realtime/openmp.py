"""llama.cpp's OpenMP threads: how long they spin at a barrier before they sleep.

llama.cpp (built with OpenMP, as llama-cpp-python builds it) meets its threads at a barrier
after each operation of a token, hundreds of times a token. libgomp lets a thread that arrives
first spin 300,000 times before it sleeps — but only 100 times (about a microsecond) once it
manages more threads than the process has cores. Every thread that runs a parallel region keeps
its own pool of threads, so two llama.cpp contexts computing on two threads each, from their own
threads (the two LLM slots, brain/llama_slots.py), are 4 managed threads on a 2-core machine:
from then on the waiting thread sleeps at nearly every barrier and pays a futex wake-up to
go on. Measured on 2 cores (Qwen2.5-0.5B, 2 threads; reading 11 tokens after 200 cached, then
a token), two contexts each used once from its own thread:

| libgomp settings                                            | read 11 tokens | a token  |
|-------------------------------------------------------------|----------------|----------|
| one context, defaults                                       | 147–160 ms     | 26–31 ms |
| two contexts, defaults                                      | 230–238 ms     | 46–47 ms |
| two contexts, OMP_WAIT_POLICY=ACTIVE, GOMP_SPINCOUNT=300000 | 165 ms         | 29.5 ms  |

That setting keeps libgomp's own spin count (300,000, ~3 ms, after which an idle thread sleeps)
and raises the spins of the crowded case from 100 to 1,000 (~10 µs). It is given to llama.cpp's
runtime only: libgomp reads its environment once, when it loads, so the variables are set for
the first import of llama_cpp and taken back after it. CTranslate2 (the STT) loads its own copy
of libgomp, which keeps its defaults: with this setting its two-thread decodes were faster
(431 → 356 ms, 10 clips) but still slower than the one-thread decoder the STT uses (316 ms), and
its encoder did not change. A GOMP_SPINCOUNT or OMP_WAIT_POLICY of the user's wins.
"""

import logging
import os
import sys
import threading
from types import ModuleType

log = logging.getLogger(__name__)

LLAMA_OPENMP_ENV = {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "300000"}
_import_lock = threading.Lock()


def import_llama_cpp() -> ModuleType:
    """The llama_cpp module, its OpenMP runtime loaded with `LLAMA_OPENMP_ENV` (see above)."""
    with _import_lock:
        # Only for the first import, and not over a setting of the user's.
        ours = "llama_cpp" not in sys.modules and not any(n in os.environ for n in LLAMA_OPENMP_ENV)
        if ours:
            if _libgomp_loaded():
                log.debug("libgomp was loaded before llama_cpp: it keeps the settings it read then")
            os.environ.update(LLAMA_OPENMP_ENV)
        try:
            import llama_cpp
        finally:
            if ours:
                for name in LLAMA_OPENMP_ENV:
                    os.environ.pop(name, None)
        return llama_cpp


def _libgomp_loaded() -> bool:
    """The system's libgomp is mapped into the process already (Linux; False elsewhere)."""
    try:
        with open("/proc/self/maps") as maps:
            return any("/libgomp.so" in line for line in maps)
    except OSError:
        return False
