"""Conversation items (GA shape) → chat-completions messages."""

from typing import Any


def _message_text(item: dict[str, Any]) -> str:
    parts = []
    for part in item.get("content") or []:
        # `_text`: a spoken answer's text as the model wrote it (the transcript is re-spaced
        # clause by clause); the prompt then extends the last one byte for byte.
        text = part.get("_text") or part.get("text") or part.get("transcript")
        if text:
            parts.append(text)
    return " ".join(parts)


def chat_messages(instructions: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Instructions become the system prompt; items become the history, in order.

    Consecutive function_call items become one assistant message with several tool_calls, as
    chat-completions expects."""
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    for item in items:
        kind = item.get("type")
        if kind == "message":
            text = _message_text(item)
            if text:
                messages.append({"role": item.get("role", "user"), "content": text})
        elif kind in ("function_call", "mcp_call"):
            call_id = item.get("call_id") or item.get("id")
            call = {
                "id": call_id,
                "type": "function",
                "function": {"name": item["name"], "arguments": item.get("arguments") or "{}"},
            }
            last = messages[-1] if messages else None
            if last and last["role"] == "assistant" and last.get("tool_calls"):
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            if kind == "mcp_call":  # a server tool: its output is part of the item
                error = (item.get("error") or {}).get("message")
                output = item.get("output") if not error else f"error: {error}"
                messages.append({"role": "tool", "tool_call_id": call_id, "content": output or ""})
        elif kind == "function_call_output":
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item.get("call_id"),
                    "content": item.get("output") or "",
                }
            )
    return messages
