"""One answer with server tools run in between: the brain streams; when it calls a server tool,
the tool runs and the brain streams again with the tool's output in its context.

Client tools end the answer with their call (the client runs them and asks again). Server tool
calls come out as `ServerToolCallStarted` instead of `ToolCallStarted`, followed by their
argument deltas, `ServerToolRunning` and `ServerToolDone`.

Every backend's text passes here, so the loop guard (loop_guard.py) reads it here: an answer
that starts repeating itself is ended (its stream closed, which stops the backend) with the
reason `repetition`, whichever backend wrote it.
"""

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from ovos_realtime.brain.base import (
    Brain,
    BrainEvent,
    BrainRequest,
    Finished,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallStarted,
)
from ovos_realtime.brain.loop_guard import LoopGuard
from ovos_realtime.brain.tools import MAX_SERVER_TOOL_ROUNDS, ServerTool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerToolCallStarted:
    call_id: str
    name: str
    server_label: str


@dataclass(frozen=True)
class ServerToolRunning:
    call_id: str
    arguments: str  # the complete arguments ("{}" when the brain sent none)


@dataclass(frozen=True)
class ServerToolDone:
    call_id: str
    output: str | None  # None when it failed
    error: str | None = None


RoundEvent = BrainEvent | ServerToolCallStarted | ServerToolRunning | ServerToolDone


async def answer_with_server_tools(
    brain: Brain,
    request: BrainRequest,
    server_tools: dict[str, ServerTool],
    *,
    before_acting: Callable[[], Awaitable[object]] | None = None,
    session_id: str = "-",
) -> AsyncIterator[RoundEvent]:
    """The brain's events, server tool calls marked and run. One `Finished` comes last, with the
    usage of every round. `before_acting` is awaited before a tool runs (a tool may act on the
    world: never before the user's turn is final)."""
    usage = [0, 0, 0]  # input, output, cached input tokens
    finished = Finished("stop")
    for round_ in range(MAX_SERVER_TOOL_ROUNDS + 1):
        allow_server_tools = round_ < MAX_SERVER_TOOL_ROUNDS
        call: ToolCallStarted | None = None  # the server tool call still open, if any
        arguments = ""
        guard = LoopGuard()
        deltas = 0
        async with contextlib.aclosing(brain.stream(request)) as events:
            async for event in events:
                if isinstance(event, Finished):
                    finished = event
                    continue
                if isinstance(event, TextDelta) and guard.feed(event.text):
                    log.warning(
                        "[%s] loop guard: the answer repeats %r; ended after %d text deltas",
                        session_id,
                        guard.repeated,
                        deltas,
                    )
                    # The backend's own count never comes (its stream is closed here): the
                    # deltas streamed stand for the tokens written.
                    finished = Finished("repetition", output_tokens=deltas)
                    call = None
                    break
                if isinstance(event, TextDelta):
                    deltas += 1
                if isinstance(event, ToolCallStarted):
                    call = event if allow_server_tools and event.name in server_tools else None
                    arguments = ""
                    if call is not None:
                        tool = server_tools[event.name]
                        yield ServerToolCallStarted(event.call_id, event.name, tool.server_label)
                        continue
                elif isinstance(event, ToolArgumentsDelta) and call is not None:
                    arguments += event.delta
                elif isinstance(event, TextDelta):
                    call = None  # the brain went on talking: that call was not the last word
                yield event
        usage[0] += finished.input_tokens
        usage[1] += finished.output_tokens
        usage[2] += finished.cached_tokens
        if call is None:
            break
        arguments = arguments or "{}"
        yield ServerToolRunning(call.call_id, arguments)
        if before_acting is not None:
            await before_acting()
        output, error = await _run(server_tools[call.name], arguments, session_id)
        yield ServerToolDone(call.call_id, output, error)
        request = _with_tool_result(request, call, arguments, output, error)
    yield Finished(finished.reason, usage[0], usage[1], usage[2])


async def _run(tool: ServerTool, arguments: str, session_id: str) -> tuple[str | None, str | None]:
    try:
        parsed = json.loads(arguments)
        if not isinstance(parsed, dict):
            raise ValueError("arguments must be a JSON object")
        return await asyncio.wait_for(tool.run(parsed), tool.timeout_s), None
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("[%s] server tool %s failed: %r", session_id, tool.spec.name, exc)
        return None, "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(
            exc
        ).__name__


def _with_tool_result(
    request: BrainRequest,
    call: ToolCallStarted,
    arguments: str,
    output: str | None,
    error: str | None,
) -> BrainRequest:
    """The next round's request: the call and its result appended; a forced tool choice has
    been honoured, so the model may now answer."""
    messages = [
        *request.messages,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.call_id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": arguments},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": call.call_id,
            "content": (output or "") if error is None else f"error: {error}",
        },
    ]
    return dataclasses.replace(request, messages=messages, tool_choice="auto")
