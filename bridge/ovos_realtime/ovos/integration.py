"""Wires personas and the OVOS bus into the server: `install(state)` at start.

Per Realtime session (`setup_session`): the persona from `?model=`, its brain (its LLM, or the
OVOS pipeline for `ovos` personas), and, when a bus is configured, an OVOS Session (lang and
site_id from `?lang=` / `?site_id=` or the `ovos` settings), the server tools the persona allows
(`ask_ovos`, skill APIs) and the bus-manners observer. Without a bus the bridge runs standalone:
personas work, OVOS tools are simply absent.
"""

import logging
from collections.abc import Mapping
from typing import Any

from ovos_realtime.brain.tools import ServerTool
from ovos_realtime.config import Settings
from ovos_realtime.persona import Persona, PersonaBrains, PersonaRegistry
from ovos_realtime.server.state import BridgeState
from ovos_realtime.session.engine import RealtimeSession

log = logging.getLogger(__name__)

_QUERY_VALUE_MAX = 64


def _query_value(params: Mapping[str, str], key: str, default: str) -> str:
    value = (params.get(key) or "").strip()
    return value[:_QUERY_VALUE_MAX] if value else default


class OvosIntegration:
    def __init__(self, settings: Settings, personas: PersonaRegistry, brains: PersonaBrains):
        self.settings = settings
        self.personas = personas
        self.brains = brains
        self.bus: Any = None
        self.catalog: Any = None
        self.sessions: dict[str, Any] = {}  # Realtime session id → OvosSession
        if settings.ovos.bus_url:
            from ovos_realtime.ovos.bus import OvosBus
            from ovos_realtime.ovos.skill_api import SkillApiCatalog

            self.bus = OvosBus(settings.ovos.bus_url, settings.ovos.reconnect_max_s)
            self.catalog = SkillApiCatalog(self.bus, settings.ovos)
            self.bus.on_any(self._track_sessions)

    async def start(self) -> None:
        if self.bus is not None:
            self.bus.start()
            log.info("OVOS bus: %s", self.settings.ovos.bus_url)
        else:
            log.info("no OVOS bus configured (ovos.bus_url): running standalone")

    async def stop(self) -> None:
        if self.bus is not None:
            await self.bus.close()
        await self.brains.aclose()

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

    # ---- per session ----

    def setup_session(self, session: RealtimeSession, params: Mapping[str, str]) -> None:
        persona = self.personas.resolve(params.get("model"), session.id)
        llm = self.brains.for_persona(persona)
        session.brain = llm
        log.info("[%s] persona %r (%s brain)", session.id, persona.name, persona.brain)
        if self.bus is None:
            if persona.brain == "ovos":
                log.warning(
                    "[%s] persona %r wants the OVOS brain but no bus is configured: "
                    "its LLM answers",
                    session.id,
                    persona.name,
                )
            return
        from ovos_realtime.ovos.brain import OvosBrain
        from ovos_realtime.ovos.observer import OvosObserver
        from ovos_realtime.ovos.session import OvosSession

        ovos = self.settings.ovos
        try:
            ovos_session = OvosSession(
                session.id,
                lang=_query_value(params, "lang", ovos.lang),
                site_id=_query_value(params, "site_id", ovos.site_id),
            )
        except Exception:  # a lang tag OVOS cannot read: the configured one
            log.warning("[%s] bad ?lang= or ?site_id=; using the configured ones", session.id)
            ovos_session = OvosSession(session.id, lang=ovos.lang, site_id=ovos.site_id)
        self.sessions[session.id] = ovos_session
        if persona.brain == "ovos":
            session.brain = OvosBrain(self.bus, ovos_session, llm, ovos.utterance_timeout_s)
        session.server_tools = self._tool_source(persona, ovos_session)

        def forget() -> None:
            self.sessions.pop(session.id, None)
            ovos_session.close()

        session.observers.append(OvosObserver(self.bus, ovos_session, session, on_close=forget))

    def _tool_source(self, persona: Persona, ovos_session: Any) -> Any:
        from ovos_realtime.ovos.ask_ovos import ask_ovos_tool
        from ovos_realtime.ovos.skill_api import skill_tools

        ovos = self.settings.ovos
        ask_tool = ask_ovos_tool(self.bus, ovos_session, ovos.utterance_timeout_s)
        wants_skills = any(t == "skills" or t.startswith("skill:") for t in persona.tools)

        async def source() -> list[ServerTool]:
            tools: list[ServerTool] = []
            if self.bus is None or not self.bus.connected:
                return tools
            if persona.allows("ask_ovos") and persona.brain != "ovos":
                tools.append(ask_tool)
            if wants_skills:
                try:
                    methods = await self.catalog.methods()
                except Exception:  # no skill tools this time; the response goes on
                    log.exception("[%s] skill API discovery failed", ovos_session.id)
                    methods = []
                tools.extend(
                    skill_tools(
                        self.bus, ovos_session, methods, persona.allows_skill, ovos.tool_timeout_s
                    )
                )
            return tools

        return source


def install(state: BridgeState) -> OvosIntegration:
    """Load personas (a bad persona file fails the start, naming file and key) and hook the
    OVOS integration into the server state."""
    personas = PersonaRegistry.load(state.settings)
    brains = PersonaBrains(state.brain, state.settings.llm)
    integration = OvosIntegration(state.settings, personas, brains)
    state.personas = personas
    state.session_setup = integration.setup_session
    state.lifecycle.append(integration)
    state.health_reports["ovos"] = integration.describe
    return integration
