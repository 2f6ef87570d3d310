"""Where the user's own models live (the last place model resolution looks)."""

import os
from pathlib import Path


def user_model_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ovos-realtime" / "models"
