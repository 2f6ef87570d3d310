"""Any OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp server, vLLM, …)."""

import logging
from collections.abc import AsyncIterator
from typing import Any

from openai import AsyncOpenAI

from ovos_realtime.brain.base import (
    BrainEvent,
    BrainRequest,
    Finished,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallStarted,
)
from ovos_realtime.config import LLMSettings
from ovos_realtime.ids import new_id

log = logging.getLogger(__name__)

_FINISH = {"length": "length", "tool_calls": "tool_calls", "function_call": "tool_calls"}


class OpenAICompatBackend:
    name = "openai"
    side_effects = False

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.model = settings.model or "default"
        self._client = AsyncOpenAI(
            base_url=settings.url,
            api_key=settings.api_key or "not-needed",
            timeout=settings.timeout_s,
            max_retries=1,
        )

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "url": self.settings.url}

    async def aclose(self) -> None:
        await self._client.close()

    def _request_args(self, request: BrainRequest) -> dict[str, Any]:
        args: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "temperature": (
                self.settings.temperature if request.temperature is None else request.temperature
            ),
            "stream": True,
            "max_tokens": request.max_output_tokens or self.settings.max_output_tokens,
        }
        for penalty in ("frequency_penalty", "presence_penalty"):
            if getattr(self.settings, penalty):  # sent only when set: 0 is every API's default
                args[penalty] = getattr(self.settings, penalty)
        if request.tools and request.tool_choice != "none":
            args["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
            forced = request.forced_tool()
            args["tool_choice"] = (
                {"type": "function", "function": {"name": forced}}
                if forced
                else request.tool_choice
            )
        return args

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        stream = await self._client.chat.completions.create(**self._request_args(request))
        calls: dict[int, str] = {}  # tool call index -> call_id
        reason, input_tokens, output_tokens = "stop", 0, 0
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    input_tokens = chunk.usage.prompt_tokens or 0
                    output_tokens = chunk.usage.completion_tokens or 0
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta is not None and delta.content:
                        yield TextDelta(delta.content)
                    for call in (delta.tool_calls if delta is not None else None) or []:
                        function = call.function
                        if call.index not in calls:
                            if function is None or not function.name:
                                continue  # the name comes first; nothing to announce yet
                            calls[call.index] = call.id or new_id("call")
                            yield ToolCallStarted(calls[call.index], function.name)
                        if function is not None and function.arguments:
                            yield ToolArgumentsDelta(calls[call.index], function.arguments)
                    if choice.finish_reason:
                        reason = _FINISH.get(choice.finish_reason, "stop")
        finally:
            await stream.close()
        yield Finished(reason, input_tokens=input_tokens, output_tokens=output_tokens)
