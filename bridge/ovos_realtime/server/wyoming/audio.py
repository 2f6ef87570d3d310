"""Wyoming PCM in any rate, width and channel count → 16 kHz mono int16, chunk by chunk."""

import numpy as np

from ovos_realtime.audio.resample import StreamResampler
from ovos_realtime.server.wyoming.errors import BadRequest

MIN_RATE, MAX_RATE = 1000, 384000
MAX_CHANNELS = 32


def check_format(rate: object, width: object, channels: object) -> tuple[int, int, int]:
    """The format, or BadRequest naming what is wrong with it."""
    for name, value in (("rate", rate), ("width", width), ("channels", channels)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadRequest(f"audio {name} must be an integer, not {value!r}", "bad_audio_format")
    assert isinstance(rate, int) and isinstance(width, int) and isinstance(channels, int)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise BadRequest(
            f"audio rate {rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz", "bad_audio_format"
        )
    if width not in (1, 2, 3, 4):
        raise BadRequest(f"audio width must be 1, 2, 3 or 4 bytes, not {width}", "bad_audio_format")
    if not 1 <= channels <= MAX_CHANNELS:
        raise BadRequest(
            f"audio channels must be 1 to {MAX_CHANNELS}, not {channels}", "bad_audio_format"
        )
    return rate, width, channels


def to_int16(data: bytes, width: int) -> np.ndarray:
    """Little-endian PCM samples of `width` bytes (8-bit unsigned, as WAV) → int16."""
    if width == 2:
        return np.frombuffer(data, "<i2")
    if width == 1:
        return ((np.frombuffer(data, np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    if width == 4:
        return (np.frombuffer(data, "<i4") >> 16).astype(np.int16)
    raw = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
    value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
    value = np.where(value >= 1 << 23, value - (1 << 24), value)
    return (value >> 8).astype(np.int16)


class AudioIn:
    """One audio stream's converter: `convert(payload)` per chunk, `flush()` at its end. A
    chunk that splits a frame keeps the rest for the next one."""

    def __init__(self, rate: int, width: int, channels: int, to_rate: int = 16000) -> None:
        self.rate, self.width, self.channels = check_format(rate, width, channels)
        self._frame = width * channels
        self._rest = b""
        self._resample = StreamResampler(rate, to_rate)

    def matches(self, rate: object, width: object, channels: object) -> bool:
        return (rate, width, channels) == (self.rate, self.width, self.channels)

    def convert(self, payload: bytes) -> np.ndarray:
        data = self._rest + payload
        whole = len(data) - len(data) % self._frame
        data, self._rest = data[:whole], data[whole:]
        samples = to_int16(data, self.width)
        if self.channels > 1:
            samples = samples.reshape(-1, self.channels).mean(axis=1).astype(np.int16)
        return self._resample(samples)

    def flush(self) -> np.ndarray:
        return self._resample(np.zeros(0, np.int16), last=True)
