"""The one interface every LLM backend implements."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

ToolChoice = str | dict[str, Any]  # "none" | "auto" | "required" | {"type": "function", "name": …}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    @classmethod
    def from_realtime(cls, tool: dict[str, Any]) -> "ToolSpec":
        return cls(
            name=tool["name"],
            description=tool.get("description") or "",
            parameters=tool.get("parameters") or {"type": "object", "properties": {}},
        )


@dataclass
class BrainRequest:
    messages: list[dict[str, Any]]  # OpenAI chat-completions messages
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    max_output_tokens: int | None = None
    temperature: float | None = None  # None: the backend's configured llm.temperature
    # Names the conversation asking (a session's id): a backend may keep state per conversation
    # (the embedded LLM answers it on the cache slot that holds it).
    conversation: str | None = None

    def forced_tool(self) -> str | None:
        if isinstance(self.tool_choice, dict):
            return self.tool_choice.get("name")
        return None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallStarted:
    call_id: str
    name: str


@dataclass(frozen=True)
class ToolArgumentsDelta:
    call_id: str
    delta: str


@dataclass(frozen=True)
class Finished:
    """The end of a completion. `repetition`: the loop guard ended an answer that had started
    repeating itself (see loop_guard.py). `cached_tokens`: prompt tokens the backend did not
    have to read again (a warm prompt prefix)."""

    reason: Literal["stop", "length", "tool_calls", "repetition"]
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0


BrainEvent = TextDelta | ToolCallStarted | ToolArgumentsDelta | Finished


@runtime_checkable
class Brain(Protocol):
    """The LLM side: streams one completion. Cancelling the consumer (closing the iterator) must
    stop the generation promptly: a backend never keeps the CPU busy for a response nobody wants.

    `side_effects`: answering acts on the world (e.g. OVOS skills start a timer), so the voice
    loop must never start it speculatively, before the user's turn is final."""

    name: str
    side_effects: bool

    def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]: ...

    def describe(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ReadsAhead(Protocol):
    """A brain that can read a prompt before it is asked to answer it: the voice loop hands it
    the request a turn would make with the words heard so far (brain/llama_embedded.py)."""

    def prepare(self, request: BrainRequest) -> None: ...

    def forget(self, conversation: str) -> None:
        """The conversation ended: what the brain keeps of it may go to the next one."""
