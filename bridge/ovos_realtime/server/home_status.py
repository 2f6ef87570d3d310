"""`/status`: what runs (version, brain, engines) and where each door is, as the client reaches it.

Door URLs are built from the URL the client used (the Host header), not from the bind address:
a server bound to 0.0.0.0 is reached at the address the browser typed.
"""

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from ovos_realtime.brain.notice import summary
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.version import __version__


def _rest_endpoints(app: Starlette) -> list[dict[str, Any]]:
    """Every /v1 HTTP route the app serves, so routes added later show up by themselves."""
    return [
        {"path": route.path, "methods": sorted((route.methods or set()) - {"HEAD"})}
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/v1/")
    ]


def _doors(app: Starlette, deps: ServerDeps, base_url: str) -> list[dict[str, Any]]:
    http_base = base_url.rstrip("/")
    ws_base = "ws" + http_base.removeprefix("http")  # http→ws, https→wss
    keyed = "API key" if deps.settings.server.api_key else "none"
    doors = [
        {
            "name": "Realtime WebSocket",
            "url": f"{ws_base}{path}",
            "auth": keyed,
            "docs": "The doors",
        }
        for path in (r.path for r in app.routes if isinstance(r, WebSocketRoute))
    ]
    if deps.assistant.voice is not None:  # calls need the speech engines
        doors.append(
            {
                "name": "WebRTC calls",
                "url": f"{http_base}/v1/realtime/calls",
                "auth": "API key or client secret" if deps.settings.server.api_key else "none",
                "docs": "The doors",
            }
        )
    doors.append(
        {
            "name": "REST",
            "url": f"{http_base}/v1",
            "auth": keyed,
            "docs": "The doors",
            "endpoints": _rest_endpoints(app),
        }
    )
    wyoming = deps.settings.wyoming
    if wyoming.enabled:
        doors.append(
            {
                "name": "Wyoming",
                "url": wyoming.uri,
                "auth": "none: the Wyoming protocol has no authentication",
                "docs": "Home Assistant (Wyoming)",
            }
        )
    return doors


def status(app: Starlette, base_url: str) -> dict[str, Any]:
    deps: ServerDeps = app.state.deps
    assistant = deps.assistant
    brain = assistant.brains.default.describe()
    voice = assistant.voice
    return {
        "version": __version__,
        "brain": {**brain, **summary(brain)},
        "engines": voice.engines.describe() if voice else None,
        "doors": _doors(app, deps, base_url),
        "personas": {
            "default": deps.settings.personas.default,
            "names": assistant.personas.names(),
        },
        "sessions": len(deps.sessions),
        # e.g. "ovos": the bus connection state
        "extensions": {ext.name: ext.describe() for ext in assistant.extensions},
        "api_key_required": deps.settings.server.api_key is not None,
    }
