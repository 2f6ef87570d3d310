"""Ephemeral client secrets (`ek_…`): minted with the server's API key, good on the Realtime
doors (WebSocket, WebRTC) until they expire, each carrying the session config it was minted with.

They live in memory only: a restart forgets them, as it forgets sessions."""

import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOG = logging.getLogger(__name__)

PREFIX = "ek_"
MAX_SECRETS = 4096  # past it the oldest go first: a flood of mints cannot grow without bound


@dataclass(frozen=True)
class ClientSecret:
    value: str
    expires_at: int  # seconds since the epoch
    session: dict[str, Any]  # a GA session update: what a session opened with it starts with


class SecretRefused(Exception):
    """An `ek_` token that is unknown (forged, or minted before a restart) or expired."""


class ClientSecrets:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._secrets: OrderedDict[str, ClientSecret] = OrderedDict()

    def mint(self, session: dict[str, Any], seconds: int) -> ClientSecret:
        self._prune()
        secret = ClientSecret(
            value=PREFIX + secrets.token_urlsafe(24),
            expires_at=int(self._clock()) + seconds,
            session=session,
        )
        self._secrets[secret.value] = secret
        while len(self._secrets) > MAX_SECRETS:
            self._secrets.popitem(last=False)
        LOG.info(
            "client secret %s… minted (%s session, %d s)",
            secret.value[:8],
            session.get("type"),
            seconds,
        )
        return secret

    def check(self, token: str) -> ClientSecret:
        secret = self._secrets.get(token)
        if secret is None:
            raise SecretRefused("Unknown client secret; mint a new one.")
        if self._clock() >= secret.expires_at:
            self._secrets.pop(token, None)
            raise SecretRefused("The client secret has expired; mint a new one.")
        return secret

    def _prune(self) -> None:
        now = self._clock()
        for value in [v for v, s in self._secrets.items() if now >= s.expires_at]:
            del self._secrets[value]
