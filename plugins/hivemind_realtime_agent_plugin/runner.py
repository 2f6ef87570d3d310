"""One asyncio loop in a daemon thread, shared by every satellite's link.

hivemind-core calls the plugins from its network thread (tornado's loop for the websocket
protocol); that thread must never wait for the server, so work is handed to this loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any

LOG = logging.getLogger(__name__)


class LoopThread:
    _shared: LoopThread | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="hivemind-realtime", daemon=True
        )
        self._thread.start()

    @classmethod
    def shared(cls) -> LoopThread:
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        future.add_done_callback(_log_failure)
        return future


def _log_failure(future: concurrent.futures.Future) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        LOG.error("hivemind-realtime task failed: %r", exc, exc_info=exc)
