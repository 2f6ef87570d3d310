"""Skill APIs as server tools: which skills run (ask ovos-core, or the `ovos.skills` setting),
what `@skill_api_method`s each offers (`<skill_id>.public_api`), and calling one over the bus in
the session's context. Discovery is cached and refreshed when skills load or the bus reconnects.
"""

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from ovos_bus_client.message import Message

from ovos_realtime.brain.base import ToolSpec
from ovos_realtime.brain.tools import ServerTool
from ovos_realtime.config import OvosSettings
from ovos_realtime.ovos import topics
from ovos_realtime.ovos.bus import BusBase
from ovos_realtime.ovos.schema import summary, tool_parameters
from ovos_realtime.ovos.session import OvosSession

log = logging.getLogger(__name__)

CACHE_S = 60.0  # a found set of skill APIs is good for this long (skill loads refresh it)
EMPTY_CACHE_S = 5.0  # finding none is retried sooner: ovos-core may still be starting
_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class SkillMethod:
    skill_id: str
    method: str
    msg_type: str
    description: str
    parameters: dict[str, Any]


def parse_public_api(skill_id: str, data: Any) -> list[SkillMethod]:
    """The methods in a `public_api` reply; malformed entries are skipped."""
    if not isinstance(data, dict):
        return []
    methods = []
    for name, entry in data.items():
        if not (
            isinstance(name, str)
            and _NAME.sub("", name) == name
            and isinstance(entry, dict)
            and isinstance(entry.get("type"), str)
            and entry["type"]
        ):
            log.warning("skill %s: ignored a malformed public_api entry %r", skill_id, name)
            continue
        help_text = entry.get("help") if isinstance(entry.get("help"), str) else ""
        methods.append(
            SkillMethod(
                skill_id=skill_id,
                method=name,
                msg_type=entry["type"],
                description=summary(help_text),
                parameters=tool_parameters(entry),
            )
        )
    return methods


class SkillApiCatalog:
    """Which skill API methods are on offer right now, shared by all sessions."""

    def __init__(self, bus: BusBase, settings: OvosSettings) -> None:
        self.bus = bus
        self.settings = settings
        self._methods: list[SkillMethod] = []
        self._expires = 0.0
        self._refreshing: asyncio.Task | None = None
        for topic in (topics.SKILL_LOADED, topics.SKILLS_INITIALIZED, topics.SKILL_SHUTDOWN):
            bus.on(topic, lambda _message: self.invalidate())
        bus.on_connect(self.prefetch)

    def invalidate(self) -> None:
        self._expires = 0.0

    def prefetch(self) -> None:
        self.invalidate()
        self._start_refresh()

    def _start_refresh(self) -> asyncio.Task:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh())
        return self._refreshing

    async def methods(self) -> list[SkillMethod]:
        if not self.bus.connected:
            return []
        if time.monotonic() >= self._expires:
            await asyncio.shield(self._start_refresh())
        return self._methods

    async def _refresh(self) -> None:
        skill_ids = self.settings.skills
        if skill_ids is None:
            skill_ids = await self._list_skills()
        replies = await asyncio.gather(
            *(
                self.bus.request(
                    Message(topics.public_api(skill_id), {}, {"source": "ovos-realtime"}),
                    self.settings.discovery_timeout_s,
                )
                for skill_id in skill_ids
            )
        )
        methods: list[SkillMethod] = []
        for skill_id, reply in zip(skill_ids, replies, strict=True):
            if reply is not None:
                methods.extend(parse_public_api(skill_id, reply.data))
        methods.sort(key=lambda m: (m.skill_id, m.method))  # stable tool order for the LLM
        self._methods = methods
        self._expires = time.monotonic() + (CACHE_S if methods else EMPTY_CACHE_S)
        log.info(
            "skill APIs: %s",
            ", ".join(f"{m.skill_id}.{m.method}" for m in methods) or "none found",
        )

    async def _list_skills(self) -> list[str]:
        # ovos-core answers with a fresh `mycroft.skills.list` message (not a .response).
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()

        def on_list(message: Message) -> None:
            if not future.done():
                future.set_result([k for k in message.data if isinstance(k, str)])

        unsubscribe = self.bus.on(topics.SKILL_LIST, on_list)
        try:
            if not self.bus.emit(
                Message(topics.SKILL_LIST_REQUEST, {}, {"source": "ovos-realtime"})
            ):
                return []
            return await asyncio.wait_for(future, self.settings.discovery_timeout_s)
        except TimeoutError:
            log.warning("ovos-core did not list its skills (is it running?)")
            return []
        finally:
            unsubscribe()


def _tool_names(methods: list[SkillMethod]) -> list[tuple[SkillMethod, str]]:
    """Method names as tool names; where two skills share one, the skill id tells them apart."""
    counts: dict[str, int] = {}
    for method in methods:
        counts[method.method] = counts.get(method.method, 0) + 1
    named = []
    for method in methods:
        name = method.method
        if counts[name] > 1:
            name = f"{_NAME.sub('_', method.skill_id)}_{name}"
        named.append((method, name[:64]))
    return named


async def call_skill_method(
    bus: BusBase,
    session: OvosSession,
    method: SkillMethod,
    arguments: dict[str, Any],
    timeout: float,
) -> str:
    """Run one skill API method in the session's context; its result as text."""
    known = method.parameters.get("properties") or {}
    kwargs = {k: v for k, v in arguments.items() if not known or k in known}
    message = session.message(method.msg_type, {"args": [], "kwargs": kwargs})
    if not bus.connected:
        raise RuntimeError("the OVOS bus is not connected")
    reply = await bus.request(message, timeout)
    if reply is None:
        refused = bus.refused(message)  # over HiveMind: name the hub's ACL, not just a timeout
        raise RuntimeError(refused) if refused else TimeoutError()
    if "result" not in reply.data:
        raise RuntimeError(f"{method.skill_id} sent a reply without a result")
    result = reply.data["result"]
    log.info("[%s] skill API %s.%s answered", session.id, method.skill_id, method.method)
    return result if isinstance(result, str) else json.dumps(result, default=str)


def skill_tools(
    bus: BusBase,
    session: OvosSession,
    methods: list[SkillMethod],
    allows_skill: Any,
    timeout: float,
) -> list[ServerTool]:
    """ServerTools for the methods of the skills a persona may use, bound to one session."""
    methods = [m for m in methods if allows_skill(m.skill_id)]
    tools = []
    for method, name in _tool_names(methods):

        async def run(arguments: dict[str, Any], method: SkillMethod = method) -> str:
            return await call_skill_method(bus, session, method, arguments, timeout)

        description = method.description or f"The {method.method} API of an OVOS skill."
        tools.append(
            ServerTool(
                spec=ToolSpec(
                    name=name,
                    description=f"{description} (OVOS skill {method.skill_id})",
                    parameters=method.parameters,
                ),
                run=run,
                server_label="ovos",
                timeout_s=timeout + 1,
            )
        )
    return tools
