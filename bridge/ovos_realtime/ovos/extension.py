"""The OVOS extension: the messagebus as tools, a brain and an observer of each conversation.

Per conversation (`session_parts`), when a bus is configured: an OVOS Session (lang and site_id
from the door's `lang` / `site_id` hints, else the `ovos` settings), the server tools the
persona allows (`ask_ovos`, skill APIs), the OVOS pipeline as the brain of `ovos` personas, and
the bus-manners observer. Without a bus it adds nothing: personas work, OVOS tools are absent.
"""

import logging
from collections.abc import Mapping
from typing import Any

from ovos_realtime.brain.tools import ServerTool, ServerToolSource
from ovos_realtime.config import Settings
from ovos_realtime.core.extensions import ConversationInfo, SessionParts
from ovos_realtime.core.personas import Persona

log = logging.getLogger(__name__)

_QUERY_VALUE_MAX = 64


def _hint(params: Mapping[str, str], key: str, default: str) -> str:
    value = (params.get(key) or "").strip()
    return value[:_QUERY_VALUE_MAX] if value else default


class OvosExtension:
    name = "ovos"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bus: Any = None
        self.catalog: Any = None
        self.sessions: dict[str, Any] = {}  # conversation id → OvosSession
        if settings.ovos.bus_url or settings.ovos.hivemind:
            from ovos_realtime.ovos.skill_api import SkillApiCatalog

            if settings.ovos.hivemind:
                from ovos_realtime.ovos.hivemind_bus import HiveMindBus

                self.bus = HiveMindBus(settings.ovos.hivemind, settings.ovos.reconnect_max_s)
            else:
                from ovos_realtime.ovos.bus import OvosBus

                self.bus = OvosBus(settings.ovos.bus_url, settings.ovos.reconnect_max_s)
            self.catalog = SkillApiCatalog(self.bus, settings.ovos)
            self.bus.on_any(self._track_sessions)

    async def start(self) -> None:
        if self.bus is not None:
            self.bus.start()
            log.info("OVOS bus: %s", self.bus.url)
        else:
            log.info("no OVOS bus configured (ovos.bus_url / ovos.hivemind): running standalone")

    async def stop(self) -> None:
        if self.bus is not None:
            await self.bus.close()

    def describe(self) -> dict[str, Any]:
        if self.bus is None:
            return {"bus_url": None, "connected": False}
        return {**self.bus.describe(), "sessions": len(self.sessions)}

    def _track_sessions(self, message: Any) -> None:
        # ovos-core sends our session's new state back in replies: keep it (see ovos/session.py).
        from ovos_realtime.ovos.session import session_id_of

        ovos_session = self.sessions.get(session_id_of(message) or "")
        if ovos_session is not None:
            ovos_session.update_from(message)

    # ---- per conversation ----

    def session_parts(self, info: ConversationInfo) -> SessionParts:
        persona, conversation_id = info.persona, info.conversation_id
        if self.bus is None:
            if persona.brain == "ovos":
                log.warning(
                    "[%s] persona %r wants the OVOS brain but no bus is configured: "
                    "its LLM answers",
                    conversation_id,
                    persona.name,
                )
            return SessionParts()
        from ovos_realtime.ovos.brain import OvosBrain
        from ovos_realtime.ovos.observer import OvosObserver
        from ovos_realtime.ovos.session import OvosSession

        ovos = self.settings.ovos
        try:
            ovos_session = OvosSession(
                conversation_id,
                lang=_hint(info.params, "lang", ovos.lang),
                site_id=_hint(info.params, "site_id", ovos.site_id),
            )
        except Exception:  # a lang tag OVOS cannot read: the configured one
            log.warning("[%s] bad lang or site_id; using the configured ones", conversation_id)
            ovos_session = OvosSession(conversation_id, lang=ovos.lang, site_id=ovos.site_id)
        self.sessions[conversation_id] = ovos_session

        def forget() -> None:
            self.sessions.pop(conversation_id, None)
            ovos_session.close()

        brain = None
        if persona.brain == "ovos":
            brain = OvosBrain(self.bus, ovos_session, info.brain, ovos.utterance_timeout_s)
        return SessionParts(
            brain=brain,
            tools=self._tool_source(persona, ovos_session),
            observers=[OvosObserver(self.bus, ovos_session, on_close=forget)],
        )

    def _tool_source(self, persona: Persona, ovos_session: Any) -> ServerToolSource:
        from ovos_realtime.ovos.ask_ovos import ask_ovos_tool
        from ovos_realtime.ovos.skill_api import skill_tools

        ovos = self.settings.ovos
        ask_tool = ask_ovos_tool(self.bus, ovos_session, ovos.utterance_timeout_s)
        wants_skills = any(t == "skills" or t.startswith("skill:") for t in persona.tools)

        async def source() -> list[ServerTool]:
            tools: list[ServerTool] = []
            if not self.bus.connected:
                return tools
            if persona.allows("ask_ovos") and persona.brain != "ovos":
                tools.append(ask_tool)
            if wants_skills:
                try:
                    methods = await self.catalog.methods()
                except Exception:  # no skill tools this time; the answer goes on
                    log.exception("[%s] skill API discovery failed", ovos_session.id)
                    methods = []
                tools.extend(
                    skill_tools(
                        self.bus, ovos_session, methods, persona.allows_skill, ovos.tool_timeout_s
                    )
                )
            return tools

        return source
