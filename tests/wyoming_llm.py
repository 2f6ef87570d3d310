"""The scripted LLM, plus one rule for the Wyoming agent's memory tests (tests only): a user
text with "what did i say" is answered "Before that you said: <the previous user text>" (or
"Nothing before." in a new conversation)."""

from collections.abc import AsyncIterator

from ovos_realtime.brain.base import BrainEvent, BrainRequest, Finished, TextDelta

from tests.scripted_llm import ScriptedLLM


class MemoryLLM(ScriptedLLM):
    name = "scripted-memory"

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        users = [m.get("content") or "" for m in request.messages if m.get("role") == "user"]
        if users and "what did i say" in users[-1].lower():
            answer = f"Before that you said: {users[-2]}" if len(users) > 1 else "Nothing before."
            for i, word in enumerate(answer.split(" ")):
                yield TextDelta(word if i == 0 else " " + word)
            yield Finished("stop", input_tokens=10, output_tokens=len(answer.split()))
            return
        async for event in super().stream(request):
            yield event
