"""ovos-vad-plugin-dual: WebRTC VAD as a cheap gate, Silero VAD (ONNX) as the judge.

Public API for the bridge: `DualVAD` (OVOS plugin), `FrameVAD` (per-frame probabilities),
`SpeechSegmenter` (speech start/stop events with prefix padding), `DualVADConfig`.
"""

from .config import FRAME_MS, SUPPORTED_RATES, DualVADConfig, VADConfigError
from .frame_vad import FrameResult, FrameVAD
from .models import VADModelNotFoundError, list_models, pull_model
from .plugin import DualVAD
from .segmenter import SpeechEvent, SpeechSegmenter

# OPM's `.config` convention: suggested configurations for this plugin.
DualVADConfigs = [{"module": "ovos-vad-plugin-dual", "threshold": 0.5, "aggressiveness": 2}]

__all__ = [
    "FRAME_MS",
    "SUPPORTED_RATES",
    "DualVAD",
    "DualVADConfig",
    "DualVADConfigs",
    "FrameResult",
    "FrameVAD",
    "SpeechEvent",
    "SpeechSegmenter",
    "VADConfigError",
    "VADModelNotFoundError",
    "list_models",
    "pull_model",
]
