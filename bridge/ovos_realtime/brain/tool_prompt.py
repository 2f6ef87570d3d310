"""How a small local model is told about tools and how its calls are written.

The format is Hermes-style: the model answers `<tool_call>{"name": …, "arguments": …}</tool_call>`.
The embedded backend never trusts free generation for the call itself: once a call is chosen it
generates the name and the arguments under grammars, so the arguments always parse and match the
tool's JSON schema.
"""

import json
from typing import Any

from ovos_realtime.brain.base import ToolSpec

TOOL_CALL_TAG = "<tool_call>"


def tools_block(tools: list[ToolSpec]) -> str:
    listing = "\n".join(
        json.dumps({"name": t.name, "description": t.description, "parameters": t.parameters})
        for t in tools
    )
    return (
        "You can call these functions:\n"
        f"{listing}\n"
        "To call a function, reply with only "
        '<tool_call>{"name": "<function name>", "arguments": {<arguments>}}</tool_call>. '
        "Otherwise reply normally."
    )


# Small models asked for a tag often write the bare JSON object instead (Qwen2.5 does): a reply
# opening with either is a call. No spoken answer starts with '{"name"'.
_CALL_OPENINGS = (TOOL_CALL_TAG, '{"name"')


def call_opening(head: str) -> bool | None:
    """Does a reply starting with `head` call a tool? True, False, or None (cannot tell yet)."""
    compact = "".join(head.split())
    if any(compact.startswith(opening) for opening in _CALL_OPENINGS):
        return True
    if any(opening.startswith(compact) for opening in _CALL_OPENINGS):
        return None
    return False


def call_prefix() -> str:
    return TOOL_CALL_TAG + '{"name": '


def arguments_prefix(name: str) -> str:
    return f"{call_prefix()}{json.dumps(name)}, " + '"arguments": '


def plain_messages(messages: list[dict[str, Any]], tools: list[ToolSpec]) -> list[dict[str, Any]]:
    """Chat messages with tool calls and results written as text, so any chat template renders
    them; the tools block joins the system prompt when tools are on offer."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        if role == "assistant" and message.get("tool_calls"):
            calls = "".join(
                TOOL_CALL_TAG
                + json.dumps(
                    {
                        "name": c["function"]["name"],
                        "arguments": _parsed(c["function"]["arguments"]),
                    }
                )
                + "</tool_call>"
                for c in message["tool_calls"]
            )
            out.append({"role": "assistant", "content": ((message.get("content") or "") + calls)})
        elif role == "tool":
            out.append(
                {"role": "user", "content": f"<tool_response>{message['content']}</tool_response>"}
            )
        else:
            out.append({"role": role, "content": message.get("content") or ""})
    if tools:
        block = tools_block(tools)
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": f"{out[0]['content']}\n\n{block}"}
        else:
            out.insert(0, {"role": "system", "content": block})
    return out


def _parsed(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def argument_schema(tool: ToolSpec) -> dict[str, Any]:
    schema = dict(tool.parameters or {})
    if schema.get("type") != "object":
        schema = {"type": "object", "properties": {}}
    schema.setdefault("properties", {})
    return schema
