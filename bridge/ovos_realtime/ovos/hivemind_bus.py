"""The OVOS bus reached through a HiveMind hub (hivemind-bus-client), instead of the raw
messagebus: authenticated (access key + password) and encrypted, so it may leave the device.

What differs from the raw bus, and how we make up for it:
- The hub replaces the session of every message with the one of our HiveMind connection, so
  all conversations share that session on the OVOS side. Each message carries its
  conversation's session id in `context[SESSION_KEY]` (ovos-core copies the context into its
  replies), and we put it back into the replies' session before handlers see them.
- The hub drops a message type its ACL does not allow for this client, silently (a log line on
  the hub). A request that gets no answer is reported with `refused()`, which names the ACL
  command that allows it, so the Realtime client gets a clear error instead of a bare timeout.
- Only messages addressed to this client come back (context destination): ovos-core's broadcast
  `mycroft.skills.list` does not, so list the skills in `ovos.skills`.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import Any

from hivemind_bus_client.client import HiveMessageBusClient
from hivemind_bus_client.message import HiveMessage, HiveMessageType
from hivemind_bus_client.protocol import HiveMindSlaveProtocol
from ovos_bus_client.message import Message
from ovos_bus_client.session import Session
from ovos_utils.fakebus import FakeBus

from ovos_realtime.config import HiveMindSettings
from ovos_realtime.ovos.bus import BusBase, valid_message

log = logging.getLogger(__name__)

SESSION_KEY = "ovos_realtime_session"  # context key: the conversation a message belongs to
USERAGENT = "ovos-realtime"
POLL_S = 0.2


class HiveMindBus(BusBase):
    def __init__(self, settings: HiveMindSettings, reconnect_max_s: float = 5.0) -> None:
        scheme = "wss" if settings.ssl else "ws"
        super().__init__(f"{scheme}://{settings.host}:{settings.port}", reconnect_max_s)
        self.settings = settings
        self._client: HiveMessageBusClient | None = None

    # ---- connection (its own thread; hivemind-bus-client reconnects by itself) ----

    def _run(self) -> None:
        settings = self.settings
        try:
            client = HiveMessageBusClient(
                key=settings.access_key.get_secret_value(),
                password=settings.password.get_secret_value(),
                host=self.url.rsplit(":", 1)[0],
                port=settings.port,
                useragent=USERAGENT,
                self_signed=settings.self_signed,
                # Our own session on the hub: a non-admin client may not use "default".
                internal_bus=FakeBus(session=Session(site_id=settings.site_id)),
            )
            client.on(HiveMessageType.BUS, self._on_hive_bus)
            # What HiveMessageBusClient.connect() does, without its wait for the handshake
            # (which retries forever while the hub is away): we poll for it below.
            client.protocol = HiveMindSlaveProtocol(
                client, shared_bus=False, site_id=settings.site_id, identity=client.identity
            )
            client.identity.site_id = settings.site_id
            client.protocol.bind(FakeBus())  # before connecting: the hub's HELLO comes first
            client.run_in_thread()
            self._client = client
        except Exception:
            log.exception("HiveMind hub %s: could not start the client", self.url)
            return
        was_ready = False
        while not self._stopping.wait(POLL_S):
            ready = client.connected_event.is_set() and client.handshake_event.is_set()
            if ready != was_ready:
                if not ready:
                    log.warning("HiveMind hub %s lost; hivemind-bus-client reconnects", self.url)
                self._thread_event("open" if ready else "close")
                was_ready = ready

    async def close(self) -> None:
        self._stopping.set()
        client = self._client
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def _on_hive_bus(self, hive: HiveMessage) -> None:
        message = hive.payload
        if not isinstance(message, Message):
            message = valid_message(message)
        if message is None or not isinstance(message.context, dict):
            log.debug("dropped a malformed message from the hub")
            return
        conversation = message.context.get(SESSION_KEY)
        if isinstance(conversation, str):
            session = message.context.get("session")
            session = copy.deepcopy(session) if isinstance(session, dict) else {}
            session["session_id"] = conversation
            message.context["session"] = session
        self._thread_message(message)

    # ---- API ----

    def emit(self, message: Message) -> bool:
        client = self._client
        if not self.connected or client is None:
            return False
        session = message.context.get("session")
        if isinstance(session, dict) and isinstance(session.get("session_id"), str):
            message.context[SESSION_KEY] = session["session_id"]
        try:
            client.emit(message)
            return True
        except Exception as exc:  # closed meanwhile: hivemind-bus-client reconnects
            log.debug("HiveMind send failed: %r", exc)
            return False

    def refused(self, message: Message) -> str | None:
        return (
            f"the HiveMind hub {self.url} did not answer {message.msg_type!r}: its ACL may not "
            f"allow this message type from this client (on the hub: hivemind-core allow-msg "
            f"{message.msg_type} <node id>)"
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "via": "hivemind", "site_id": self.settings.site_id}
