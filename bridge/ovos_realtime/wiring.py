"""The composition root: builds the assistant and the server's dependencies from settings.

Extensions (adapters that plug into the assistant) are registered here, in one place."""

import logging
from pathlib import Path

from ovos_realtime.brain.factory import create_backend
from ovos_realtime.config import Settings
from ovos_realtime.core.assistant import Assistant
from ovos_realtime.core.extensions import Extension
from ovos_realtime.core.personas import PersonaBrains, PersonaRegistry
from ovos_realtime.server.deps import ServerDeps

log = logging.getLogger(__name__)


def extensions(settings: Settings) -> list[Extension]:
    """Every adapter that gives conversations brains, tools or observers."""
    from ovos_realtime.ovos.extension import OvosExtension

    return [OvosExtension(settings)]


def build_assistant(settings: Settings) -> Assistant:
    brain = create_backend(settings.llm)
    # Personas before the engines: a bad persona file fails the start at once.
    personas = PersonaRegistry.load(settings)
    voice = None
    if settings.voice.enabled:
        from ovos_realtime.voice.engines import load_engines
        from ovos_realtime.voice.runtime import VoiceRuntime

        voice_settings = settings.voice
        voice = VoiceRuntime(
            load_engines(voice_settings),
            voice_settings.tts_workers,
            voice_settings.max_turn_s,
            turn_model=voice_settings.turn_model,
            text_turn_gguf=text_turn_gguf(settings) if voice_settings.turn_text_model else None,
        )
    return Assistant(
        personas,
        PersonaBrains(brain, settings.llm),
        extensions(settings),
        voice=voice,
        instructions=settings.session.instructions,
    )


def text_turn_gguf(settings: Settings) -> Path | None:
    """The chat model semantic_vad reads the end of a turn with (`voice.turn_text_llm`)."""
    from ovos_realtime.brain.models import ModelNotFound, resolve_gguf

    try:
        return resolve_gguf(settings.voice.turn_text_llm, "voice.turn_text_llm")
    except ModelNotFound as exc:
        log.warning("%s; the word list decides", exc)
        return None


def build_server(settings: Settings) -> ServerDeps:
    return ServerDeps(settings=settings, assistant=build_assistant(settings))
