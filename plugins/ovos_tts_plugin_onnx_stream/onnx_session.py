"""One place that builds onnxruntime sessions with an explicit CPU thread budget."""

from __future__ import annotations

import logging
from pathlib import Path

import onnxruntime as ort

LOG = logging.getLogger(__name__)


def make_session(model_path: Path, threads: int = 1) -> ort.InferenceSession:
    """A CPU session limited to `threads` intra-op threads that never busy-waits.

    Why: on a 2-core box the LLM, STT and TTS share the CPU; spinning worker threads
    (onnxruntime's default) starve the others while this engine is idle between clauses.
    """
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, int(threads))
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    LOG.debug("onnxruntime %s session for %s, %d thread(s)", ort.__version__, model_path, threads)
    return ort.InferenceSession(
        str(model_path), sess_options=opts, providers=["CPUExecutionProvider"]
    )
