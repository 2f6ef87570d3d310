"""ovos-stt-plugin-whisper-streaming: faster-whisper with stable streaming partials.

Public API for the bridge: `WhisperStreamingSTT` (OVOS plugin; `new_stream()`,
`transcribe_detailed()`), `StreamingTranscriber` (per-session stream), model helpers in `.models`.
"""

from faster_whisper.tokenizer import _LANGUAGE_CODES

from .config import STTConfigError, WhisperSTTConfig
from .models import ModelNotFoundError, list_models, pull_model, resolve_model
from .plugin import WhisperStreamingSTT
from .streaming import StreamingTranscriber, StreamStats

_META = {"offline": True, "streaming": True}

# OPM `opm.stt.config` convention: language → suggested configs, best first.
WhisperStreamingSTTConfig: dict[str, list[dict]] = {
    lang: (
        [
            {
                "model": "tiny.en",
                "lang": lang,
                "meta": {"priority": 40, "display_name": "Whisper tiny.en (streaming)", **_META},
            }
        ]
        if lang == "en"
        else []
    )
    + [
        {
            "model": "base",
            "lang": lang,
            "meta": {"priority": 50, "display_name": "Whisper base (streaming)", **_META},
        }
    ]
    for lang in sorted(_LANGUAGE_CODES)
}

__all__ = [
    "ModelNotFoundError",
    "STTConfigError",
    "StreamStats",
    "StreamingTranscriber",
    "WhisperSTTConfig",
    "WhisperStreamingSTT",
    "WhisperStreamingSTTConfig",
    "list_models",
    "pull_model",
    "resolve_model",
]
