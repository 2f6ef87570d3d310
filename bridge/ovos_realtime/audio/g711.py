"""G.711 μ-law and A-law ⇄ 16-bit PCM, vectorised with numpy (audioop is gone from Python 3.13)."""

import numpy as np

_BIAS = 0x84


def _ulaw_decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _alaw_decode_table() -> np.ndarray:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


ULAW_TO_PCM = _ulaw_decode_table()
ALAW_TO_PCM = _alaw_decode_table()


# Segment ends of the G.711 reference encoder (ITU-T G.191 / Sun's g711.c).
_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def pcm_to_ulaw(pcm: np.ndarray) -> bytes:
    samples = pcm.astype(np.int32) >> 2  # 14-bit domain, as the reference encoder
    mask = np.where(samples < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(samples), 8159) + 0x21
    segment = np.searchsorted(_ULAW_SEG_END, magnitude)
    code = np.where(segment >= 8, 0x7F, (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F))
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


def pcm_to_alaw(pcm: np.ndarray) -> bytes:
    samples = pcm.astype(np.int32) >> 3  # 13-bit domain
    mask = np.where(samples >= 0, 0xD5, 0x55)
    magnitude = np.where(samples >= 0, samples, -samples - 1)
    segment = np.searchsorted(_ALAW_SEG_END, magnitude)
    shift = np.where(segment < 2, 1, segment)
    code = np.where(
        segment >= 8, 0x7F, (np.minimum(segment, 7) << 4) | ((magnitude >> shift) & 0x0F)
    )
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


def ulaw_to_pcm(data: bytes) -> np.ndarray:
    return ULAW_TO_PCM[np.frombuffer(data, dtype=np.uint8)]


def alaw_to_pcm(data: bytes) -> np.ndarray:
    return ALAW_TO_PCM[np.frombuffer(data, dtype=np.uint8)]
