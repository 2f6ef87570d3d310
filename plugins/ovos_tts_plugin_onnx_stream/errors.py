"""Errors a user can act on: each names what is missing and how to get it."""

from __future__ import annotations

import logging

LOG = logging.getLogger(__name__)


class TTSModelMissingError(FileNotFoundError):
    """A model, voice file, voice or runtime library the engine needs is not there."""

    def __init__(self, what: str, how: str) -> None:
        self.what = what
        self.how = how
        super().__init__(f"TTS: {what} is missing. {how}")


class TTSConfigError(ValueError):
    """The plugin's config has a value it cannot use; the message names the key."""
