"""Realtime wire audio formats: GA `{"type": "audio/pcm", "rate": 24000}` and friends."""

from dataclasses import dataclass
from typing import Any

import numpy as np

from ovos_realtime.audio import g711


@dataclass(frozen=True)
class WireFormat:
    encoding: str  # "pcm16" | "pcmu" | "pcma"
    rate: int

    @classmethod
    def from_session(cls, fmt: dict[str, Any] | None) -> "WireFormat":
        kind = (fmt or {}).get("type", "audio/pcm")
        if kind == "audio/pcmu":
            return cls("pcmu", 8000)
        if kind == "audio/pcma":
            return cls("pcma", 8000)
        return cls("pcm16", int((fmt or {}).get("rate") or 24000))

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding == "pcm16" else 1

    def decode(self, data: bytes) -> np.ndarray:
        """Wire bytes → int16 samples at `self.rate`."""
        if self.encoding == "pcmu":
            return g711.ulaw_to_pcm(data)
        if self.encoding == "pcma":
            return g711.alaw_to_pcm(data)
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")

    def encode(self, samples: np.ndarray) -> bytes:
        """int16 samples at `self.rate` → wire bytes."""
        if self.encoding == "pcmu":
            return g711.pcm_to_ulaw(samples)
        if self.encoding == "pcma":
            return g711.pcm_to_alaw(samples)
        return samples.astype("<i2").tobytes()


class WireDecoder:
    """Decodes a stream of appended chunks. The buffer is a byte stream: a 16-bit sample split
    across two appends is joined, not dropped (dropping it would shift every later sample)."""

    def __init__(self, wire: WireFormat) -> None:
        self.wire = wire
        self._carry = b""

    def decode(self, data: bytes) -> np.ndarray:
        data = self._carry + data
        cut = len(data) - len(data) % self.wire.bytes_per_sample
        data, self._carry = data[:cut], data[cut:]
        return self.wire.decode(data)
