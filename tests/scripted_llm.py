"""A scripted LLM backend for deterministic protocol tests (tests only; never shipped).

It answers from the last message, by rule:
- a tool result → "The tool said: <output>";
- a forced or required tool choice, or a user text containing "call a tool" with tools on offer →
  a call to the chosen (or first) tool, arguments filled from its schema;
- "slow", "long" or "story" → 400 words, 10 ms apart (for cancel tests; several trigger words so
  that a speech-to-text slip on one of them does not make a cancel test flaky);
- "fail" → the backend raises;
- anything else → "Hello! You said: <text>".
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from ovos_realtime.brain.base import (
    BrainEvent,
    BrainRequest,
    Finished,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallStarted,
)

_SAMPLE = {"string": "Paris", "number": 21.5, "integer": 3, "boolean": True}


def sample_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    args = {}
    for name, prop in (schema.get("properties") or {}).items():
        if "enum" in prop:
            args[name] = prop["enum"][0]
        else:
            args[name] = _SAMPLE.get(prop.get("type", "string"), "x")
    return args


class ScriptedLLM:
    name = "scripted"
    side_effects = False

    def __init__(self, settings: Any = None) -> None:
        self.settings = settings

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name}

    async def aclose(self) -> None:
        return None

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        last = request.messages[-1] if request.messages else {"role": "user", "content": ""}
        text = last.get("content") or ""
        slow = any(word in text.lower() for word in ("slow", "long", "story"))
        limit = request.max_output_tokens
        tools_on = bool(request.tools) and request.tool_choice != "none"
        wants_tool = tools_on and (
            request.forced_tool() or request.tool_choice == "required" or "call a tool" in text
        )
        if last["role"] == "tool":
            words = f"The tool said: {text}".split(" ")
        elif wants_tool:
            tool = next(
                (t for t in request.tools if t.name == request.forced_tool()), request.tools[0]
            )
            yield ToolCallStarted(call_id=f"call_{len(request.messages)}", name=tool.name)
            arguments = json.dumps(sample_arguments(tool.parameters))
            for i in range(0, len(arguments), 8):
                yield ToolArgumentsDelta(f"call_{len(request.messages)}", arguments[i : i + 8])
            yield Finished("tool_calls", input_tokens=10, output_tokens=len(arguments) // 4)
            return
        elif "fail" in text:
            raise RuntimeError("scripted failure")
        elif slow:
            words = [f"word{i}" for i in range(400)]
        else:
            words = f"Hello! You said: {text}".split(" ")
        for count, word in enumerate(words):
            if limit is not None and count >= limit:
                yield Finished("length", input_tokens=10, output_tokens=count)
                return
            if slow:
                await asyncio.sleep(0.01)
            yield TextDelta(word if count == 0 else " " + word)
        yield Finished("stop", input_tokens=10, output_tokens=len(words))
