"""Where an installed package lives, found without importing it.

Model packages on PyPI are only read for their files; some import heavy things on import
(`silero-vad` imports torch), so their folder is found with importlib.util.find_spec, which does
not run the package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_dir(module: str) -> Path | None:
    """The folder of import package `module`, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(module: str, relative: str) -> Path | None:
    """`relative` inside package `module`, or None when the package or the file is missing."""
    folder = package_dir(module)
    if folder is None or not (folder / relative).is_file():
        return None
    return folder / relative
