"""Bus manners of one conversation: tell OVOS when it speaks, and stop when OVOS says stop.

- audio of an answer starts/ends → `recognizer_loop:audio_output_start` / `_end` for the session
  (skills waiting for speech to end, e.g. before `get_response` listens, wait for these);
  an answer that finishes without audio also ends with `_end`, as text is "spoken" at once.
- `mycroft.stop` / `mycroft.audio.speech.stop` for this session, or with no session at all
  (a global stop), cancel the conversation's active answer. Stops for other sessions, including
  the device's own `default` session, are not ours.
"""

import asyncio
import logging
from collections.abc import Callable

from ovos_bus_client.message import Message

from ovos_realtime.core.assistant import AssistantSession
from ovos_realtime.core.observer import AssistantObserver
from ovos_realtime.ovos import topics
from ovos_realtime.ovos.bus import BusBase
from ovos_realtime.ovos.session import OvosSession, session_id_of

log = logging.getLogger(__name__)


class OvosObserver(AssistantObserver):
    def __init__(
        self,
        bus: BusBase,
        ovos_session: OvosSession,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.bus = bus
        self.ovos_session = ovos_session
        self.conversation: AssistantSession | None = None
        self._on_close = on_close
        self._with_audio: set[str] = set()
        self._tasks: set[asyncio.Task] = set()
        self._unsubscribe = [
            bus.on(topics.STOP, self._on_stop),
            bus.on(topics.SPEECH_STOP, self._on_stop),
        ]

    # ---- bus → session ----

    def _on_stop(self, message: Message) -> None:
        target = session_id_of(message)
        if target is not None and target != self.ovos_session.id:
            return
        conversation = self.conversation
        if conversation is None or not conversation.has_active_answer():
            return
        log.info("[%s] %s from the bus: cancelling the answer", conversation.id, message.msg_type)
        task = asyncio.get_running_loop().create_task(conversation.cancel_active_answer())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- session → bus ----

    def _tell(self, msg_type: str) -> None:
        self.bus.emit(self.ovos_session.message(msg_type))

    def opened(self, conversation: AssistantSession) -> None:
        self.conversation = conversation

    def audio_started(self, conversation: AssistantSession, answer_id: str) -> None:
        self._with_audio.add(answer_id)
        self._tell(topics.AUDIO_OUTPUT_START)

    def audio_finished(self, conversation: AssistantSession, answer_id: str) -> None:
        self._tell(topics.AUDIO_OUTPUT_END)

    def answer_finished(self, conversation: AssistantSession, answer_id: str) -> None:
        if answer_id in self._with_audio:
            self._with_audio.discard(answer_id)
        else:
            self._tell(topics.AUDIO_OUTPUT_END)

    def closed(self, conversation: AssistantSession) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._on_close is not None:
            self._on_close()
