"""API-key checks shared by the WebSocket and REST endpoints."""

import hmac

from starlette.datastructures import Headers

BROWSER_KEY_PREFIX = "openai-insecure-api-key."


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
