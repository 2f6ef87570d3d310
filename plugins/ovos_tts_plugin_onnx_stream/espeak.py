"""Text to IPA phonemes with the eSpeak NG library, loaded at run time through ctypes.

Why ctypes and not `phonemizer`: phonemizer is GPL-3.0 Python code; we only need one C call
(`espeak_TextToPhonemes`). The library itself (libespeak-ng, GPL-3.0) comes from the
`espeakng-loader` wheel or the system (`apt-get install libespeak-ng1`); it is an optional,
user-installed runtime component that this Apache-2.0 package does not ship.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import re
import threading

from .errors import TTSModelMissingError

LOG = logging.getLogger(__name__)

_AUDIO_OUTPUT_SYNCHRONOUS = 0x02
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02
# Punctuation that carries prosody; espeak drops it, so we split on it and put it back.
_PUNCT_RE = re.compile(r"(\s*[,;:.!?…—]+(?:\s+|$))")
# espeak marks words it switched language for, e.g. "(fr)"; the models do not know those marks.
_LANG_SWITCH_RE = re.compile(r"\([a-z-]+\)")

# espeak-ng keeps process-global state (current voice, text pointer): one caller at a time.
_LOCK = threading.Lock()
_LIB: ctypes.CDLL | None = None
_VOICE: str | None = None

_MISSING_HINT = (
    "eSpeak NG is needed to turn text into phonemes. Install it with "
    "`pip install espeakng-loader` (bundles libespeak-ng and its data) or "
    "`apt-get install libespeak-ng1 espeak-ng-data`."
)


def _find_library() -> tuple[str, str | None]:
    """Library path and data folder: espeakng-loader's copy first, then the system's."""
    try:
        import espeakng_loader

        return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
    except (ImportError, RuntimeError):
        pass
    path = ctypes.util.find_library("espeak-ng")
    if not path:
        raise TTSModelMissingError("espeak-ng", _MISSING_HINT)
    return path, None


def _library() -> ctypes.CDLL:
    global _LIB
    if _LIB is None:
        lib_path, data_path = _find_library()
        try:
            lib = ctypes.CDLL(lib_path)
        except OSError as exc:
            raise TTSModelMissingError("espeak-ng", f"{_MISSING_HINT} ({exc})") from exc
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.c_void_p]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        data = data_path.encode() if data_path else None
        if lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0) < 0:
            raise TTSModelMissingError("espeak-ng data", f"{_MISSING_HINT} (initialise failed)")
        _LIB = lib
    return _LIB


class _VoiceSpec(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


def _set_voice(lib: ctypes.CDLL, voice: str) -> None:
    global _VOICE
    if voice == _VOICE:
        return
    # A voice file name ("en-us") first, else a language tag ("en-gb") through properties.
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        spec = _VoiceSpec(languages=voice.lower().encode())
        if lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != 0:
            raise ValueError(f"eSpeak NG has no voice/language {voice!r} (e.g. 'en-us', 'en-gb')")
    _VOICE = voice


def _clause_to_ipa(lib: ctypes.CDLL, text: str) -> str:
    buf = ctypes.c_char_p(text.encode("utf-8"))
    ptr = ctypes.pointer(buf)
    parts: list[str] = []
    # Each call phonemizes one clause and advances the pointer; NULL means done.
    while ptr.contents.value:
        out = lib.espeak_TextToPhonemes(ptr, _CHARS_UTF8, _PHONEMES_IPA)
        if out:
            parts.append(out.decode("utf-8", errors="ignore").strip())
    return " ".join(p for p in parts if p)


def phonemize(text: str, voice: str = "en-us", keep_punctuation: bool = True) -> str:
    """IPA phonemes (with stress marks) for `text`; punctuation kept in place when asked."""
    pieces = _PUNCT_RE.split(text) if keep_punctuation else [text]
    out: list[str] = []
    with _LOCK:
        lib = _library()
        _set_voice(lib, voice)
        for piece in pieces:
            if not piece:
                continue
            if _PUNCT_RE.fullmatch(piece):
                out.append(piece.strip() + " ")
            elif piece.strip():
                out.append(_clause_to_ipa(lib, piece.strip()))
    ipa = _LANG_SWITCH_RE.sub("", "".join(out))
    return re.sub(r"\s+", " ", ipa).strip()


def available() -> bool:
    """True when a usable eSpeak NG library can be loaded."""
    try:
        with _LOCK:
            _library()
        return True
    except TTSModelMissingError:
        return False
