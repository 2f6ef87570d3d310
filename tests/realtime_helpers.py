"""Helpers for driving a live server with the official openai SDK, validating every event."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
from openai import AsyncOpenAI
from openai.types.beta.realtime.realtime_server_event import (
    RealtimeServerEvent as BetaServerEvent,
)
from openai.types.realtime import RealtimeServerEvent
from ovos_realtime.protocol.codec import EventCodec
from ovos_realtime.protocol.dialect import Dialect
from pydantic import TypeAdapter

GA_EVENTS = TypeAdapter(RealtimeServerEvent)
BETA_EVENTS = TypeAdapter(BetaServerEvent)


class EventReader:
    """Reads raw server events from an SDK connection and validates each against the SDK types."""

    def __init__(self, conn: Any, beta: bool = False) -> None:
        self.conn = conn
        self.adapter = BETA_EVENTS if beta else GA_EVENTS
        self.seen: list[dict[str, Any]] = []

    async def next(self, timeout: float = 30) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.conn.recv_bytes(), timeout)
        event = json.loads(raw)
        self.adapter.validate_python(event)  # raises if the server sent something off-spec
        self.seen.append(event)
        return event

    async def until(self, event_type: str, timeout: float = 60) -> list[dict[str, Any]]:
        """All events up to and including the first of `event_type`."""
        events = []
        while True:
            event = await self.next(timeout)
            events.append(event)
            if event["type"] == event_type:
                return events

    async def drain(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        """Events until the server has been quiet for `quiet` seconds."""
        events = []
        while True:
            try:
                events.append(await self.next(timeout=quiet))
            except TimeoutError:
                return events


@dataclass
class Realtime:
    """A connected Realtime client (the `realtime` fixture's): the SDK client and connection, an
    EventReader on it in the connection's dialect, and the first event (session.created)."""

    client: AsyncOpenAI
    conn: Any
    reader: EventReader
    created: dict[str, Any]


class Recorder:
    """An in-process session's `emit`: every event goes through the wire codec of both dialects
    (which validates it against the SDK's types) and is kept in its GA form."""

    def __init__(self) -> None:
        self.ga = EventCodec(Dialect.GA)
        self.beta = EventCodec(Dialect.BETA)
        self.events: list[dict[str, Any]] = []
        self.beta_types: list[str] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(json.loads(self.ga.encode(event)))
        beta = self.beta.encode(event)
        if beta is not None:
            self.beta_types.append(json.loads(beta)["type"])

    async def until(self, event_type: str, timeout: float = 5.0, count: int = 1) -> None:
        """Wait until `count` events of `event_type` were emitted."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while types(self.events).count(event_type) < count:
            if loop.time() > deadline:
                raise TimeoutError(f"no {event_type} in {types(self.events)}")
            await asyncio.sleep(0.005)


def mint_secret(server: Any, body: Any, key: str | None = None) -> httpx.Response:
    """POST /v1/realtime/client_secrets as a plain HTTP client (no SDK; the server is another
    process, so a blocking call in an async test is harmless)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    url = f"{server.http_url}/v1/realtime/client_secrets"
    return httpx.post(url, headers=headers, json=body, timeout=30)


def user_text(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def text_of(events: list[dict[str, Any]], delta_type: str = "response.output_text.delta") -> str:
    return "".join(event["delta"] for event in events if event["type"] == delta_type)


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
}
TIMER_TOOL = {
    "type": "function",
    "name": "set_timer",
    "description": "Start a countdown timer.",
    "parameters": {
        "type": "object",
        "properties": {
            "minutes": {"type": "integer", "minimum": 1, "maximum": 600},
            "label": {"type": "string"},
        },
        "required": ["minutes"],
    },
}
