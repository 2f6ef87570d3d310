"""Server-side tools: tools the server runs itself (OVOS skill APIs, ask_ovos, …).

Clients see a server tool call as an `mcp_call` item (OpenAI's item for tools run by the server),
and the response goes on with the tool's output in the LLM's context. Client-declared tools
keep the usual `function_call` round trip. When a client tool and a server tool share a name,
the client's wins: what the client declared explicitly is what it expects to be called.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ovos_realtime.brain.base import ToolSpec

# How many server-tool rounds one response may take before it must answer.
MAX_SERVER_TOOL_ROUNDS = 3


@dataclass(frozen=True)
class ServerTool:
    spec: ToolSpec
    run: Callable[[dict[str, Any]], Awaitable[str]]  # parsed arguments -> output text
    server_label: str = "ovos"
    timeout_s: float = 10.0


# Gives the server tools on offer to one session right now (they may change as skills load).
ServerToolSource = Callable[[], Awaitable[list[ServerTool]]]


def visible_server_tools(
    server_tools: list[ServerTool], client_tools: list[ToolSpec]
) -> dict[str, ServerTool]:
    client_names = {tool.name for tool in client_tools}
    return {tool.spec.name: tool for tool in server_tools if tool.spec.name not in client_names}
