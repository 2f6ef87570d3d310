"""Loading the speech engines through ovos-plugin-manager, by module name from config.

The server never imports a specific plugin: any OVOS STT/TTS/VAD plugin works. Ours add richer
APIs (streaming partials, per-frame speech probability, clause-streamed synthesis); the adapters
in this package use them when present and fall back to the plain OVOS interfaces otherwise.
"""

import copy
import logging
from dataclasses import dataclass
from typing import Any

from ovos_realtime.config import VoiceSettings
from ovos_realtime.voice.contracts import DefersLoading

log = logging.getLogger(__name__)


class EngineLoadError(RuntimeError):
    """An engine (and its fallback) could not be loaded; the message says which and why."""


@dataclass
class VoiceEngines:
    stt: Any
    tts: Any
    vad_config: dict[str, Any]  # VAD state is per session: sessions make their own instances
    stt_module: str = "stt"  # the plugin modules loaded (the fallback's, when it took over)
    tts_module: str = "tts"

    def new_vad(self) -> Any:
        """A fresh VAD instance for one audio stream."""
        return create_vad(self.vad_config)

    def describe(self) -> dict[str, Any]:
        return {
            "stt": {"module": self.stt_module},
            "tts": {
                "module": self.tts_module,
                "sample_rate": tts_sample_rate(self.tts),
            },
            "vad": {"module": self.vad_config.get("module")},
        }


def tts_sample_rate(tts: Any) -> int:
    rate = getattr(tts, "sample_rate", None)
    return int(rate) if isinstance(rate, int | float) and rate > 0 else 22050


def _with_fallback(kind: str, block: dict[str, Any], create: Any) -> tuple[Any, str]:
    """Load `block["module"]`; on failure try `fallback_module` (top level or in the plugin's own
    block, both mycroft.conf habits). Returns the engine and the module that loaded."""
    module = block["module"]
    fallback = block.get("fallback_module") or (block.get(module) or {}).get("fallback_module")
    try:
        return create(block), module
    except Exception as exc:
        if not fallback or fallback == module:
            raise EngineLoadError(f"voice.{kind}: could not load '{module}': {exc}") from exc
        log.warning("%s plugin %s failed (%s); loading fallback %s", kind, module, exc, fallback)
        try:
            return create({**block, "module": fallback}), fallback
        except Exception as fallback_exc:
            raise EngineLoadError(
                f"voice.{kind}: could not load '{module}' ({exc}) nor its fallback "
                f"'{fallback}' ({fallback_exc})"
            ) from fallback_exc


def _create_stt(block: dict[str, Any]) -> Any:
    from ovos_plugin_manager.stt import OVOSSTTFactory

    return OVOSSTTFactory.create(copy.deepcopy(block))


def _create_tts(block: dict[str, Any]) -> Any:
    from ovos_plugin_manager.tts import OVOSTTSFactory

    engine = OVOSTTSFactory.create(copy.deepcopy(block))
    # Some plugins (ours) defer a missing model/voice to first use, as ovos-audio expects;
    # the server wants to know now, so that the fallback can take over at start.
    if isinstance(engine, DefersLoading):
        engine.ensure_ready()
    return engine


def create_vad(vad_config: dict[str, Any]) -> Any:
    """A fresh VAD instance (VAD keeps per-stream state)."""
    from ovos_plugin_manager.vad import OVOSVADFactory

    return OVOSVADFactory.create(copy.deepcopy(vad_config))


def load_engines(settings: VoiceSettings) -> VoiceEngines:
    stt, stt_module = _with_fallback("stt", settings.stt, _create_stt)
    tts, tts_module = _with_fallback("tts", settings.tts, _create_tts)

    def vad_works(block: dict[str, Any]) -> dict[str, Any]:
        create_vad(block)
        return block

    vad_config, vad_module = _with_fallback("vad", settings.vad, vad_works)
    log.info("speech engines: stt=%s tts=%s vad=%s", stt_module, tts_module, vad_module)
    return VoiceEngines(stt, tts, vad_config, stt_module, tts_module)
