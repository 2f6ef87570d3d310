"""The OVOS Session of one Realtime session.

In OVOS the client owns its session: every message it sends carries the session in
`context["session"]`, and ovos-core sends the updated session back in the context of its
replies (active skills for converse, `get_response` mode, intent context). We keep the latest
state, so skills see one user per connection and a skill that asked a question gets the answer.
"""

import asyncio
import logging
from typing import Any

from ovos_bus_client.message import Message
from ovos_bus_client.session import Session, SessionManager

log = logging.getLogger(__name__)

SOURCE = "ovos-realtime"


def session_id_of(message: Message) -> str | None:
    """The OVOS session id a message belongs to; None when it names none (a global message)."""
    session = message.context.get("session")
    if not isinstance(session, dict):
        return None
    session_id = session.get("session_id")
    return session_id if isinstance(session_id, str) and session_id else None


class OvosSession:
    def __init__(self, session_id: str, lang: str, site_id: str) -> None:
        self.id = session_id
        self.lang = lang
        self.site_id = site_id
        # ovos-core decides the pipeline and blacklists from its own config (see serialized()).
        self.session = Session(session_id=session_id, lang=lang, site_id=site_id)
        self.lang = self.session.lang  # standardized: en-gb → en-GB
        # One utterance at a time: what skills say is told apart by session only.
        self.turn_lock = asyncio.Lock()

    def serialized(self) -> dict[str, Any]:
        data = self.session.serialize()
        # An empty pipeline makes ovos-core use its own: ours would name plugins it may lack.
        data["pipeline"] = []
        data.pop("blacklisted_skills", None)
        data.pop("blacklisted_intents", None)
        return data

    def context(self) -> dict[str, Any]:
        return {
            "session": self.serialized(),
            "source": SOURCE,
            "destination": ["skills"],
            "lang": self.lang,
            "site_id": self.site_id,
        }

    def message(self, msg_type: str, data: dict[str, Any] | None = None) -> Message:
        return Message(msg_type, data or {}, self.context())

    def owns(self, message: Message) -> bool:
        return session_id_of(message) == self.id

    def update_from(self, message: Message) -> None:
        """Take ovos-core's view of our session from a message that belongs to it."""
        data = message.context.get("session")
        if not isinstance(data, dict) or data.get("session_id") != self.id:
            return
        active = data.get("active_skills")
        if isinstance(active, list) and all(
            isinstance(s, list | tuple) and len(s) == 2 and isinstance(s[0], str) for s in active
        ):
            self.session.active_skills = [[str(s[0]), s[1]] for s in active]
        states = data.get("utterance_states")
        if isinstance(states, dict) and all(isinstance(k, str) for k in states):
            self.session.utterance_states = {k: str(v) for k, v in states.items()}
        context = data.get("context")
        if isinstance(context, dict):
            try:
                self.session.context = Session.deserialize({"context": context}).context
            except Exception:
                log.debug("[%s] ignored a malformed intent context", self.id)

    def close(self) -> None:
        # Session.touch() registers sessions in a process-wide dict: do not leak ours.
        SessionManager.sessions.pop(self.id, None)
