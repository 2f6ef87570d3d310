"""The user's model cache, shared by the ovos-realtime plugins."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$OVOS_REALTIME_MODELS`, else `$XDG_CACHE_HOME/ovos-realtime/models` (XDG_CACHE_HOME
    defaults to ~/.cache). Read on every call, so tests can point it elsewhere; not created
    until something is written there."""
    override = os.environ.get("OVOS_REALTIME_MODELS")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ovos-realtime" / "models"
