"""The Starlette application: routes, lifespan and the API-key gate for REST."""

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ovos_realtime.config import ServerSettings
from ovos_realtime.server import rest, rest_audio, rest_secrets
from ovos_realtime.server.auth import AuthRefused, authorize, bearer_token, origin_allowed
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.server.home import PUBLIC_PATHS, home_routes
from ovos_realtime.server.realtime_ws import realtime_endpoint
from ovos_realtime.server.webrtc import endpoints as webrtc

LOG = logging.getLogger(__name__)

OPEN_PATHS = {"/health", *PUBLIC_PATHS}  # the home page is public, its /status is not


def _ephemeral_ok(path: str) -> bool:
    """Client secrets open Realtime sessions (the WebRTC door's POSTs), nothing else."""
    return path == "/v1/realtime" or path.startswith("/v1/realtime/calls")


class ApiKeyMiddleware:
    """REST requests need `Authorization: Bearer <key>` when a key is configured (a client
    secret on the WebRTC door's POSTs). Without a key, browser requests from foreign origins are
    refused (403; a WebSocket handshake too). The WebSocket endpoint checks its own key: it
    also accepts the browser subprotocol form."""

    def __init__(self, app: ASGIApp, deps: ServerDeps) -> None:
        self.app = app
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        settings, headers = self.deps.settings.server, Headers(scope=scope)
        if settings.api_key is None and not origin_allowed(headers, settings.allowed_origins):
            LOG.warning(
                "refused %s %s from origin %r", scope["type"], scope["path"], headers.get("origin")
            )
            if scope["type"] == "websocket":  # closed before accept: the handshake gets 403
                await send({"type": "websocket.close", "code": 1008})
                return
            message = "This origin may not use the server; add it to server.allowed_origins."
            await rest.openai_error(403, message, "origin_not_allowed")(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            try:
                secret = authorize(
                    settings.api_key,
                    self.deps.client_secrets,
                    bearer_token(headers),
                    ephemeral_ok=_ephemeral_ok(scope["path"]),
                )
            except AuthRefused as refused:
                await rest.openai_error(401, refused.message, refused.code)(scope, receive, send)
                return
            scope.setdefault("state", {})["client_secret"] = secret
        await self.app(scope, receive, send)


def _cors(settings: ServerSettings) -> Middleware:
    """Lets browser pages of other origins call REST and the WebRTC door (fetch needs CORS):
    with an API key any page that holds a key or client secret, without one only
    `server.allowed_origins`. Outermost, so that preflights are answered before the key check."""
    origins = ["*"] if settings.api_key is not None else settings.allowed_origins
    return Middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "OpenAI-Beta"],
        expose_headers=["Location"],
    )


def create_app(deps: ServerDeps) -> Starlette:
    routes = [
        *home_routes(),  # /, /status and the static files of the page
        Route("/health", rest.health),
        Route("/v1/models", rest.list_models),
        Route("/v1/models/{model_id:path}", rest.get_model),
        Route("/v1/audio/speech", rest_audio.speech, methods=["POST"]),
        Route("/v1/audio/transcriptions", rest_audio.transcriptions, methods=["POST"]),
        Route("/v1/audio/voices", rest_audio.voices),
        Route("/v1/tts/voices", rest_audio.voices),
        WebSocketRoute("/v1/realtime", realtime_endpoint),
        Route("/v1/realtime/client_secrets", rest_secrets.create_client_secret, methods=["POST"]),
        Route("/v1/realtime/sessions", rest_secrets.create_beta_session, methods=["POST"]),
        Route(
            "/v1/realtime/transcription_sessions",
            rest_secrets.create_beta_transcription_session,
            methods=["POST"],
        ),
        Route("/v1/realtime", webrtc.create_call, methods=["POST"]),  # beta: an SDP body
        Route("/v1/realtime/calls", webrtc.create_call, methods=["POST"]),
        Route("/v1/realtime/calls/{call_id}/hangup", webrtc.hangup, methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await deps.assistant.start()  # e.g. the OVOS bus connection
        webrtc.startup(deps)
        wyoming = None
        if deps.settings.wyoming.enabled:  # the Wyoming door, on the same engines and loop
            from ovos_realtime.server.wyoming.service import WyomingDoor

            wyoming = WyomingDoor(deps.assistant, deps.settings)
            await wyoming.start()
        yield
        await webrtc.shutdown(deps)  # ends the calls in progress
        if wyoming is not None:
            await wyoming.stop()
        await deps.assistant.stop()

    app = Starlette(
        routes=routes,
        middleware=[_cors(deps.settings.server), Middleware(ApiKeyMiddleware, deps=deps)],
        lifespan=lifespan,
    )
    app.state.deps = deps
    return app
