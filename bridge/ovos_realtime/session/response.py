"""One response: a single asyncio task from `response.created` to `response.done`.

Events follow OpenAI's order: response.created → output_item.added → (conversation.item.added)
→ content_part.added → deltas → *.done → output_item.done → (conversation.item.done) →
response.done. Cancelling the task stops the brain and the speech at once; `finish_cancelled`
then closes the open item and sends `response.done` with status `cancelled`, so nothing of the
response follows it.

A speculative response (started while the user may still be talking) holds back every event and
every change to the conversation until `release()`; `discard()` drops it without a trace.
"""

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ovos_realtime.audio.formats import WireFormat
from ovos_realtime.brain.base import (
    BrainRequest,
    Finished,
    LLMBackend,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallStarted,
)
from ovos_realtime.brain.tools import MAX_SERVER_TOOL_ROUNDS, ServerTool
from ovos_realtime.protocol.ids import new_id
from ovos_realtime.session.conversation import Conversation, public_item
from ovos_realtime.session.settings import ResponseSettings

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]
# Makes the speech output of a response: (settings, rate, on_audio(piece, samples)) -> SpeechOutput
SpeechFactory = Callable[[ResponseSettings, int, Callable[[str, np.ndarray], None]], Any]


class _OpenItem:
    """The output item being streamed right now."""

    def __init__(self, item: dict[str, Any], output_index: int) -> None:
        self.item = item
        self.output_index = output_index
        self.arguments_done = False


class ResponseRun:
    def __init__(
        self,
        *,
        settings: ResponseSettings,
        request: BrainRequest,
        brain: LLMBackend,
        emit: Emit,
        conversation: Conversation | None,
        session_id: str,
        server_tools: dict[str, ServerTool] | None = None,
        speech: SpeechFactory | None = None,
        speculative: bool = False,
        notify: Callable[[str, "ResponseRun"], None] | None = None,
    ) -> None:
        self.id = new_id("resp")
        self.settings = settings
        self.request = request
        self.brain = brain
        self.emit = emit
        self.conversation = conversation  # None for out-of-band responses
        self.session_id = session_id
        self.server_tools = server_tools or {}
        self.notify = notify or (lambda hook, run: None)
        self.audio = settings.output_modalities == ["audio"] and speech is not None
        self._speech_factory = speech
        self._speech: Any = None
        self._wire = WireFormat.from_session(settings.output_format)
        self._held: list[Callable[[], None]] | None = [] if speculative else None
        self._released = asyncio.Event()
        if not speculative:
            self._released.set()
        self.task: asyncio.Task | None = None
        self.usage = {"input_tokens": 0, "output_tokens": 0}
        self.first_audio_at: float | None = None
        self.response: dict[str, Any] = {
            "id": self.id,
            "object": "realtime.response",
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": conversation.id if conversation else None,
            "output_modalities": ["audio"] if self.audio else ["text"],
            "audio": {"output": {"format": settings.output_format, "voice": settings.voice}},
            "max_output_tokens": settings.max_output_tokens or "inf",
            "metadata": settings.metadata,
            "usage": None,
        }
        self._open: _OpenItem | None = None

    # ---- lifecycle ----

    def start(self) -> asyncio.Task:
        self._emit({"type": "response.created", "response": self._snapshot()})
        self.task = asyncio.create_task(self._run(), name=f"response {self.id}")
        return self.task

    @property
    def active(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def speculative(self) -> bool:
        return self._held is not None

    def release(self) -> None:
        """A speculative response becomes real: what it held back goes out, in order."""
        held, self._held = self._held or [], None
        for action in held:
            action()
        self._released.set()

    def discard(self) -> None:
        """Drop a speculative response silently: nothing it did was ever visible."""
        if self.task is not None:
            self.task.cancel()
        if self._speech is not None:
            self._speech.cancel()
        self._held = []

    async def cancel(self, reason: str) -> bool:
        """Stop the response now. False when it had already finished."""
        if self.task is None or not self.task.cancel():
            return False
        if self._speech is not None:
            self._speech.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.finish_cancelled(reason)
        return True

    def finish_cancelled(self, reason: str) -> None:
        self._close_open("incomplete")
        self._finish("cancelled", reason=reason)

    async def _run(self) -> None:
        finished = Finished("stop")
        request = self.request
        try:
            for round_ in range(MAX_SERVER_TOOL_ROUNDS + 1):
                finished = await self._stream_brain(
                    request, allow_server_tools=round_ < MAX_SERVER_TOOL_ROUNDS
                )
                if self._open is None or self._open.item["type"] != "mcp_call":
                    break
                request = await self._run_server_tool(request)
            await self._settle_speech()
        except asyncio.CancelledError:
            raise
        except (
            Exception
        ) as exc:  # the brain or the voice failed: the response fails, the session lives
            log.exception("[%s] response %s failed", self.session_id, self.id)
            if self._speech is not None:
                self._speech.cancel()
            self._close_open("incomplete")
            self._finish("failed", error={"type": "server_error", "code": type(exc).__name__})
            return
        if finished.reason == "length":
            self._close_open("incomplete")
            self._finish("incomplete", reason="max_output_tokens")
        else:
            self._close_open("completed")
            self._finish("completed")

    async def _stream_brain(self, request: BrainRequest, allow_server_tools: bool) -> Finished:
        finished = Finished("stop")
        first = True
        async with contextlib.aclosing(self.brain.stream(request)) as events:
            async for event in events:
                if first:
                    first = False
                    log.debug("[%s] %s: first brain event", self.session_id, self.id)
                if isinstance(event, TextDelta):
                    self._text_delta(event.text)
                elif isinstance(event, ToolCallStarted):
                    await self._settle_speech()
                    server_tool = event.name in self.server_tools and allow_server_tools
                    self._start_call(event, "mcp_call" if server_tool else "function_call")
                elif isinstance(event, ToolArgumentsDelta):
                    self._arguments_delta(event.delta)
                elif isinstance(event, Finished):
                    finished = event
        self.usage["input_tokens"] += finished.input_tokens
        self.usage["output_tokens"] += finished.output_tokens
        return finished

    async def _settle_speech(self) -> None:
        """Wait until the open message's audio is all out (before anything closes it)."""
        if self._speech is not None:
            speech, self._speech = self._speech, None
            await speech.finish()
            self._visibly(lambda: self.notify("audio_finished", self))

    async def _run_server_tool(self, request: BrainRequest) -> BrainRequest:
        """Run the open mcp_call item's tool; the next round sees its output."""
        assert self._open is not None
        item = self._open.item
        index = self._open.output_index
        self._arguments_done()
        self._emit(
            {"type": "response.mcp_call.in_progress", "item_id": item["id"], "output_index": index}
        )
        tool = self.server_tools[item["name"]]
        # A tool may act on the world (start a timer): never before the user's turn is final.
        await self._released.wait()
        try:
            arguments = json.loads(item["arguments"] or "{}")
            if not isinstance(arguments, dict):
                raise ValueError("arguments must be a JSON object")
            item["output"] = await asyncio.wait_for(tool.run(arguments), tool.timeout_s)
            outcome = "completed"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("[%s] server tool %s failed: %r", self.session_id, item["name"], exc)
            message = (
                "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
            )
            item["error"] = {"type": "tool_execution_error", "message": message}
            outcome = "failed"
        self._emit(
            {"type": f"response.mcp_call.{outcome}", "item_id": item["id"], "output_index": index}
        )
        call = {
            "id": item["id"],
            "type": "function",
            "function": {"name": item["name"], "arguments": item["arguments"]},
        }
        result = (
            item.get("output") if outcome == "completed" else f"error: {item['error']['message']}"
        )
        messages = [
            *request.messages,
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": item["id"], "content": result or ""},
        ]
        self._close_open("completed")
        # A tool the caller forced has now been called: let the model answer.
        return dataclasses.replace(request, messages=messages, tool_choice="auto")

    # ---- events ----

    def _visibly(self, action: Callable[[], None]) -> None:
        """Do what others can see now, or, while speculative, when released."""
        if self._held is not None:
            self._held.append(action)
        else:
            action()

    def _emit(self, event: dict[str, Any]) -> None:
        self._visibly(lambda: self.emit(event))

    def _ids(self) -> dict[str, Any]:
        assert self._open is not None
        return {
            "response_id": self.id,
            "item_id": self._open.item["id"],
            "output_index": self._open.output_index,
        }

    def _open_item(self, item: dict[str, Any]) -> None:
        self._open = _OpenItem(item, len(self.response["output"]))
        self.response["output"].append(item)
        self._emit(
            {
                "type": "response.output_item.added",
                "response_id": self.id,
                "output_index": self._open.output_index,
                "item": public_item(item),
            }
        )
        if self.conversation is not None:
            conversation = self.conversation
            snapshot = public_item(item)

            def add_to_conversation() -> None:
                previous = conversation.add(item)
                self.emit(
                    {
                        "type": "conversation.item.added",
                        "previous_item_id": previous,
                        "item": snapshot,
                    }
                )

            self._visibly(add_to_conversation)

    def _open_message(self) -> None:
        self._open_item(
            {
                "id": new_id("item"),
                "object": "realtime.item",
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            }
        )
        assert self._open is not None
        if self.audio:
            self._open.item["content"].append(
                {"type": "output_audio", "transcript": "", "_duration_ms": 0.0, "_word_times": []}
            )
            part = {"type": "audio", "transcript": ""}
            self._speech = self._speech_factory(self.settings, self._wire.rate, self._audio_out)
        else:
            self._open.item["content"].append({"type": "output_text", "text": ""})
            part = {"type": "text", "text": ""}
        self._emit(
            {"type": "response.content_part.added", **self._ids(), "content_index": 0, "part": part}
        )

    def _text_delta(self, text: str) -> None:
        if self._open is None or self._open.item["type"] != "message":
            self._close_open("completed")
            self._open_message()
        assert self._open is not None
        if self.audio:
            self._speech.feed(text)
            return
        self._open.item["content"][0]["text"] += text
        self._emit(
            {"type": "response.output_text.delta", **self._ids(), "content_index": 0, "delta": text}
        )

    def _audio_out(self, transcript_piece: str, samples: np.ndarray) -> None:
        """One piece of spoken output: its transcript (with its first audio) and the audio."""
        if self._open is None or self._open.item["type"] != "message":
            return
        part = self._open.item["content"][0]
        if transcript_piece:
            delta = transcript_piece if not part["transcript"] else " " + transcript_piece
            part["transcript"] += delta
            self._emit(
                {
                    "type": "response.output_audio_transcript.delta",
                    **self._ids(),
                    "content_index": 0,
                    "delta": delta,
                }
            )
        if samples.size:
            if self.first_audio_at is None:
                self.first_audio_at = asyncio.get_running_loop().time()
                log.debug("[%s] %s: first audio", self.session_id, self.id)
                self._visibly(lambda: self.notify("audio_started", self))
            audio_b64 = base64.b64encode(self._wire.encode(samples)).decode()
            self._emit(
                {
                    "type": "response.output_audio.delta",
                    **self._ids(),
                    "content_index": 0,
                    "delta": audio_b64,
                }
            )
            part["_duration_ms"] += samples.size / self._wire.rate * 1000
            part["_word_times"].append((part["_duration_ms"], len(part["transcript"])))

    def _start_call(self, call: ToolCallStarted, kind: str) -> None:
        self._close_open("completed")
        item: dict[str, Any] = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": kind,
            "name": call.name,
            "arguments": "",
        }
        if kind == "function_call":
            item.update(status="in_progress", call_id=call.call_id)
        else:
            item["server_label"] = self.server_tools[call.name].server_label
        self._open_item(item)

    def _arguments_delta(self, delta: str) -> None:
        if self._open is None or self._open.item["type"] not in ("function_call", "mcp_call"):
            log.warning("[%s] arguments without a tool call dropped", self.session_id)
            return
        item = self._open.item
        item["arguments"] += delta
        if item["type"] == "mcp_call":
            self._emit({"type": "response.mcp_call_arguments.delta", **self._ids(), "delta": delta})
        else:
            self._emit(
                {
                    "type": "response.function_call_arguments.delta",
                    **self._ids(),
                    "call_id": item["call_id"],
                    "delta": delta,
                }
            )

    def _arguments_done(self) -> None:
        assert self._open is not None
        if self._open.arguments_done:
            return
        self._open.arguments_done = True
        item = self._open.item
        if not item["arguments"]:
            item["arguments"] = "{}"
        if item["type"] == "mcp_call":
            self._emit(
                {
                    "type": "response.mcp_call_arguments.done",
                    **self._ids(),
                    "arguments": item["arguments"],
                }
            )
        else:
            self._emit(
                {
                    "type": "response.function_call_arguments.done",
                    **self._ids(),
                    "call_id": item["call_id"],
                    "name": item["name"],
                    "arguments": item["arguments"],
                }
            )

    def _close_open(self, status: str) -> None:
        if self._open is None:
            return
        item = self._open.item
        if item["type"] == "message":
            part = item["content"][0]
            ids = {**self._ids(), "content_index": 0}
            if part["type"] == "output_audio":
                transcript = part["transcript"]
                self._emit({"type": "response.output_audio.done", **ids})
                self._emit(
                    {
                        "type": "response.output_audio_transcript.done",
                        **ids,
                        "transcript": transcript,
                    }
                )
                done_part = {"type": "audio", "transcript": transcript}
            else:
                self._emit({"type": "response.output_text.done", **ids, "text": part["text"]})
                done_part = {"type": "text", "text": part["text"]}
            self._emit({"type": "response.content_part.done", **ids, "part": done_part})
        else:
            self._arguments_done()
        if item["type"] != "mcp_call":  # mcp_call items carry output/error instead of a status
            item["status"] = status
        self._emit(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": self._open.output_index,
                "item": public_item(item),
            }
        )
        if self.conversation is not None:
            self._emit({"type": "conversation.item.done", "item": public_item(item)})
        self._open = None

    def _finish(self, status: str, reason: str | None = None, error: dict | None = None) -> None:
        self.response["status"] = status
        details: dict[str, Any] = {"type": status}
        if reason:
            details["reason"] = reason
        if error:
            details["error"] = error
        self.response["status_details"] = details
        inp, out = self.usage["input_tokens"], self.usage["output_tokens"]
        self.response["usage"] = {
            "total_tokens": inp + out,
            "input_tokens": inp,
            "output_tokens": out,
            "input_token_details": {"text_tokens": inp, "audio_tokens": 0, "cached_tokens": 0},
            "output_token_details": {"text_tokens": out, "audio_tokens": 0},
        }
        self._emit({"type": "response.done", "response": self._snapshot()})
        log.info(
            "[%s] response %s %s%s (%d in / %d out tokens)",
            self.session_id,
            self.id,
            status,
            f" ({reason})" if reason else "",
            inp,
            out,
        )

    def _snapshot(self) -> dict[str, Any]:
        # Deltas keep mutating the items; each event carries the state at its own moment.
        snapshot = json.loads(json.dumps(self.response))
        snapshot["output"] = [public_item(item) for item in snapshot["output"]]
        return snapshot
