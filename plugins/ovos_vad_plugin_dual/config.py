"""Settings of the dual VAD, read from the plugin's `listener.VAD` block of mycroft.conf."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any

LOG = logging.getLogger(__name__)

# Silero judges 32 ms frames (512 samples at 16 kHz), so every input rate must hold a whole
# number of samples in 32 ms: rate % 125 == 0.
FRAME_MS = 32
INTERNAL_RATE = 16000
SUPPORTED_RATES = (8000, 16000, 24000, 32000, 48000)


class VADConfigError(ValueError):
    """A setting of the dual VAD is invalid; the message names the key and the valid range."""


@dataclass(frozen=True)
class DualVADConfig:
    sample_rate: int = 16000
    # WebRTC gate: 0 (least aggressive) .. 3; frames it calls silence skip Silero.
    aggressiveness: int = 2
    use_gate: bool = True
    # Keep running Silero this long after its last speech frame even if WebRTC says silence,
    # so the speech probability decays naturally instead of dropping to 0.
    gate_hangover_ms: int = 300
    # Silero speech probability at/above which a frame is speech; below neg_threshold it is silence.
    threshold: float = 0.5
    neg_threshold: float | None = None
    min_speech_ms: int = 250
    min_silence_ms: int = 500
    prefix_padding_ms: int = 300
    # Automatic gain before the gate and Silero (gain.py), so quiet speakers are heard from the
    # first word; false turns it off (a device with its own AGC, or a near-field microphone).
    auto_gain: bool = True
    max_gain_db: float = 40.0
    # The quietest recent frame is never lifted above this: noise stays background.
    noise_ceiling_dbfs: float = -55.0
    # onnxruntime thread budget (2 cores are shared with STT, LLM and TTS).
    intra_op_num_threads: int = 1
    inter_op_num_threads: int = 1
    # Explicit Silero ONNX file; None means the one shipped by an installed PyPI package.
    model: str | None = None

    @property
    def silence_threshold(self) -> float:
        if self.neg_threshold is not None:
            return self.neg_threshold
        return max(self.threshold - 0.15, 0.01)

    @classmethod
    def from_dict(
        cls, config: dict[str, Any] | None, sample_rate: int | None = None
    ) -> DualVADConfig:
        config = dict(config or {})
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in config.items() if k in known}
        if sample_rate is not None:
            values["sample_rate"] = sample_rate
        # `onnx_threads` is a friendlier alias for the intra-op budget.
        if "onnx_threads" in config and "intra_op_num_threads" not in config:
            values["intra_op_num_threads"] = config["onnx_threads"]
        try:
            cfg = cls(**values)
        except TypeError as exc:  # pragma: no cover - only unknown types reach here
            raise VADConfigError(f"invalid dual VAD config: {exc}") from exc
        cfg.validate()
        return cfg

    def validate(self) -> None:
        def fail(key: str, why: str) -> None:
            raise VADConfigError(
                f"listener.VAD.ovos-vad-plugin-dual.{key}={getattr(self, key)!r}: {why}"
            )

        if int(self.sample_rate) not in SUPPORTED_RATES:
            fail("sample_rate", f"must be one of {list(SUPPORTED_RATES)} Hz")
        if self.aggressiveness not in (0, 1, 2, 3):
            fail("aggressiveness", "must be an integer 0..3 (WebRTC VAD mode)")
        if not 0.0 < float(self.threshold) < 1.0:
            fail("threshold", "must be a probability between 0 and 1 (exclusive)")
        if self.neg_threshold is not None and not 0.0 < self.neg_threshold <= self.threshold:
            fail("neg_threshold", "must be > 0 and <= threshold")
        for key in ("min_speech_ms", "min_silence_ms", "prefix_padding_ms", "gate_hangover_ms"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 0:
                fail(key, "must be a non-negative integer number of milliseconds")
        if not isinstance(self.auto_gain, bool):
            fail("auto_gain", "must be true or false")
        if not isinstance(self.max_gain_db, int | float) or not 0 <= self.max_gain_db <= 60:
            fail("max_gain_db", "must be a number of dB between 0 and 60")
        if (
            not isinstance(self.noise_ceiling_dbfs, int | float)
            or not -100 <= self.noise_ceiling_dbfs <= 0
        ):
            fail("noise_ceiling_dbfs", "must be a level in dBFS between -100 and 0")
        for key in ("intra_op_num_threads", "inter_op_num_threads"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 1:
                fail(key, "must be a positive integer (threads)")

    @property
    def frame_samples(self) -> int:
        """Samples per frame at the input rate."""
        return self.sample_rate * FRAME_MS // 1000

    @property
    def frame_bytes(self) -> int:
        return self.frame_samples * 2
