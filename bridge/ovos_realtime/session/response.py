"""One response: a single asyncio task from `response.created` to `response.done`.

Events follow OpenAI's order: response.created → output_item.added → (conversation.item.added)
→ content_part.added → deltas → *.done → output_item.done → (conversation.item.done) →
response.done. Cancelling the task stops the brain at once; `finish_cancelled` then closes the
open item and sends `response.done` with status `cancelled`, so nothing of the response follows it.
"""

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

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
    ) -> None:
        self.id = new_id("resp")
        self.settings = settings
        self.request = request
        self.brain = brain
        self.emit = emit
        self.conversation = conversation  # None for out-of-band responses
        self.session_id = session_id
        self.server_tools = server_tools or {}
        self.task: asyncio.Task | None = None
        self.usage = {"input_tokens": 0, "output_tokens": 0}
        self.response: dict[str, Any] = {
            "id": self.id,
            "object": "realtime.response",
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": conversation.id if conversation else None,
            "output_modalities": settings.output_modalities,
            "audio": {"output": {"format": settings.output_format, "voice": settings.voice}},
            "max_output_tokens": settings.max_output_tokens or "inf",
            "metadata": settings.metadata,
            "usage": None,
        }
        self._open: _OpenItem | None = None

    # ---- lifecycle ----

    def start(self) -> asyncio.Task:
        self.emit({"type": "response.created", "response": self._snapshot()})
        self.task = asyncio.create_task(self._run(), name=f"response {self.id}")
        return self.task

    @property
    def active(self) -> bool:
        return self.task is not None and not self.task.done()

    async def cancel(self, reason: str) -> bool:
        """Stop the response now. False when it had already finished."""
        if self.task is None or not self.task.cancel():
            return False
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.finish_cancelled(reason)
        return True

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
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the brain failed: the response fails, the session lives
            log.exception("[%s] response %s failed", self.session_id, self.id)
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
        async with contextlib.aclosing(self.brain.stream(request)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    self._text_delta(event.text)
                elif isinstance(event, ToolCallStarted):
                    server_tool = event.name in self.server_tools and allow_server_tools
                    self._start_call(event, "mcp_call" if server_tool else "function_call")
                elif isinstance(event, ToolArgumentsDelta):
                    self._arguments_delta(event.delta)
                elif isinstance(event, Finished):
                    finished = event
        self.usage["input_tokens"] += finished.input_tokens
        self.usage["output_tokens"] += finished.output_tokens
        return finished

    async def _run_server_tool(self, request: BrainRequest) -> BrainRequest:
        """Run the open mcp_call item's tool; the next round sees its output."""
        assert self._open is not None
        item = self._open.item
        self._arguments_done()
        self.emit(
            {
                "type": "response.mcp_call.in_progress",
                "item_id": item["id"],
                "output_index": self._open.output_index,
            }
        )
        tool = self.server_tools[item["name"]]
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
        self.emit(
            {
                "type": f"response.mcp_call.{outcome}",
                "item_id": item["id"],
                "output_index": self._open.output_index,
            }
        )
        messages = list(request.messages)
        call = {
            "id": item["id"],
            "type": "function",
            "function": {"name": item["name"], "arguments": item["arguments"]},
        }
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        result = (
            item.get("output") if outcome == "completed" else f"error: {item['error']['message']}"
        )
        messages.append({"role": "tool", "tool_call_id": item["id"], "content": result or ""})
        self._close_open("completed")
        # A tool the caller forced has now been called: let the model answer.
        return dataclasses.replace(request, messages=messages, tool_choice="auto")

    def finish_cancelled(self, reason: str) -> None:
        self._close_open("incomplete")
        self._finish("cancelled", reason=reason)

    # ---- events ----

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
        self.emit(
            {
                "type": "response.output_item.added",
                "response_id": self.id,
                "output_index": self._open.output_index,
                "item": public_item(item),
            }
        )
        if self.conversation is not None:
            previous = self.conversation.add(item)
            self.emit(
                {
                    "type": "conversation.item.added",
                    "previous_item_id": previous,
                    "item": public_item(item),
                }
            )

    def _text_delta(self, text: str) -> None:
        if self._open is None or self._open.item["type"] != "message":
            self._close_open("completed")
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
            self._open.item["content"].append({"type": "output_text", "text": ""})
            self.emit(
                {
                    "type": "response.content_part.added",
                    **self._ids(),
                    "content_index": 0,
                    "part": {"type": "text", "text": ""},
                }
            )
        part = self._open.item["content"][0]
        part["text"] += text
        self.emit(
            {"type": "response.output_text.delta", **self._ids(), "content_index": 0, "delta": text}
        )

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
            self.emit({"type": "response.mcp_call_arguments.delta", **self._ids(), "delta": delta})
        else:
            self.emit(
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
            self.emit(
                {
                    "type": "response.mcp_call_arguments.done",
                    **self._ids(),
                    "arguments": item["arguments"],
                }
            )
        else:
            self.emit(
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
            text = item["content"][0]["text"]
            self.emit(
                {
                    "type": "response.output_text.done",
                    **self._ids(),
                    "content_index": 0,
                    "text": text,
                }
            )
            self.emit(
                {
                    "type": "response.content_part.done",
                    **self._ids(),
                    "content_index": 0,
                    "part": {"type": "text", "text": text},
                }
            )
        else:
            self._arguments_done()
        if item["type"] != "mcp_call":  # mcp_call items carry output/error instead of a status
            item["status"] = status
        self.emit(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": self._open.output_index,
                "item": public_item(item),
            }
        )
        if self.conversation is not None:
            self.emit({"type": "conversation.item.done", "item": public_item(item)})
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
        self.emit({"type": "response.done", "response": self._snapshot()})
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
