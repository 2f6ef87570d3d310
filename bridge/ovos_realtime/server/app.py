"""The Starlette application: routes, lifespan and the API-key gate for REST."""

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ovos_realtime.server import rest, rest_audio
from ovos_realtime.server.auth import bearer_token, key_matches
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.server.realtime_ws import realtime_endpoint

OPEN_PATHS = {"/health"}


class ApiKeyMiddleware:
    """REST requests need `Authorization: Bearer <key>` when a key is configured. (The WebSocket
    endpoint checks its own handshake: it also accepts the browser subprotocol form.)"""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] not in OPEN_PATHS
            and not key_matches(self.api_key, bearer_token(Headers(scope=scope)))
        ):
            response = rest.openai_error(401, "Incorrect or missing API key.", "invalid_api_key")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(deps: ServerDeps) -> Starlette:
    routes = [
        Route("/health", rest.health),
        Route("/v1/models", rest.list_models),
        Route("/v1/models/{model_id:path}", rest.get_model),
        Route("/v1/audio/speech", rest_audio.speech, methods=["POST"]),
        Route("/v1/audio/transcriptions", rest_audio.transcriptions, methods=["POST"]),
        Route("/v1/audio/voices", rest_audio.voices),
        Route("/v1/tts/voices", rest_audio.voices),
        WebSocketRoute("/v1/realtime", realtime_endpoint),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await deps.assistant.start()  # e.g. the OVOS bus connection
        wyoming = None
        if deps.settings.wyoming.enabled:  # the Wyoming door, on the same engines and loop
            from ovos_realtime.server.wyoming.service import WyomingDoor

            wyoming = WyomingDoor(deps.assistant, deps.settings)
            await wyoming.start()
        yield
        if wyoming is not None:
            await wyoming.stop()
        await deps.assistant.stop()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(ApiKeyMiddleware, api_key=deps.settings.server.api_key)],
        lifespan=lifespan,
    )
    app.state.deps = deps
    return app
