"""Loading the speech engines through ovos-plugin-manager, by module name from config.

The bridge never imports a specific plugin: any OVOS STT/TTS/VAD plugin works. Ours add richer
APIs (streaming partials, per-frame speech probability, clause-streamed synthesis); the adapters
in this package use them when present and fall back to the plain OVOS interfaces otherwise.
"""

import copy
import logging
from dataclasses import dataclass
from typing import Any

from ovos_realtime.config import VoiceSettings

log = logging.getLogger(__name__)


class EngineLoadError(RuntimeError):
    """An engine (and its fallback) could not be loaded; the message says which and why."""


@dataclass
class VoiceEngines:
    stt: Any
    tts: Any
    vad_config: dict[str, Any]  # VAD state is per session: sessions make their own instances

    def describe(self) -> dict[str, Any]:
        return {
            "stt": {"module": getattr(self.stt, "_plugin_id", type(self.stt).__name__)},
            "tts": {
                "module": getattr(self.tts, "_plugin_id", type(self.tts).__name__),
                "sample_rate": tts_sample_rate(self.tts),
            },
            "vad": {"module": self.vad_config.get("module")},
        }


def tts_sample_rate(tts: Any) -> int:
    rate = getattr(tts, "sample_rate", None)
    return int(rate) if isinstance(rate, int | float) and rate > 0 else 22050


def _with_fallback(kind: str, block: dict[str, Any], create: Any) -> Any:
    """Load `block["module"]`; on failure try `fallback_module` (top level or in the plugin's own
    block, both mycroft.conf habits)."""
    module = block["module"]
    fallback = block.get("fallback_module") or (block.get(module) or {}).get("fallback_module")
    try:
        return create(block)
    except Exception as exc:
        if not fallback or fallback == module:
            raise EngineLoadError(f"voice.{kind}: could not load '{module}': {exc}") from exc
        log.warning("%s plugin %s failed (%s); loading fallback %s", kind, module, exc, fallback)
        try:
            return create({**block, "module": fallback})
        except Exception as fallback_exc:
            raise EngineLoadError(
                f"voice.{kind}: could not load '{module}' ({exc}) nor its fallback "
                f"'{fallback}' ({fallback_exc})"
            ) from fallback_exc


def _create_stt(block: dict[str, Any]) -> Any:
    from ovos_plugin_manager.stt import OVOSSTTFactory

    engine = OVOSSTTFactory.create(copy.deepcopy(block))
    engine._plugin_id = block["module"]
    return engine


def _create_tts(block: dict[str, Any]) -> Any:
    from ovos_plugin_manager.tts import OVOSTTSFactory

    engine = OVOSTTSFactory.create(copy.deepcopy(block))
    # Some plugins (ours) defer a missing model/voice to first use, as ovos-audio expects;
    # the bridge wants to know now, so that the fallback can take over at start.
    ensure_ready = getattr(engine, "ensure_ready", None)
    if callable(ensure_ready):
        ensure_ready()
    return engine


def create_vad(vad_config: dict[str, Any]) -> Any:
    """A fresh VAD instance (VAD keeps per-stream state)."""
    from ovos_plugin_manager.vad import OVOSVADFactory

    return OVOSVADFactory.create(copy.deepcopy(vad_config))


def load_engines(settings: VoiceSettings) -> VoiceEngines:
    stt = _with_fallback("stt", settings.stt, _create_stt)
    tts = _with_fallback("tts", settings.tts, _create_tts)

    def vad_works(block: dict[str, Any]) -> dict[str, Any]:
        create_vad(block)
        return block

    vad_config = _with_fallback("vad", settings.vad, vad_works)
    log.info(
        "speech engines: stt=%s tts=%s vad=%s",
        settings.stt["module"],
        settings.tts["module"],
        vad_config["module"],
    )
    return VoiceEngines(stt=stt, tts=tts, vad_config=vad_config)
