"""Smart Turn v3: an audio end-of-turn classifier for `semantic_vad` (ONNX on onnxruntime).

It hears the last 8 s of a turn (Whisper log-mel features, voice/whisper_features.py) and gives
the probability that the speaker is done: the voice falling at the end of a sentence, or still
rising, or a filler ("um…"), which a word list cannot hear. The model file,
`smart-turn-v3.2-cpu.onnx` (BSD-2-Clause, Daily), ships inside the `pipecat-ai` wheel; that wheel
is installed with `--no-deps` as a model package (requirements/models-turn.txt): only the file is
read, pipecat is never imported.
"""

import logging
import time
from functools import cache
from pathlib import Path

import numpy as np
import onnxruntime as ort
from ovos_realtime_plugin_common.packages import package_file

from ovos_realtime.voice.whisper_features import RATE, fit_window, log_mel

log = logging.getLogger(__name__)

MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
PACKAGE = "pipecat-ai"
_IN_PACKAGE = ("pipecat", f"audio/turn/smart_turn/data/{MODEL_FILE}")


class TurnModelNotFoundError(FileNotFoundError):
    """The Smart Turn model file is missing; the message names the package that ships it."""


def resolve_turn_model(path: str | None = None) -> Path:
    """An explicit file, else the one inside the installed pipecat-ai wheel."""
    if path:
        found = Path(path).expanduser()
        if found.is_file():
            return found
        raise TurnModelNotFoundError(f"Smart Turn model file {str(found)!r} does not exist")
    packaged = package_file(*_IN_PACKAGE)
    if packaged is None:
        raise TurnModelNotFoundError(
            f"Smart Turn model {MODEL_FILE!r} not found: it ships in the {PACKAGE!r} wheel; "
            f"install it with `pip install --no-deps {PACKAGE}` (requirements/models-turn.txt)"
        )
    return packaged


@cache
def _session(path: str) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    # One thread: two cores are shared with the VAD, STT, LLM and TTS.
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])


class SmartTurn:
    """`probability(audio)`: how sure the model is that the turn in `audio` is complete."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or resolve_turn_model()
        self.session = _session(str(self.path))
        self._input = self.session.get_inputs()[0].name
        self.last_ms = 0.0  # CPU time of the last decision (features + model)

    def probability(self, audio: np.ndarray) -> float:
        """16 kHz mono audio of the turn so far (int16 or float in [-1, 1]); thread-safe."""
        started = time.perf_counter()
        samples = np.asarray(audio)
        if samples.dtype == np.int16:
            samples = samples.astype(np.float32) / 32768.0
        features = log_mel(fit_window(samples))[None, :, :]
        out = self.session.run(None, {self._input: features})
        self.last_ms = (time.perf_counter() - started) * 1000
        return float(np.asarray(out[0]).reshape(-1)[0])


_missing_logged = False


def load_turn_model() -> SmartTurn | None:
    """The shared model, or None (logged once) when its package is not installed: semantic_vad
    then decides from the transcript alone."""
    global _missing_logged
    try:
        return _shared_model()
    except TurnModelNotFoundError as exc:
        if not _missing_logged:
            _missing_logged = True
            log.warning("%s; semantic_vad falls back to the transcript rule", exc)
        return None


@cache
def _shared_model() -> SmartTurn:
    model = SmartTurn()
    log.info("Smart Turn model loaded from %s", model.path)
    return model


__all__ = [
    "MODEL_FILE",
    "PACKAGE",
    "RATE",
    "SmartTurn",
    "TurnModelNotFoundError",
    "load_turn_model",
    "resolve_turn_model",
]
