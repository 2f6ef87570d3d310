"""Piper voices (.onnx + .onnx.json) through phoonnx, phonemized with our eSpeak NG binding."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from phoonnx.config import Alphabet, SynthesisConfig, VoiceConfig
from phoonnx.phonemizers.base import BasePhonemizer
from phoonnx.util import normalize
from phoonnx.voice import TTSVoice

from . import espeak
from .errors import TTSModelMissingError
from .onnx_session import make_session

LOG = logging.getLogger(__name__)


class EspeakNGPhonemizer(BasePhonemizer):
    """phoonnx phonemizer backed by `espeak.phonemize` (in-process, keeps punctuation).

    Why not phoonnx's EspeakPhonemizer: it shells out to an `espeak-ng` binary that pip
    cannot install, and it strips punctuation that Piper models use for prosody.
    """

    def __init__(self, espeak_voice: str) -> None:
        super().__init__(Alphabet.IPA)
        self.espeak_voice = espeak_voice

    def phonemize_string(self, text: str, lang: str) -> str:
        return espeak.phonemize(text, self.espeak_voice)

    def phonemize(self, text: str, lang: str) -> list[list[str]]:
        # One clause in, one phoneme sequence out: the caller already chunks text.
        ipa = self.phonemize_string(normalize(text, lang), lang)
        return [list(ipa)] if ipa else []


class PiperEngine:
    """One Piper voice. `synthesize` returns float32 audio at the voice's sample rate."""

    def __init__(self, model_path: Path, config_path: Path | None = None, threads: int = 1) -> None:
        config_path = config_path or Path(f"{model_path}.json")
        if not config_path.is_file():
            raise TTSModelMissingError(
                f"Piper voice config {config_path}",
                "A Piper voice is two files: <name>.onnx and <name>.onnx.json; put both side by side.",
            )
        raw = json.loads(config_path.read_text(encoding="utf-8"))
        self.espeak_voice = raw.get("espeak", {}).get("voice", "en-us")
        config = VoiceConfig.from_dict(raw)
        self.voice = TTSVoice(
            session=make_session(model_path, threads),
            config=config,
            phonemizer=EspeakNGPhonemizer(self.espeak_voice),
        )
        self.sample_rate = int(config.sample_rate)
        self.length_scale = float(config.length_scale or 1.0)
        self.lang = str(config.lang_code or "en-US").replace("_", "-")
        self.name = model_path.stem

    def synthesize(self, text: str, speed: float = 1.0) -> np.ndarray:
        """float32 audio in [-1, 1] for one clause or sentence; speed > 1 is faster."""
        syn = SynthesisConfig(length_scale=self.length_scale / speed, normalize_audio=False)
        parts = [chunk.audio_float_array for chunk in self.voice.synthesize(text, syn)]
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return audio
