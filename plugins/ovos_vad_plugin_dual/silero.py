"""Silero VAD on onnxruntime: one speech probability per 32 ms frame of 16 kHz audio."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort

LOG = logging.getLogger(__name__)

FRAME = 512  # samples per frame at 16 kHz (Silero v5 fixes this size)
CONTEXT = 64  # v5 models expect the last 64 samples of the previous frame prepended


@lru_cache(maxsize=8)
def _session(path: str, intra: int, inter: int) -> ort.InferenceSession:
    """One ONNX session per model file and budget; run() is thread-safe, state lives outside."""
    opts = ort.SessionOptions()
    # Explicit budget: default onnxruntime would grab every core, starving STT/LLM/TTS.
    opts.intra_op_num_threads = intra
    opts.inter_op_num_threads = inter
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    LOG.debug("loading Silero VAD %s (intra=%d, inter=%d)", path, intra, inter)
    return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])


class SileroModel:
    """Stateful Silero runner. Supports the v5+ (`state`, `sr`) and the older (`h0`, `c0`) exports."""

    def __init__(self, path: Path, intra_op_num_threads: int = 1, inter_op_num_threads: int = 1):
        self.session = _session(str(path), intra_op_num_threads, inter_op_num_threads)
        names = {i.name for i in self.session.get_inputs()}
        if {"input", "state", "sr"} <= names:
            self.kind = "v5"
        elif {"input", "h0", "c0"} <= names:
            self.kind = "v4"
        else:
            raise ValueError(f"{path} is not a supported Silero VAD ONNX model (inputs {names})")
        self.path = Path(path)
        self._sr = np.array(16000, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._h = np.zeros((2, 1, 64), dtype=np.float32)
        self._c = np.zeros((2, 1, 64), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def observe(self, frame: np.ndarray) -> None:
        """Keep the context current for a frame that is skipped (not judged)."""
        self._context = frame[-CONTEXT:]

    def __call__(self, frame: np.ndarray) -> float:
        """Speech probability of one 512-sample float32 frame in [-1, 1]."""
        if self.kind == "v5":
            x = np.concatenate([self._context, frame])[None, :]
            out, self._state = self.session.run(
                None, {"input": x, "state": self._state, "sr": self._sr}
            )
            prob = float(out[0, 0])
        else:
            out, self._h, self._c = self.session.run(
                None, {"input": frame[None, :], "h0": self._h, "c0": self._c}
            )
            prob = float(out[0, 1, 0])
        self._context = frame[-CONTEXT:]
        return prob
