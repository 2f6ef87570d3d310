"""`ovos-realtime models`: every model and voice the configured engines can resolve, and where
each comes from; `models pull NAME` fetches one from the model hub (never done implicitly).

The engines are found through their OPM entry points, by the module names in the config, and
asked for their own `list_models()` / `pull_model(name)`: the server names no plugin."""

import importlib
import logging
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from ovos_realtime_plugin_common.cache import cache_dir as user_model_cache

from ovos_realtime.brain.models import PACKAGED, PackagedModel
from ovos_realtime.config import Settings

log = logging.getLogger(__name__)

_GROUPS = {
    "stt": ("opm.stt", "mycroft.plugin.stt"),
    "tts": ("opm.tts", "mycroft.plugin.tts"),
    "vad": ("opm.VAD", "ovos.plugin.VAD"),
}


def _modules(settings: Settings) -> list[tuple[str, str]]:
    out = []
    for kind in _GROUPS:
        block = getattr(settings.voice, kind)
        for name in (block.get("module"), block.get("fallback_module")):
            if name:
                out.append((kind, name))
    return out


def _package_of(kind: str, module_name: str) -> ModuleType | None:
    for group in _GROUPS[kind]:
        for entry in entry_points(group=group):
            if entry.name == module_name:
                try:
                    return importlib.import_module(entry.value.split(":")[0].split(".")[0])
                except Exception as exc:  # a broken plugin must not hide the others
                    log.warning("cannot import %s: %s", entry.value, exc)
                    return None
    return None


def engine_packages(settings: Settings) -> list[ModuleType]:
    packages: dict[str, ModuleType] = {}
    for kind, module_name in _modules(settings):
        package = _package_of(kind, module_name)
        if package is not None and callable(getattr(package, "list_models", None)):
            packages.setdefault(package.__name__, package)
    return list(packages.values())


def _llm_entry(model: PackagedModel) -> dict[str, Any]:
    packaged = model.installed()
    cached = user_model_cache() / model.file
    if packaged is not None:
        source, path = "pypi:" + ",".join(model.pypi), packaged
    elif cached.is_file():
        source, path = f"cache:{cached}", cached
    else:
        source, path = "missing", None
    return {
        "name": model.name,
        "kind": "llm",
        "source": source,
        "path": str(path) if path else None,
        "pullable": False,
    }


def list_all(settings: Settings) -> list[dict[str, Any]]:
    models = [_llm_entry(model) for model in PACKAGED]
    for package in engine_packages(settings):
        try:
            models.extend(package.list_models())
        except Exception as exc:
            log.warning("%s.list_models failed: %s", package.__name__, exc)
    return models


def pull(settings: Settings, name: str) -> Path:
    for package in engine_packages(settings):
        if any(model.get("name") == name for model in package.list_models()):
            return Path(package.pull_model(name))
    known = ", ".join(sorted(m["name"] for m in list_all(settings) if m.get("pullable")))
    raise ValueError(f"no engine knows a model named '{name}'. Pullable models: {known or 'none'}")


def format_table(models: list[dict[str, Any]]) -> str:
    rows = [("NAME", "KIND", "SOURCE", "PATH")] + [
        (m["name"], m["kind"], m["source"], m.get("path") or "-") for m in models
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + str(row[3])
        for row in rows
    )
