"""DirectedLLM: the scripted LLM, plus one rule for the OVOS tests (tests only; never shipped):
a user text `use <tool> <JSON arguments>` calls that tool, when it is on offer, with exactly
those arguments; the answer after the tool result is ScriptedLLM's "The tool said: <output>"."""

from collections.abc import AsyncIterator

from ovos_realtime.brain.base import (
    BrainEvent,
    BrainRequest,
    Finished,
    ToolArgumentsDelta,
    ToolCallStarted,
)

from tests.scripted_llm import ScriptedLLM


class DirectedLLM(ScriptedLLM):
    name = "directed"

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        last = request.messages[-1] if request.messages else {}
        text = (last.get("content") or "") if last.get("role") == "user" else ""
        if text.startswith("use "):
            name, _, arguments = text[4:].partition(" ")
            if any(tool.name == name for tool in request.tools):
                call_id = f"call_{len(request.messages)}"
                yield ToolCallStarted(call_id=call_id, name=name)
                yield ToolArgumentsDelta(call_id, arguments.strip() or "{}")
                yield Finished("tool_calls", input_tokens=10, output_tokens=10)
                return
        async for event in super().stream(request):
            yield event
