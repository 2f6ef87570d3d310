"""One satellite's Realtime session on the server: a WebSocket client on the plugins' loop.

Everything the hub thread asks of a link (a text turn, audio, stop, close) goes through `post`,
into one queue that a writer task empties in order; a reader task turns server events into
calls on the link's `LinkListener`. A lost connection ends the turn in flight (`failed`) and the
next request connects again; the conversation starts afresh then (the server's history was in
the session that closed), which is logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from typing import Any, Protocol
from urllib.parse import quote

import numpy as np
import soxr
from websockets.asyncio.client import ClientConnection, connect

from hivemind_realtime_agent_plugin.clauses import ClauseSplitter
from hivemind_realtime_agent_plugin.settings import AgentSettings

LOG = logging.getLogger(__name__)

WIRE_RATE = 24000  # the Realtime API's audio/pcm rate
MAX_QUEUED = 400  # posts waiting for the server (~25 s of 1024-sample chunks); more are dropped
CANCEL_WAIT_S = 5.0


class LinkListener(Protocol):
    """What a link reports, on the plugins' loop. Implementations must not block."""

    def on_answer_started(self, turn: Any) -> None: ...
    def on_clause(self, turn: Any, text: str) -> None: ...
    def on_answer_done(self, turn: Any, status: str, error: str | None) -> None: ...
    def on_speech_started(self, barge_in: bool) -> None: ...
    def on_speech_stopped(self) -> None: ...
    def on_transcript(self, text: str) -> None: ...


class RealtimeLink:
    def __init__(
        self,
        settings: AgentSettings,
        persona: str,
        peer: str,
        listener: LinkListener,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.settings = settings
        self.persona = persona
        self.peer = peer
        self.listener = listener
        self.loop = loop
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._writer: asyncio.Task | None = None
        self._active: str | None = None  # the response in flight
        self._asked = False  # a text turn sent, its response not yet created
        self._pending: Any = None  # what the asked turn answers (the agent's token)
        self._turn: Any = None  # the token of the response in flight (None: a spoken turn)
        self._idle = asyncio.Event()
        self._idle.set()
        self._splitter = ClauseSplitter()
        self._audio_on = False
        self._resampler: soxr.ResampleStream | None = None
        self._resampler_rate = 0
        self._sessions = 0  # connections made; a second one means the history was lost
        self.closed = False

    # ---- called from any thread ----

    def post(self, op: str, arg: Any = None) -> None:
        """Queue a request (`ask`, `audio`, `cancel`, `close`) for the writer, in order."""
        self.loop.call_soon_threadsafe(self._enqueue, op, arg)

    # ---- on the loop ----

    def _enqueue(self, op: str, arg: Any) -> None:
        if self.closed:
            return
        if op == "audio" and self._queue.qsize() >= MAX_QUEUED:
            LOG.warning("[%s] server too slow: dropped an audio chunk", self.peer)
            return
        self._queue.put_nowait((op, arg))
        if self._writer is None or self._writer.done():
            self._writer = self.loop.create_task(self._write_loop())

    async def _write_loop(self) -> None:
        while not self._queue.empty():
            op, arg = self._queue.get_nowait()
            try:
                if op == "close":
                    await self._close()
                    return
                await self._handle(op, arg)
            except (OSError, asyncio.TimeoutError) as exc:
                LOG.error("[%s] ovos-realtime server unreachable: %r", self.peer, exc)
                if op == "ask":
                    self.listener.on_answer_done(arg[1], "failed", f"server unreachable: {exc}")
            except Exception as exc:
                LOG.exception("[%s] %s failed", self.peer, op)
                if op == "ask":
                    self.listener.on_answer_done(arg[1], "failed", repr(exc))

    async def _handle(self, op: str, arg: Any) -> None:
        if op == "cancel":
            if self._ws is not None and (self._active or self._asked):
                await self._cancel_active()
            return
        await self._ensure_connected()
        if op == "ask":
            if self._active or self._asked:
                await self._cancel_active()
            text, self._pending = arg
            self._asked = True
            self._idle.clear()
            await self._send(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": text}],
                    },
                }
            )
            await self._send({"type": "response.create"})
        elif op == "audio":
            pcm, rate = arg
            if not self._audio_on:
                await self._enable_audio()
            await self._send(
                {"type": "input_audio_buffer.append", "audio": self._to_wire(pcm, rate)}
            )

    async def _cancel_active(self) -> None:
        await self._send({"type": "response.cancel"})
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), CANCEL_WAIT_S)

    def _to_wire(self, pcm: bytes, rate: int) -> str:
        samples = np.frombuffer(pcm, dtype=np.int16)
        if rate != WIRE_RATE:
            if self._resampler is None or self._resampler_rate != rate:
                self._resampler = soxr.ResampleStream(rate, WIRE_RATE, 1, dtype="int16")
                self._resampler_rate = rate
            samples = self._resampler.resample_chunk(samples)
        return base64.b64encode(np.ascontiguousarray(samples, dtype="<i2").tobytes()).decode()

    async def _enable_audio(self) -> None:
        # Text answers (the satellite asks for speech with speak:synth), the server's VAD turns
        # with barge-in, and transcripts to show the satellite what was heard.
        await self._send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "output_modalities": ["text"],
                    "audio": {
                        "input": {
                            "format": {"type": "audio/pcm", "rate": WIRE_RATE},
                            "transcription": {"model": "whisper-1"},
                            "turn_detection": {
                                "type": "server_vad",
                                "create_response": True,
                                "interrupt_response": True,
                            },
                        }
                    },
                },
            }
        )
        self._audio_on = True

    async def _ensure_connected(self) -> None:
        if self._ws is not None:
            return
        url = f"{self.settings.url.rstrip('/')}/realtime?model={quote(self.persona)}"
        headers = {}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        ws = await asyncio.wait_for(
            connect(url, additional_headers=headers, max_size=None),
            self.settings.connect_timeout_s,
        )
        created = json.loads(await asyncio.wait_for(ws.recv(), self.settings.connect_timeout_s))
        if created.get("type") != "session.created":
            await ws.close()
            raise OSError(f"server answered {created.get('type')!r}, not session.created")
        self._ws = ws
        self._sessions += 1
        self._audio_on = False
        if self._sessions > 1:
            LOG.warning("[%s] reconnected to the server: the conversation starts afresh", self.peer)
        LOG.info("[%s] Realtime session %s (%s)", self.peer, created["session"]["id"], self.persona)
        await self._send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "output_modalities": ["text"]},
            }
        )
        self._reader = self.loop.create_task(self._read_loop(ws))

    async def _send(self, event: dict[str, Any]) -> None:
        if self._ws is None:
            raise OSError("not connected")
        await self._ws.send(json.dumps(event))

    async def _read_loop(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                try:
                    self._on_event(json.loads(raw))
                except Exception:
                    LOG.exception("[%s] server event not handled", self.peer)
        except Exception as exc:
            LOG.debug("[%s] server connection: %r", self.peer, exc)
        finally:
            if self._ws is ws:
                self._ws = None
                if not self.closed:
                    LOG.warning("[%s] the ovos-realtime server closed the session", self.peer)
                if self._active or self._asked:
                    self._end("failed", "server connection lost")

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "response.created":
            self._turn = self._pending if self._asked else None
            self._asked, self._pending = False, None
            self._active = event["response"]["id"]
            self._idle.clear()
            self._splitter = ClauseSplitter()
            self.listener.on_answer_started(self._turn)
        elif kind in ("response.output_text.delta", "response.output_audio_transcript.delta"):
            if self._active:
                for clause in self._splitter.feed(event.get("delta", "")):
                    self.listener.on_clause(self._turn, clause)
        elif kind == "response.done":
            response = event.get("response") or {}
            status = response.get("status", "completed")
            if status == "completed":
                for clause in self._splitter.flush():
                    self.listener.on_clause(self._turn, clause)
            details = response.get("status_details") or {}
            error = (details.get("error") or {}).get("message") if status == "failed" else None
            self._end(status, error)
        elif kind == "input_audio_buffer.speech_started":
            self.listener.on_speech_started(barge_in=self._active is not None)
        elif kind == "input_audio_buffer.speech_stopped":
            self.listener.on_speech_stopped()
        elif kind == "conversation.item.input_audio_transcription.completed":
            self.listener.on_transcript(event.get("transcript", ""))
        elif kind == "error":
            error = event.get("error") or {}
            LOG.error("[%s] server error: %s", self.peer, error.get("message"))
            if self._asked and not self._active:
                self._end("failed", error.get("message"))

    def _end(self, status: str, error: str | None) -> None:
        turn = self._turn if self._active else self._pending
        self._active = self._turn = self._pending = None
        self._asked = False
        self._idle.set()
        self.listener.on_answer_done(turn, status, error)

    async def _close(self) -> None:
        self.closed = True
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if self._reader is not None:
            self._reader.cancel()
        LOG.info("[%s] Realtime session closed", self.peer)
