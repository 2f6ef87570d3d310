"""REST endpoints: /health and /v1/models (audio endpoints join them with the voice loop)."""

import time

from starlette.requests import Request
from starlette.responses import JSONResponse

from ovos_realtime.server.auth import bearer_token, key_matches
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.version import __version__

_STARTED = int(time.time())


def openai_error(status: int, message: str, code: str, param: str | None = None) -> JSONResponse:
    """An error body shaped like OpenAI's, so SDKs raise their usual exception types."""
    return JSONResponse(
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "code": code,
                "param": param,
            }
        },
        status_code=status,
    )


async def health(request: Request) -> JSONResponse:
    """Open to probes; what runs (engines, the LLM's URL, the bus) only with the key when one
    is set, as /status."""
    assistant = (deps := _deps(request)).assistant
    body = {
        "status": "ok",
        "version": __version__,
        "sessions": len(deps.sessions),
        "calls": len(deps.calls),  # WebRTC calls (each has one of the sessions)
    }
    if not key_matches(deps.settings.server.api_key, bearer_token(request.headers)):
        return JSONResponse(body)
    voice = assistant.voice
    body["engines"] = {
        "llm": assistant.brains.default.describe(),
        **(voice.engines.describe() if voice else {"stt": None, "tts": None, "vad": None}),
    }
    # e.g. "ovos": the bus connection state
    body.update({extension.name: extension.describe() for extension in assistant.extensions})
    return JSONResponse(body)


def _deps(request: Request) -> ServerDeps:
    return request.app.state.deps


def _model_entry(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": _STARTED, "owned_by": "ovos-realtime"}


def _model_ids(deps: ServerDeps) -> list[str]:
    """The session model name (the default persona), then every persona by name."""
    ids = [deps.settings.session.model]
    return ids + [name for name in deps.assistant.personas.names() if name not in ids]


async def list_models(request: Request) -> JSONResponse:
    return JSONResponse(
        {"object": "list", "data": [_model_entry(model) for model in _model_ids(_deps(request))]}
    )


async def get_model(request: Request) -> JSONResponse:
    model_id = request.path_params["model_id"]
    if model_id not in _model_ids(_deps(request)):
        return openai_error(
            404, f"The model '{model_id}' does not exist.", "model_not_found", "model"
        )
    return JSONResponse(_model_entry(model_id))
