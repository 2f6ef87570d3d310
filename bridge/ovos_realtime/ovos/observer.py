"""Bus manners of one Realtime session: tell OVOS when the session speaks, and stop when OVOS
says stop.

- audio of a response starts/ends → `recognizer_loop:audio_output_start` / `_end` for the session
  (skills waiting for speech to end, e.g. before `get_response` listens, wait for these);
  a response that finishes without audio also ends with `_end`, as text is "spoken" at once.
- `mycroft.stop` / `mycroft.audio.speech.stop` for this session, or with no session at all
  (a global stop), cancel the session's active response. Stops for other sessions, including
  the device's own `default` session, are not ours.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ovos_bus_client.message import Message

from ovos_realtime.ovos import topics
from ovos_realtime.ovos.bus import OvosBus
from ovos_realtime.ovos.session import OvosSession, session_id_of
from ovos_realtime.session.engine import RealtimeSession, SessionObserver

log = logging.getLogger(__name__)


class OvosObserver(SessionObserver):
    def __init__(
        self,
        bus: OvosBus,
        ovos_session: OvosSession,
        session: RealtimeSession,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.bus = bus
        self.ovos_session = ovos_session
        self.session = session
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
        if self.session.active_response() is None:
            return
        log.info(
            "[%s] %s from the bus: cancelling the response",
            self.session.id,
            message.msg_type,
        )
        task = asyncio.get_running_loop().create_task(
            self.session.cancel_response(None, reason="client_cancelled")
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- session → bus ----

    def _tell(self, msg_type: str) -> None:
        self.bus.emit(self.ovos_session.message(msg_type))

    def audio_started(self, session: RealtimeSession, run: Any) -> None:
        self._with_audio.add(run.id)
        self._tell(topics.AUDIO_OUTPUT_START)

    def audio_finished(self, session: RealtimeSession, run: Any) -> None:
        self._tell(topics.AUDIO_OUTPUT_END)

    def response_finished(self, session: RealtimeSession, run: Any) -> None:
        if run.id in self._with_audio:
            self._with_audio.discard(run.id)
        else:
            self._tell(topics.AUDIO_OUTPUT_END)

    def session_closed(self, session: RealtimeSession) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._on_close is not None:
            self._on_close()
