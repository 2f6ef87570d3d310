"""The built-in `ask_ovos` server tool: the LLM hands an utterance to the OVOS intent pipeline,
in the session's context, and gets back what the skills said."""

from typing import Any

from ovos_realtime.brain.base import ToolSpec
from ovos_realtime.brain.tools import ServerTool
from ovos_realtime.ovos.brain import ASK_OVOS
from ovos_realtime.ovos.bus import BusBase
from ovos_realtime.ovos.session import OvosSession
from ovos_realtime.ovos.utterance import ask

SPEC = ToolSpec(
    name=ASK_OVOS,
    description=(
        "Ask the device's OVOS voice assistant. The utterance goes through its skills "
        "(timers, time and date, smart home, media, and more) as if the user had said it; "
        "returns what the skills answered. Use it for anything a voice assistant skill can do."
    ),
    parameters={
        "type": "object",
        "properties": {
            "utterance": {
                "type": "string",
                "description": "What to ask, as the user would say it, e.g. 'what time is it'",
            }
        },
        "required": ["utterance"],
    },
)


def ask_ovos_tool(bus: BusBase, session: OvosSession, timeout: float) -> ServerTool:
    async def run(arguments: dict[str, Any]) -> str:
        utterance = arguments.get("utterance")
        if not isinstance(utterance, str) or not utterance.strip():
            raise ValueError("utterance must be a non-empty string")
        if not bus.connected:
            raise RuntimeError("the OVOS bus is not connected")
        text, reason = await ask(bus, session, utterance.strip(), timeout)
        if text:
            return text
        if reason == "no_skill":
            return "No OVOS skill could handle that."
        if reason == "timeout":
            raise TimeoutError()
        if reason == "no_bus":
            raise RuntimeError("the OVOS bus is not connected")
        return "The OVOS skills did not say anything."

    return ServerTool(spec=SPEC, run=run, server_label="ovos", timeout_s=timeout + 1)
