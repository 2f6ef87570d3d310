"""One connection to the OVOS messagebus, shared by all sessions, that reconnects on its own.

ovos-bus-client's MessageBusClient does the websocket work in a thread of its own. We take over
its callbacks: a frame that is not a valid message is dropped (upstream, an exception there
closes the connection), reconnection is our loop with a short backoff (upstream recurses and
waits up to a minute), and `emit` never blocks the event loop waiting for a connection. Parsed
messages move to the asyncio loop with `call_soon_threadsafe`; handlers run there.
"""

import asyncio
import contextlib
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ovos_bus_client.client import MessageBusClient
from ovos_bus_client.message import Message

from ovos_realtime.ovos import topics

log = logging.getLogger(__name__)

Handler = Callable[[Message], None]
REQUEST_ID = "ovos_realtime_request"  # context key tying a `.response` to its request


def parse_bus_url(url: str) -> tuple[str, int, str, bool]:
    """ws://host:port/route → (host, port, route, ssl)."""
    parts = urlsplit(url)
    ssl = parts.scheme == "wss"
    return (
        parts.hostname or "127.0.0.1",
        parts.port or (443 if ssl else 8181),
        parts.path or "/",
        ssl,
    )


def valid_message(raw: Any) -> Message | None:
    """A Message from a websocket frame, or None for anything malformed."""
    try:
        message = Message.deserialize(raw)
    except Exception:
        return None
    if not message.msg_type or not isinstance(message.msg_type, str):
        return None
    if not isinstance(message.data, dict) or not isinstance(message.context, dict):
        return None
    return message


class _Connection(MessageBusClient):
    """MessageBusClient with our callbacks (see module doc). One per connection attempt."""

    def __init__(self, bus: "OvosBus") -> None:
        self._bus = bus
        host, port, route, ssl = parse_bus_url(bus.url)
        super().__init__(host=host, port=port, route=route, ssl=ssl)

    def on_open(self, *args: Any) -> None:
        self.connected_event.set()
        self._bus._thread_event("open")

    def on_close(self, *args: Any) -> None:
        self.connected_event.clear()

    def on_error(self, *args: Any) -> None:
        error = args[-1] if args else None
        log.debug("bus connection error: %r", error)

    def on_message(self, *args: Any) -> None:
        message = valid_message(args[-1] if args else None)
        if message is None:
            log.debug("dropped a malformed bus frame")
            return
        self._bus._thread_message(message)

    def send(self, message: Message) -> bool:
        if not self.connected_event.is_set():
            return False
        try:
            self.client.send(message.serialize())
            return True
        except Exception as exc:  # closed meanwhile: the reconnect loop takes over
            log.debug("bus send failed: %r", exc)
            return False


class BusBase:
    """What the OVOS adapter needs of a bus, whatever carries it (the raw messagebus here, a
    HiveMind hub in hivemind_bus.py): handlers on the event loop, emit, request/response.
    Subclasses run the connection in a thread and call `_thread_event` / `_thread_message`."""

    def __init__(self, url: str, reconnect_max_s: float = 5.0) -> None:
        self.url = url
        self.reconnect_max_s = reconnect_max_s
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._any: list[Handler] = []
        self._on_connect: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False
        self.connections = 0  # how many times we got connected, for /health and tests

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="ovos-bus", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    def emit(self, message: Message) -> bool:
        """Send a message; False (and nothing sent) while the bus is away."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def refused(self, message: Message) -> str | None:
        """Why a request got no answer when the carrier may have refused it (None: no idea)."""
        return None

    # ---- thread → loop ----

    def _thread_event(self, what: str) -> None:
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self._loop.call_soon_threadsafe(self._set_connected, what == "open")

    def _thread_message(self, message: Message) -> None:
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._dispatch, message)

    def _set_connected(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        if connected:
            self.connections += 1
            log.info("OVOS bus %s connected", self.url)
            for callback in list(self._on_connect):
                try:
                    callback()
                except Exception:
                    log.exception("bus connect callback failed")

    def _dispatch(self, message: Message) -> None:
        for handler in [*self._any, *self._handlers.get(message.msg_type, ())]:
            try:
                handler(message)
            except Exception:  # one bad message or handler must not hurt the others
                log.exception("bus handler for %s failed", message.msg_type)

    # ---- API (call on the loop) ----

    def on(self, msg_type: str, handler: Handler) -> Callable[[], None]:
        """Subscribe; returns the unsubscribe function."""
        self._handlers[msg_type].append(handler)
        return lambda: self._remove(self._handlers.get(msg_type), handler)

    def on_any(self, handler: Handler) -> Callable[[], None]:
        self._any.append(handler)
        return lambda: self._remove(self._any, handler)

    def on_connect(self, callback: Callable[[], None]) -> None:
        self._on_connect.append(callback)

    @staticmethod
    def _remove(handlers: list[Handler] | None, handler: Handler) -> None:
        with contextlib.suppress(ValueError, AttributeError):
            handlers.remove(handler)  # type: ignore[union-attr]

    async def request(self, message: Message, timeout: float) -> Message | None:
        """Send `message` and wait for its `.response` (as Message.response() makes it), tied to
        this request by a context id so that concurrent requests never swap answers."""
        request_id = uuid.uuid4().hex
        message.context[REQUEST_ID] = request_id
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        def on_reply(reply: Message) -> None:
            if reply.context.get(REQUEST_ID) == request_id and not future.done():
                future.set_result(reply)

        unsubscribe = self.on(topics.response_to(message.msg_type), on_reply)
        try:
            if not self.emit(message):
                return None
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            unsubscribe()

    def describe(self) -> dict[str, Any]:
        return {"bus_url": self.url, "connected": self.connected, "connections": self.connections}


class OvosBus(BusBase):
    """The raw OVOS messagebus (no authentication: for the device itself or a trusted LAN)."""

    def __init__(self, url: str, reconnect_max_s: float = 5.0) -> None:
        super().__init__(url, reconnect_max_s)
        self._conn: _Connection | None = None

    def emit(self, message: Message) -> bool:
        conn = self._conn
        return bool(self.connected and conn is not None and conn.send(message))

    async def close(self) -> None:
        self._stopping.set()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.client.close()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 3)

    def _run(self) -> None:
        delay = 0.25
        while not self._stopping.is_set():
            try:
                self._conn = _Connection(self)
                self._conn.client.run_forever(ping_interval=10, ping_timeout=5)
            except Exception:
                log.exception("bus connection failed")
            if self._conn is not None and self._conn.connected_event.is_set():
                self._conn.connected_event.clear()
            was_connected = self.connected
            self._thread_event("close")
            if was_connected:
                delay = 0.25
                log.warning("OVOS bus %s lost; reconnecting", self.url)
            if self._stopping.wait(delay):
                break
            delay = min(delay * 2, self.reconnect_max_s)
