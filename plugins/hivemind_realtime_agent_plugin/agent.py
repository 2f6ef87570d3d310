"""The agent protocol: satellites' utterances answered by a running ovos-realtime server.

hivemind-core hands every bus message a satellite may send (its ACL decides) to
`self.bus.emit()`, on its network thread, with `context.source` set to the satellite's peer. We
answer `recognizer_loop:utterance` in that peer's own Realtime session, one `speak` per clause
and then `ovos.utterance.handled`, sent to that peer only, as replies to its message (so the
destination is the peer, as with the hub's OVOS agent). `mycroft.stop` and
`mycroft.audio.speech.stop` cancel the peer's answer in flight.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from typing import Any

from hivemind_bus_client.message import HiveMessage, HiveMessageType
from hivemind_plugin_manager.protocols import AgentProtocol, ClientCallbacks
from ovos_bus_client.message import Message
from ovos_utils.fakebus import FakeBus

from hivemind_realtime_agent_plugin import topics
from hivemind_realtime_agent_plugin.link import RealtimeLink
from hivemind_realtime_agent_plugin.runner import LoopThread
from hivemind_realtime_agent_plugin.settings import AgentSettings

LOG = logging.getLogger(__name__)


def _log_to_stderr() -> None:
    """hivemind-core sets up ovos_utils' logger only: ours logs INFO and up, to a handler of
    its own unless the process configured logging itself."""
    package = logging.getLogger("hivemind_realtime_agent_plugin")
    if package.level == logging.NOTSET:
        package.setLevel(logging.INFO)
    if package.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
    package.addHandler(handler)


class _PeerListener:
    """Turns one link's events into bus messages for its satellite."""

    def __init__(self, agent: RealtimeAgentProtocol, peer: str) -> None:
        self.agent = agent
        self.peer = peer

    def _origin(self, turn: Message | None) -> Message:
        if turn is not None:
            return turn
        # A spoken turn (RAW_AUDIO) has no message of the satellite's to reply to.
        client = self.agent.clients.get(self.peer)
        session = client.sess.serialize() if client is not None else {}
        return Message(topics.UTTERANCE, {}, {"source": self.peer, "session": session})

    def on_answer_started(self, turn: Message | None) -> None:
        LOG.debug("[%s] answer started", self.peer)

    def on_clause(self, turn: Message | None, text: str) -> None:
        origin = self._origin(turn)
        data = {
            "utterance": text,
            "expect_response": False,
            "lang": origin.data.get("lang") or "en-US",
            "meta": {"skill": "ovos-realtime", "persona": self.agent.persona_of(self.peer)},
        }
        self.agent.send_to(self.peer, origin.reply(topics.SPEAK, data))

    def on_answer_done(self, turn: Message | None, status: str, error: str | None) -> None:
        origin = self._origin(turn)
        if status == "failed":
            LOG.error("[%s] the answer failed: %s", self.peer, error)
            self.agent.send_to(self.peer, origin.reply(topics.INTENT_FAILURE, {"error": error}))
        else:
            LOG.info("[%s] answer %s", self.peer, status)
        self.agent.send_to(self.peer, origin.reply(topics.UTTERANCE_HANDLED, {}))

    def on_speech_started(self, barge_in: bool) -> None:
        origin = self._origin(None)
        if barge_in:  # the satellite may still be playing the interrupted answer
            self.agent.send_to(self.peer, origin.reply(topics.SPEECH_STOP, {}))
        self.agent.send_to(self.peer, origin.reply(topics.RECORD_BEGIN, {}))

    def on_speech_stopped(self) -> None:
        self.agent.send_to(self.peer, self._origin(None).reply(topics.RECORD_END, {}))

    def on_transcript(self, text: str) -> None:
        # What the server heard, for the satellite to show; the server answers it already.
        data = {"utterances": [text], "lang": "en-US"}
        self.agent.send_to(self.peer, self._origin(None).reply(topics.UTTERANCE, data))


@dataclasses.dataclass
class RealtimeAgentProtocol(AgentProtocol):
    bus: Any = dataclasses.field(default_factory=FakeBus)
    config: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _log_to_stderr()
        self.settings = AgentSettings.from_config(self.config)
        self.runner = LoopThread.shared()
        self.links: dict[str, RealtimeLink] = {}
        self._links_lock = threading.Lock()
        self._wire_loop: asyncio.AbstractEventLoop | None = None
        self.callbacks = ClientCallbacks(on_disconnect=self._on_disconnect)
        self.bus.on(topics.UTTERANCE, self._guard(self.handle_utterance))
        self.bus.on(topics.STOP, self._guard(self.handle_stop))
        self.bus.on(topics.SPEECH_STOP, self._guard(self.handle_stop))
        LOG.info("hivemind-realtime agent: answering satellites with %s", self.settings.url)

    @staticmethod
    def _guard(handler: Any) -> Any:
        # A hostile payload must cost a log line, never the hub's network thread.
        def guarded(message: Message) -> None:
            try:
                handler(message)
            except Exception:
                LOG.exception("hivemind-realtime: %s not handled", message.msg_type)

        return guarded

    # ---- satellites → server (hub's network thread) ----

    def handle_utterance(self, message: Message) -> None:
        peer = message.context.get("source")
        client = self.clients.get(peer) if isinstance(peer, str) else None
        if client is None:
            LOG.warning("utterance from %r, which is no connected satellite: dropped", peer)
            return
        self.capture_wire_loop()
        utterances = message.data.get("utterances")
        text = utterances[0] if isinstance(utterances, list) and utterances else None
        if not isinstance(text, str) or not text.strip():
            LOG.warning("[%s] utterance without text (%r): dropped", peer, utterances)
            return
        if len(text) > self.settings.max_utterance_chars:
            LOG.warning("[%s] utterance of %d characters refused", peer, len(text))
            self.send_to(peer, message.reply(topics.INTENT_FAILURE, {"error": "too long"}))
            self.send_to(peer, message.reply(topics.UTTERANCE_HANDLED, {}))
            return
        LOG.info("[%s] utterance: %s", peer, text[:200])
        self.link_for(client).post("ask", (text.strip(), message))

    def handle_stop(self, message: Message) -> None:
        peer = message.context.get("source")
        link = self.links.get(peer) if isinstance(peer, str) else None
        if link is not None:
            LOG.info("[%s] stop", peer)
            link.post("cancel")

    def _on_disconnect(self, client: Any) -> None:
        with self._links_lock:
            link = self.links.pop(client.peer, None)
        if link is not None:
            LOG.info("[%s] satellite gone: closing its session", client.peer)
            link.post("close")

    # ---- shared with the audio protocol ----

    def capture_wire_loop(self) -> None:
        """Remember the network thread's asyncio loop (tornado runs on one): sends to a
        satellite must happen there, not on our loop."""
        if self._wire_loop is None:
            try:
                self._wire_loop = asyncio.get_running_loop()
            except RuntimeError:
                pass

    def link_for(self, client: Any) -> RealtimeLink:
        with self._links_lock:
            link = self.links.get(client.peer)
            if link is None or link.closed:
                persona = self.settings.persona_for(client.name.split("::")[-1])
                link = RealtimeLink(
                    self.settings,
                    persona,
                    client.peer,
                    _PeerListener(self, client.peer),
                    self.runner.loop,
                )
                self.links[client.peer] = link
            return link

    def persona_of(self, peer: str) -> str:
        link = self.links.get(peer)
        return link.persona if link is not None else self.settings.persona

    def send_to(self, peer: str, message: Message) -> None:
        self.send_hive(peer, HiveMessage(HiveMessageType.BUS, payload=message, target_peers=[peer]))

    def send_hive(self, peer: str, message: HiveMessage) -> None:
        loop = self._wire_loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._deliver, peer, message)
        else:
            self._deliver(peer, message)

    def _deliver(self, peer: str, message: HiveMessage) -> None:
        client = self.clients.get(peer)
        if client is None:
            LOG.debug("[%s] gone: %s not delivered", peer, message.msg_type)
            return
        try:
            client.send(message)
        except Exception:
            LOG.exception("[%s] send failed", peer)
