"""`describe` → `info`: what this door offers, from the loaded engines and personas."""

from typing import Any

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
)

from ovos_realtime.config import Settings
from ovos_realtime.core.assistant import Assistant
from ovos_realtime.version import __version__
from ovos_realtime.voice.synthesis import list_voices

ATTRIBUTION = Attribution(name="OpenVoiceOS", url="https://github.com/OpenVoiceOS")
ASR_PROGRAM = "ovos-realtime-stt"
TTS_PROGRAM = "ovos-realtime-tts"


def languages(settings: Settings) -> list[str]:
    """The `ovos.lang` setting and its bare language ("en-US" → ["en-US", "en"])."""
    lang = settings.ovos.lang or "en"
    bare = lang.replace("_", "-").split("-")[0].lower()
    return [lang] if bare == lang else [lang, bare]


def _stt_languages(stt: Any, fallback: list[str]) -> list[str]:
    try:
        found = getattr(stt, "available_languages", None)
    except Exception:  # a plugin's property may fail; the setting is enough
        found = None
    return sorted(str(lang) for lang in found) if found else fallback


def build_info(assistant: Assistant, settings: Settings) -> Info:
    """asr and tts when the server has speech engines; one conversation agent (`handle`)
    program per persona, the default first (a client picks one with `select-program`)."""
    langs = languages(settings)
    common: dict[str, Any] = {
        "attribution": ATTRIBUTION,
        "installed": True,
        "version": __version__,
    }
    info = Info()
    voice = assistant.voice
    if voice is not None:
        engines = voice.engines
        info.asr = [
            AsrProgram(
                name=ASR_PROGRAM,
                description=f"Streaming speech-to-text ({engines.stt_module})",
                models=[
                    AsrModel(
                        name=engines.stt_module,
                        description=engines.stt_module,
                        languages=_stt_languages(engines.stt, langs),
                        **common,
                    )
                ],
                supports_transcript_streaming=True,
                **common,
            )
        ]
        info.tts = [
            TtsProgram(
                name=TTS_PROGRAM,
                description=f"Streaming text-to-speech ({engines.tts_module})",
                voices=[
                    TtsVoice(
                        name=v["id"], description=v["name"], languages=[v["language"]], **common
                    )
                    for v in list_voices(engines.tts)
                ],
                supports_synthesize_streaming=True,
                **common,
            )
        ]
    registry = assistant.personas
    names = [registry.default, *(n for n in registry.names() if n != registry.default)]
    info.handle = []
    for name in names:
        persona = registry.personas[name]
        description = persona.description or f"the {name} persona"
        info.handle.append(
            HandleProgram(
                name=name,
                description=f"ovos-realtime agent: {description}",
                models=[HandleModel(name=name, description=description, languages=langs, **common)],
                supports_handled_streaming=True,
                **common,
            )
        )
    return info
