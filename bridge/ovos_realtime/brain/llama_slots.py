"""llama.cpp contexts ("slots", as llama-server calls them) for the embedded backend: each holds
one conversation in its KV cache and has its own generation thread, so two sessions answer at
once and each keeps its conversation warm (one shared context made the second session wait for
the first one's whole answer, then re-read its own history).

The weights are memory-mapped once by the OS and shared; a slot costs its KV cache and compute
buffers (~130 MB for Qwen2.5-0.5B at 4,096 tokens).

A request goes to the slot that serves it soonest and reads the least: an idle slot before one
whose answer is still wanted (waiting for a whole answer costs seconds, re-reading a history a
fraction of one); then the slot that last served its conversation (`BrainRequest.conversation`,
a session's id: the turn read ahead there, its history is there); then the one holding the
longest run of its leading messages past the system prompt (requests that name no
conversation); then one that no conversation holds (unused, or its conversation ended:
`forget`); then the one used least recently (an unused one first).
"""

import itertools
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ovos_realtime.brain.base import BrainRequest
from ovos_realtime.brain.llama_threads import ThreadPlan
from ovos_realtime.config import LLMSettings
from ovos_realtime.threads import lower_priority

_uses = itertools.count(1)
UNNAMED = object()  # the owner of a cache filled by a request that names no conversation


class LlamaSlot:
    def __init__(self, index: int, llama: Any, settings: LLMSettings) -> None:
        self.index = index
        self.llama = llama
        self.threads = ThreadPlan(settings, llama._ctx.set_n_threads)
        # Below the event loop's priority (threads.py): a cancel must not wait for a core.
        self.executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"llm{index}", initializer=lower_priority
        )
        # Reading ahead: the latest request to read (the slot's thread takes it), and the
        # answers submitted and not started (reading ahead stops for them).
        self.read_ahead_lock = threading.Lock()
        self.to_read: BrainRequest | None = None
        self.answers_waiting = 0
        # Whose tokens the cache holds (set on the slot's thread): a conversation, UNNAMED for
        # requests that name none, None when empty or its conversation has ended (`forget`).
        self.cache_owner: object = None
        # Event-loop side: the conversation its cache holds (or is about to), the answers whose
        # consumer still reads them, and when it was last chosen.
        self.conversation: str | None = None
        self.messages: list[dict[str, Any]] = []
        self.answering = 0
        self.used = 0

    def fill_for(self, request: BrainRequest) -> None:
        """The cache now holds `request`'s conversation (the slot's thread)."""
        self.cache_owner = request.conversation or UNNAMED

    def forget(self, conversation: str) -> None:
        """That conversation ended: its cache and its claim on the slot are free."""
        if self.cache_owner == conversation:
            self.cache_owner = None
        if self.conversation == conversation:
            self.conversation, self.messages = None, []

    def take(self, request: BrainRequest) -> "LlamaSlot":
        self.conversation = request.conversation
        self.messages = list(request.messages)
        self.used = next(_uses)
        return self


def shared_history(held: Sequence[dict[str, Any]], messages: Sequence[dict[str, Any]]) -> int:
    """How many leading messages the two have in common, the system prompt not counted (every
    session with the same instructions shares it, and it is cheap to read again)."""
    count = 0
    for a, b in zip(held, messages, strict=False):
        if a != b:
            break
        count += 1
    system = bool(messages) and messages[0].get("role") == "system"
    return max(0, count - system)


def choose_slot(slots: Sequence[LlamaSlot], request: BrainRequest) -> LlamaSlot:
    """The slot for `request` (see the module's docstring)."""

    def rank(slot: LlamaSlot) -> tuple[bool, bool, int, bool, int]:
        own = request.conversation is not None and slot.conversation == request.conversation
        # Another conversation's slot is not taken for the history it happens to share.
        foreign = slot.conversation is not None and not own
        history = 0 if foreign else shared_history(slot.messages, request.messages)
        free = slot.cache_owner is None  # unused, or its conversation ended
        return slot.answering == 0, own, history, free, -slot.used

    return max(slots, key=rank)
