"""One response: a single asyncio task from `response.created` to `response.done`.

Events follow OpenAI's order: response.created → output_item.added → (conversation.item.added)
→ content_part.added → deltas → *.done → output_item.done → (conversation.item.done) →
response.done. Cancelling the task stops the brain at once; `finish_cancelled` then closes the
open item and sends `response.done` with status `cancelled`, so nothing of the response follows it.
"""

import asyncio
import contextlib
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
    ) -> None:
        self.id = new_id("resp")
        self.settings = settings
        self.request = request
        self.brain = brain
        self.emit = emit
        self.conversation = conversation  # None for out-of-band responses
        self.session_id = session_id
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
        try:
            async with contextlib.aclosing(self.brain.stream(self.request)) as events:
                async for event in events:
                    if isinstance(event, TextDelta):
                        self._text_delta(event.text)
                    elif isinstance(event, ToolCallStarted):
                        self._start_function_call(event)
                    elif isinstance(event, ToolArgumentsDelta):
                        self._arguments_delta(event.delta)
                    elif isinstance(event, Finished):
                        finished = event
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the brain failed: the response fails, the session lives
            log.exception("[%s] response %s failed", self.session_id, self.id)
            self._close_open("incomplete")
            self._finish("failed", error={"type": "server_error", "code": type(exc).__name__})
            return
        self.usage = {
            "input_tokens": finished.input_tokens,
            "output_tokens": finished.output_tokens,
        }
        if finished.reason == "length":
            self._close_open("incomplete")
            self._finish("incomplete", reason="max_output_tokens")
        else:
            self._close_open("completed")
            self._finish("completed")

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

    def _start_function_call(self, call: ToolCallStarted) -> None:
        self._close_open("completed")
        self._open_item(
            {
                "id": new_id("item"),
                "object": "realtime.item",
                "type": "function_call",
                "status": "in_progress",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": "",
            }
        )

    def _arguments_delta(self, delta: str) -> None:
        if self._open is None or self._open.item["type"] != "function_call":
            log.warning("[%s] arguments without a function call dropped", self.session_id)
            return
        self._open.item["arguments"] += delta
        self.emit(
            {
                "type": "response.function_call_arguments.delta",
                **self._ids(),
                "call_id": self._open.item["call_id"],
                "delta": delta,
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
            if status == "completed" and not item["arguments"]:
                item["arguments"] = "{}"
            self.emit(
                {
                    "type": "response.function_call_arguments.done",
                    **self._ids(),
                    "call_id": item["call_id"],
                    "name": item["name"],
                    "arguments": item["arguments"],
                }
            )
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
