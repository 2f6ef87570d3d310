"""The Realtime events of one response's output, in OpenAI's order.

response.created → output_item.added → (conversation.item.added) → content_part.added → deltas
→ *.done → content_part.done → output_item.done → (conversation.item.done) → response.done.
Every event carries the state at its own moment; items are added to the conversation (when the
response is in one) as they open.
"""

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ovos_realtime.audio.formats import WireFormat
from ovos_realtime.ids import new_id
from ovos_realtime.session.conversation import Conversation, public_item
from ovos_realtime.session.settings import ResponseSettings

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]
Visibly = Callable[[Callable[[], None]], None]


class _OpenItem:
    """The output item being streamed right now."""

    def __init__(self, item: dict[str, Any], output_index: int) -> None:
        self.item = item
        self.output_index = output_index
        self.arguments_done = False


class OutputWriter:
    def __init__(
        self,
        response_id: str,
        settings: ResponseSettings,
        *,
        audio: bool,
        conversation: Conversation | None,
        emit: Emit,
        visibly: Visibly = lambda action: action(),
        session_id: str = "-",
    ) -> None:
        """`emit` sends an event; `visibly(action)` does what others can see (both may hold
        things back, see SpeculationGate)."""
        self.id = response_id
        self.audio = audio
        self.conversation = conversation  # None for out-of-band responses
        self.emit = emit
        self.visibly = visibly
        self.session_id = session_id
        self._wire = WireFormat.from_session(settings.output_format)
        self._open: _OpenItem | None = None
        self.response: dict[str, Any] = {
            "id": response_id,
            "object": "realtime.response",
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": conversation.id if conversation else None,
            "output_modalities": ["audio"] if audio else ["text"],
            "audio": {"output": {"format": settings.output_format, "voice": settings.voice}},
            "max_output_tokens": settings.max_output_tokens or "inf",
            "metadata": settings.metadata,
            "usage": None,
        }

    # ---- the response ----

    def created(self) -> None:
        self.emit({"type": "response.created", "response": self._snapshot()})

    def finish(
        self,
        status: str,
        *,
        reason: str | None = None,
        error: dict | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cached_tokens: int = 0,
    ) -> None:
        """Close what is open and send response.done."""
        self.close({"completed": "completed"}.get(status, "incomplete"))
        self.response["status"] = status
        details: dict[str, Any] = {"type": status}
        if reason:
            details["reason"] = reason
        if error:
            details["error"] = error
        self.response["status_details"] = details
        inp, out = input_tokens, output_tokens
        self.response["usage"] = {
            "total_tokens": inp + out,
            "input_tokens": inp,
            "output_tokens": out,
            "input_token_details": {
                "text_tokens": inp,
                "audio_tokens": 0,
                "cached_tokens": cached_tokens,
            },
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

    # ---- messages ----

    def text(self, delta: str) -> None:
        """Text of the answer. Spoken responses open their message here and leave the
        transcript to `audio`."""
        self._ensure_message()
        assert self._open is not None
        if self.audio:
            # The model's own text, whitespace and all, for the next turn's prompt: it then
            # extends this turn's prompt and answer byte for byte (a warm LLM cache).
            self._open.item["content"][0]["_text"] += delta
            return
        self._open.item["content"][0]["text"] += delta
        self.emit(
            {
                "type": "response.output_text.delta",
                **self._ids(),
                "content_index": 0,
                "delta": delta,
            }
        )

    def audio_out(self, transcript_piece: str, samples: np.ndarray) -> None:
        """One piece of spoken output: its transcript (with its first audio) and the audio."""
        if self._open is None or self._open.item["type"] != "message":
            return
        part = self._open.item["content"][0]
        if transcript_piece:
            delta = transcript_piece if not part["transcript"] else " " + transcript_piece
            part["transcript"] += delta
            self.emit(
                {
                    "type": "response.output_audio_transcript.delta",
                    **self._ids(),
                    "content_index": 0,
                    "delta": delta,
                }
            )
        if samples.size:
            self.emit(
                {
                    "type": "response.output_audio.delta",
                    **self._ids(),
                    "content_index": 0,
                    "delta": base64.b64encode(self._wire.encode(samples)).decode(),
                }
            )
            part["_duration_ms"] += samples.size / self._wire.rate * 1000
            part["_word_times"].append((part["_duration_ms"], len(part["transcript"])))

    def _ensure_message(self) -> None:
        if self._open is not None and self._open.item["type"] == "message":
            return
        self.close("completed")
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
                {
                    "type": "output_audio",
                    "transcript": "",
                    "_text": "",
                    "_duration_ms": 0.0,
                    "_word_times": [],
                }
            )
            part = {"type": "audio", "transcript": ""}
        else:
            self._open.item["content"].append({"type": "output_text", "text": ""})
            part = {"type": "text", "text": ""}
        self.emit(
            {"type": "response.content_part.added", **self._ids(), "content_index": 0, "part": part}
        )

    # ---- tool calls ----

    def call_started(self, call_id: str, name: str, server_label: str | None = None) -> None:
        """A client tool call (`function_call`), or a server tool's (`mcp_call`) when it has a
        server label."""
        self.close("completed")
        item: dict[str, Any] = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "function_call" if server_label is None else "mcp_call",
            "name": name,
            "arguments": "",
        }
        if server_label is None:
            item.update(status="in_progress", call_id=call_id)
        else:
            item["server_label"] = server_label
        self._open_item(item)

    def arguments(self, delta: str) -> None:
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

    def server_tool_running(self) -> None:
        assert self._open is not None and self._open.item["type"] == "mcp_call"
        self._arguments_done()
        self.emit(
            {
                "type": "response.mcp_call.in_progress",
                "item_id": self._open.item["id"],
                "output_index": self._open.output_index,
            }
        )

    def server_tool_done(self, output: str | None, error: str | None) -> None:
        assert self._open is not None and self._open.item["type"] == "mcp_call"
        item = self._open.item
        if error is None:
            item["output"] = output
        else:
            item["error"] = {"type": "tool_execution_error", "message": error}
        outcome = "completed" if error is None else "failed"
        self.emit(
            {
                "type": f"response.mcp_call.{outcome}",
                "item_id": item["id"],
                "output_index": self._open.output_index,
            }
        )
        self.close("completed")

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

    # ---- items ----

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

            self.visibly(add_to_conversation)

    def close(self, status: str) -> None:
        """Close the open item (if any) with `status`."""
        if self._open is None:
            return
        item = self._open.item
        if item["type"] == "message":
            part = item["content"][0]
            ids = {**self._ids(), "content_index": 0}
            if part["type"] == "output_audio":
                transcript = part["transcript"]
                if status != "completed":  # cut short: the history holds what was spoken
                    part.pop("_text", None)
                self.emit({"type": "response.output_audio.done", **ids})
                self.emit(
                    {
                        "type": "response.output_audio_transcript.done",
                        **ids,
                        "transcript": transcript,
                    }
                )
                done_part = {"type": "audio", "transcript": transcript}
            else:
                self.emit({"type": "response.output_text.done", **ids, "text": part["text"]})
                done_part = {"type": "text", "text": part["text"]}
            self.emit({"type": "response.content_part.done", **ids, "part": done_part})
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

    def _snapshot(self) -> dict[str, Any]:
        # Deltas keep mutating the items; each event carries the state at its own moment.
        snapshot = json.loads(json.dumps(self.response))
        snapshot["output"] = [public_item(item) for item in snapshot["output"]]
        return snapshot
