"""Minting client secrets: GA `POST /v1/realtime/client_secrets`, beta `POST
/v1/realtime/sessions` and `POST /v1/realtime/transcription_sessions`.

Minting needs the server's API key (ApiKeyMiddleware refuses an `ek_` token here); the answer
carries the session the secret will open, as a session would report it."""

import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ovos_realtime.ids import new_id
from ovos_realtime.protocol.client_secrets import (
    SecretRequest,
    parse_beta_session,
    parse_beta_transcription_session,
    parse_client_secret,
)
from ovos_realtime.protocol.dialect import session_to_beta, transcription_session_to_beta
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.server.client_secrets import ClientSecret
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.server.rest import openai_error
from ovos_realtime.session.settings import (
    SessionDefaults,
    default_session,
    public_session,
    update_session,
)

LOG = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ProtocolError(f"The body is over {MAX_BODY_BYTES} bytes.", code="body_too_large")
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ProtocolError(f"The body is not valid JSON: {exc}", code="invalid_json") from None


def _effective_session(deps: ServerDeps, minted: dict[str, Any]) -> dict[str, Any]:
    """The config a session opened with this secret starts with (its id is the secret's own:
    each session gets a fresh one)."""
    assistant, settings = deps.assistant, deps.settings
    model = minted.get("model")
    persona = assistant.personas.resolve(model)
    defaults = SessionDefaults.for_persona(
        persona, persona.instructions or assistant.instructions, settings, model
    )
    voice = assistant.voice
    session = default_session(new_id("sess"), defaults, voice=voice is not None)
    if voice is not None:
        session["audio"]["input"]["transcription"] = {"model": voice.stt_model}
    elif minted.get("type") == "transcription":
        raise ProtocolError(
            "A transcription session needs audio engines, and this server runs without them.",
            code="audio_unavailable",
            param="session.type",
        )
    update = {k: v for k, v in minted.items() if k != "model"}
    return public_session(update_session(session, update, voice.stt_model if voice else None))


Render = Callable[[ClientSecret, dict[str, Any]], dict[str, Any]]


async def _mint(
    request: Request, parse: Callable[[Any], SecretRequest], render: Render
) -> JSONResponse:
    deps: ServerDeps = request.app.state.deps
    try:
        parsed = parse(await _body(request))
        session = _effective_session(deps, parsed.session)
    except ProtocolError as error:
        LOG.info("client secret refused: %s", error.message)
        return openai_error(400, error.message, error.code, error.param)
    return JSONResponse(render(deps.client_secrets.mint(parsed.session, parsed.seconds), session))


def _ga(secret: ClientSecret, session: dict[str, Any]) -> dict[str, Any]:
    return {"value": secret.value, "expires_at": secret.expires_at, "session": session}


def _beta(to_beta: Callable[[dict[str, Any]], dict[str, Any]]) -> Render:
    """Beta puts the secret inside the (beta-shaped) session."""

    def render(secret: ClientSecret, session: dict[str, Any]) -> dict[str, Any]:
        body = to_beta(session)
        body["client_secret"] = {"value": secret.value, "expires_at": secret.expires_at}
        return body

    return render


async def create_client_secret(request: Request) -> JSONResponse:
    return await _mint(request, parse_client_secret, _ga)


async def create_beta_session(request: Request) -> JSONResponse:
    return await _mint(request, parse_beta_session, _beta(session_to_beta))


async def create_beta_transcription_session(request: Request) -> JSONResponse:
    return await _mint(
        request, parse_beta_transcription_session, _beta(transcription_session_to_beta)
    )
