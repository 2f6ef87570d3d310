"""Who may use the server: the API key (or a client secret minted with it) and, without a key,
the page's Origin. Shared by the WebSocket, WebRTC and REST doors."""

import hmac
from urllib.parse import urlsplit

from starlette.datastructures import Headers

from ovos_realtime.server.client_secrets import PREFIX, ClientSecret, ClientSecrets, SecretRefused

BROWSER_KEY_PREFIX = "openai-insecure-api-key."


class AuthRefused(Exception):
    def __init__(self, message: str, code: str = "invalid_api_key") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def bearer_token(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def subprotocol_token(subprotocols: list[str]) -> str | None:
    """Browsers cannot set headers on a WebSocket, so OpenAI takes the key as a subprotocol."""
    for proto in subprotocols:
        if proto.startswith(BROWSER_KEY_PREFIX):
            return proto[len(BROWSER_KEY_PREFIX) :]
    return None


def key_matches(expected: str | None, offered: str | None) -> bool:
    if expected is None:
        return True
    return offered is not None and hmac.compare_digest(expected.encode(), offered.encode())


def authorize(
    api_key: str | None,
    client_secrets: ClientSecrets,
    offered: str | None,
    *,
    ephemeral_ok: bool,
) -> ClientSecret | None:
    """The client secret the caller presented (None: the API key, or no key needed), or
    AuthRefused. An `ek_` token is checked even without a server key: a stale one should fail
    loudly rather than start a session without the config it was minted with."""
    if offered is not None and offered.startswith(PREFIX):
        if not ephemeral_ok:
            raise AuthRefused(
                "A client secret (ek_…) only opens Realtime sessions (WebSocket or WebRTC); "
                "use the server's API key here."
            )
        try:
            return client_secrets.check(offered)
        except SecretRefused as exc:
            raise AuthRefused(str(exc)) from None
    if not key_matches(api_key, offered):
        raise AuthRefused("Incorrect or missing API key.")
    return None


def origin_allowed(headers: Headers, allowed: list[str]) -> bool:
    """No Origin (a non-browser client), the server's own, or one configured as allowed."""
    origin = headers.get("origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    allowed_set = {entry.strip().rstrip("/").lower() for entry in allowed}
    if "*" in allowed_set or origin in allowed_set:
        return True
    host = (headers.get("host") or "").lower()
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host
