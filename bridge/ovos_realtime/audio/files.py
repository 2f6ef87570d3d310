"""Audio files for the REST endpoints: decode any upload (PyAV/FFmpeg), encode speech as
wav / pcm / mp3 / opus / flac / aac, whole or incrementally for streamed bodies."""

import io
import struct

import av
import numpy as np

# response_format -> (container format, codec, content type)
_CONTAINERS = {
    "mp3": ("mp3", "libmp3lame", "audio/mpeg"),
    "opus": ("ogg", "libopus", "audio/ogg"),
    "aac": ("adts", "aac", "audio/aac"),
    "flac": ("flac", "flac", "audio/flac"),
}
CONTENT_TYPES = {"wav": "audio/wav", "pcm": "audio/pcm"} | {
    name: spec[2] for name, spec in _CONTAINERS.items()
}
SPEECH_FORMATS = tuple(CONTENT_TYPES)


class AudioDecodeError(ValueError):
    """The upload is not audio FFmpeg can read."""


def decode_file(data: bytes, rate: int = 16000) -> np.ndarray:
    """Any audio file → mono int16 samples at `rate`.

    A damaged packet is skipped (real-world files often end in a broken frame or a tag); the
    file is refused only when nothing in it decodes."""
    chunks = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioDecodeError("the file has no audio stream")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            for packet in container.demux(audio=0):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    continue
                for frame in frames:
                    chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except AudioDecodeError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise AudioDecodeError(f"could not decode the audio file ({exc})") from None
    if not chunks or sum(chunk.size for chunk in chunks) == 0:
        raise AudioDecodeError("the file has no decodable audio")
    return np.concatenate(chunks).astype(np.int16)


def wav_header(rate: int, data_bytes: int | None = None) -> bytes:
    """A 16-bit mono WAV header; unknown length (streaming) uses the largest size."""
    size = 0xFFFFFFFF - 36 if data_bytes is None else data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", min(size + 36, 0xFFFFFFFF))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", size)
    )


class StreamEncoder:
    """Feeds int16 chunks at `rate`, yields encoded bytes as soon as the codec has them."""

    def __init__(self, response_format: str, rate: int) -> None:
        if response_format not in CONTENT_TYPES:
            raise ValueError(f"unsupported response_format {response_format!r}")
        self.format = response_format
        self.rate = rate
        self._started = False
        if response_format in _CONTAINERS:
            container, codec, _ = _CONTAINERS[response_format]
            self._buffer = io.BytesIO()
            self._container = av.open(self._buffer, mode="w", format=container)
            # Opus only runs at 48 kHz; the others keep the voice's rate.
            out_rate = 48000 if codec == "libopus" else rate
            self._stream = self._container.add_stream(codec, rate=out_rate, layout="mono")
            self._resampler = av.AudioResampler(
                format=self._stream.codec_context.format.name, layout="mono", rate=out_rate
            )
            self._pts = 0

    def feed(self, samples: np.ndarray) -> bytes:
        if self.format == "pcm":
            return samples.astype("<i2").tobytes()
        if self.format == "wav":
            header = b"" if self._started else wav_header(self.rate)
            self._started = True
            return header + samples.astype("<i2").tobytes()
        frame = av.AudioFrame.from_ndarray(
            samples.astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = self.rate
        frame.pts = self._pts
        self._pts += samples.size
        for converted in self._resampler.resample(frame):
            for packet in self._stream.encode(converted):
                self._container.mux(packet)
        return self._drain()

    def finish(self) -> bytes:
        if self.format in ("pcm", "wav"):
            return b"" if self._started or self.format == "pcm" else wav_header(self.rate, 0)
        # The codec keeps a partial frame back and drops it at flush: a frame of silence
        # pushes the end of the speech out.
        tail = self.feed(np.zeros(max(self._stream.codec_context.frame_size, 4608), np.int16))
        for converted in self._resampler.resample(None):
            for packet in self._stream.encode(converted):
                self._container.mux(packet)
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        return tail + self._drain()

    def _drain(self) -> bytes:
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


def encode_file(samples: np.ndarray, rate: int, response_format: str) -> bytes:
    """A whole file. WAV gets exact sizes in its header."""
    if response_format == "wav":
        return wav_header(rate, samples.size * 2) + samples.astype("<i2").tobytes()
    encoder = StreamEncoder(response_format, rate)
    return encoder.feed(samples) + encoder.finish()
