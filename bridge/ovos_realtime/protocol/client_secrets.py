"""Requests that mint client secrets (GA `client_secrets`, beta `sessions` and
`transcription_sessions`), parsed with the SDK's types into one GA session update and a lifetime.

Validation errors come out as ProtocolError naming the param, like client events."""

from dataclasses import dataclass
from typing import Any

from openai.types.beta.realtime.session_create_params import (
    SessionCreateParams as BetaSessionParams,
)
from openai.types.beta.realtime.transcription_session_create_params import (
    TranscriptionSessionCreateParams as BetaTranscriptionParams,
)
from openai.types.realtime.realtime_session_create_request import RealtimeSessionCreateRequest
from openai.types.realtime.realtime_transcription_session_create_request import (
    RealtimeTranscriptionSessionCreateRequest,
)
from pydantic import TypeAdapter, ValidationError

from ovos_realtime.protocol.codec import first_error
from ovos_realtime.protocol.dialect import session_update_from_beta, transcription_update_from_beta
from ovos_realtime.protocol.errors import ProtocolError

DEFAULT_SECONDS = 600
MIN_SECONDS, MAX_SECONDS = 10, 7200

_GA_SESSIONS = {
    "realtime": TypeAdapter(RealtimeSessionCreateRequest),
    "transcription": TypeAdapter(RealtimeTranscriptionSessionCreateRequest),
}
_BETA_SESSION = TypeAdapter(BetaSessionParams)
_BETA_TRANSCRIPTION = TypeAdapter(BetaTranscriptionParams)


@dataclass(frozen=True)
class SecretRequest:
    session: dict[str, Any]  # a GA session update, `type` "realtime" or "transcription"
    seconds: int


def _object(value: Any, param: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(f"Invalid type for '{param}': expected an object.", param=param)
    return value


def _validate(adapter: TypeAdapter, value: dict[str, Any], prefix: str) -> None:
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        param, code, message = first_error(exc)
        full = f"{prefix}.{param}" if prefix and param else prefix or param
        raise ProtocolError(
            message.replace(f"'{param}'", f"'{full}'"), code=code, param=full
        ) from None


def _seconds(expiry: Any, param: str) -> int:
    expiry = _object(expiry, param)
    anchor = expiry.get("anchor", "created_at")
    if anchor != "created_at":
        raise ProtocolError(
            f"Invalid value for '{param}.anchor': only 'created_at' is supported.",
            param=f"{param}.anchor",
        )
    seconds = expiry.get("seconds", DEFAULT_SECONDS)
    if (
        not isinstance(seconds, int)
        or isinstance(seconds, bool)
        or not MIN_SECONDS <= seconds <= MAX_SECONDS
    ):
        raise ProtocolError(
            f"Invalid value for '{param}.seconds': an integer from {MIN_SECONDS} to "
            f"{MAX_SECONDS} is expected.",
            param=f"{param}.seconds",
        )
    return seconds


def parse_client_secret(body: Any) -> SecretRequest:
    """GA `POST /v1/realtime/client_secrets`: `{expires_after, session}`."""
    body = _object(body, "body")
    session = dict(_object(body.get("session"), "session"))
    session.setdefault("type", "realtime")
    adapter = _GA_SESSIONS.get(session["type"]) if isinstance(session["type"], str) else None
    if adapter is None:
        raise ProtocolError(
            "Invalid value for 'session.type': 'realtime' or 'transcription' is expected.",
            param="session.type",
        )
    _validate(adapter, session, "session")
    return SecretRequest(session, _seconds(body.get("expires_after"), "expires_after"))


def parse_beta_session(body: Any) -> SecretRequest:
    """Beta `POST /v1/realtime/sessions`: a flat session with `client_secret.expires_after`."""
    body = _object(body, "body")
    _validate(_BETA_SESSION, body, "")
    secret = _object(body.get("client_secret"), "client_secret")
    session = {"type": "realtime", **session_update_from_beta(body)}
    if body.get("model") is not None:
        session["model"] = body["model"]
    return SecretRequest(
        session, _seconds(secret.get("expires_after"), "client_secret.expires_after")
    )


def parse_beta_transcription_session(body: Any) -> SecretRequest:
    """Beta `POST /v1/realtime/transcription_sessions`: `client_secret.expires_at` here."""
    body = _object(body, "body")
    _validate(_BETA_TRANSCRIPTION, body, "")
    secret = _object(body.get("client_secret"), "client_secret")
    return SecretRequest(
        transcription_update_from_beta(body),
        _seconds(secret.get("expires_at"), "client_secret.expires_at"),
    )


def parse_call_session(session: Any) -> dict[str, Any]:
    """The `session` part of a WebRTC call's multipart offer: a GA realtime session."""
    session = dict(_object(session, "session"))
    session.setdefault("type", "realtime")
    if session["type"] != "realtime":
        raise ProtocolError(
            "Invalid value for 'session.type': a call takes a 'realtime' session.",
            param="session.type",
        )
    _validate(_GA_SESSIONS["realtime"], session, "session")
    return session
