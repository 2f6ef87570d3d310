"""The user's model cache, shared by the ovos-realtime plugins and the server's own models."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/ovos-realtime/models` (XDG_CACHE_HOME defaults to ~/.cache), the folder
    the server's own models (the LLM) use too. Read on every call, so tests can point
    it elsewhere; not created until something is written there.

    No OVOS_REALTIME_* override: the server reads every OVOS_REALTIME_* variable as a setting
    (OVOS_REALTIME_MODELS would be an unknown key `models`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ovos-realtime" / "models"
