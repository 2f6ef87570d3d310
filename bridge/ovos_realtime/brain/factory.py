"""Choosing the LLM backend from settings."""

import importlib

from ovos_realtime.brain.base import Brain
from ovos_realtime.config import LLMSettings


def create_backend(settings: LLMSettings) -> Brain:
    """`embedded` (llama.cpp in process), `openai` (an endpoint), or `package.module:Class` for a
    backend of your own: a class taking the LLMSettings and implementing Brain."""
    if settings.backend == "embedded":
        from ovos_realtime.brain.llama_embedded import EmbeddedLlamaBackend

        return EmbeddedLlamaBackend(settings)
    if settings.backend == "openai":
        from ovos_realtime.brain.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(settings)
    module_name, _, class_name = settings.backend.partition(":")
    try:
        backend_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"llm.backend: cannot load '{settings.backend}' ({exc})") from None
    backend = backend_class(settings)
    if not isinstance(backend, Brain):
        missing = [
            m
            for m in ("name", "side_effects", "stream", "describe", "aclose")
            if not hasattr(backend, m)
        ]
        raise ValueError(
            f"llm.backend: '{settings.backend}' is not a Brain (missing: {', '.join(missing)})"
        )
    return backend
