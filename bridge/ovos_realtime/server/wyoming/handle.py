"""The persona agent as a conversation agent: a `transcript` (its `context.conversation_id`
keeps a conversation going) → `handled-start`, `handled-chunk`… as the answer is written,
`handled` (the whole answer) and `handled-stop`.

Each conversation id has its own AssistantSession and chat history (system = the persona's
instructions), so follow-ups keep their context; the oldest conversations are dropped past
`wyoming.max_conversations`."""

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ovos_realtime.brain.base import TextDelta
from ovos_realtime.config import Settings
from ovos_realtime.core.assistant import Assistant, AssistantSession

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 10_000  # one user turn
MAX_CONVERSATION_ID = 128  # characters
MAX_HISTORY_MESSAGES = 40  # user and assistant messages kept per conversation (the system too)


@dataclass
class Conversation:
    session: AssistantSession
    history: list[dict[str, Any]]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Conversations:
    def __init__(self, assistant: Assistant, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings
        self.limit = settings.wyoming.max_conversations
        self._open: OrderedDict[tuple[str, str], Conversation] = OrderedDict()

    @staticmethod
    def new_id() -> str:
        return f"wyoming-{uuid.uuid4().hex[:12]}"

    def get(self, conversation_id: str, persona: str | None, lang: str | None) -> Conversation:
        key = (conversation_id, persona or "")
        found = self._open.get(key)
        if found is not None:
            self._open.move_to_end(key)
            return found
        params = {"lang": lang} if lang else {}
        session = self.assistant.open(conversation_id, persona, params)
        history = [{"role": "system", "content": session.instructions}]
        conversation = Conversation(session, history)
        self._open[key] = conversation
        while len(self._open) > self.limit:
            _, dropped = self._open.popitem(last=False)
            log.info("[%s] conversation dropped (wyoming.max_conversations)", dropped.session.id)
            dropped.session.close()
        return conversation

    async def answer(
        self, text: str, conversation_id: str, persona: str | None, lang: str | None
    ) -> AsyncIterator[str]:
        """The answer's text as it is written; the turn joins the history once it is whole."""
        conversation = self.get(conversation_id, persona, lang)
        async with conversation.lock:
            history = [*conversation.history, {"role": "user", "content": text}]
            async for event in conversation.session.reply(history):
                if isinstance(event, TextDelta) and event.text:
                    yield event.text
            system, rest = history[:1], history[1:]
            conversation.history = system + rest[-MAX_HISTORY_MESSAGES:]

    def close(self) -> None:
        for conversation in self._open.values():
            conversation.session.close()
        self._open.clear()
