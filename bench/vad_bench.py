"""Dual VAD benchmark: cost per 32 ms frame and false-positive rate, per input sample rate; JSON.

Speech recall is measured on the public speech clips, false positives on the corpus' non-speech
clips plus generated silence/noise/hum. Timings are medians of `--runs` passes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import wave
from pathlib import Path

import numpy as np
from ovos_vad_plugin_dual import DualVADConfig, FrameVAD
from ovos_vad_plugin_dual.resample import resample

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.corpus

from tests.corpus import SPEECH_DIR as CORPUS  # the speech corpus in tests/data/speech

RATE = 16000


def load(corpus: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    speech, noise = [], []
    for line in (corpus / "manifest.jsonl").read_text().splitlines():
        row = json.loads(line)
        with wave.open(str(corpus / row["file"])) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        (speech if row["text"] else noise).append(pcm)
    rng = np.random.default_rng(7)
    n = RATE * 10
    t = np.arange(n) / RATE
    noise += [
        np.zeros(n, dtype=np.int16),
        (rng.standard_normal(n) * 100).astype(np.int16),
        (np.sin(2 * np.pi * 60 * t) * 1500).astype(np.int16),
        (np.cumsum(rng.standard_normal(n)) * 5).clip(-32768, 32767).astype(np.int16),
    ]
    return speech, noise


def at_rate(pcm: np.ndarray, rate: int) -> bytes:
    if rate == RATE:
        return pcm.tobytes()
    return (
        np.clip(resample(pcm.astype(np.float32), RATE, rate), -32768, 32767)
        .astype(np.int16)
        .tobytes()
    )


def measure(vad: FrameVAD, clips: list[bytes]) -> tuple[float, float, float, int]:
    """(speech-frame ratio, seconds, gated ratio, frames)."""
    speech = gated = frames = 0
    started = time.perf_counter()
    for pcm in clips:
        vad.reset()
        for frame in vad.iter_frames(pcm):
            speech += frame.probability >= vad.config.threshold
            gated += frame.gated
            frames += 1
    return speech / frames, time.perf_counter() - started, gated / frames, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    speech, noise = load(args.corpus)
    results = {}
    for rate in (8000, 16000, 24000):
        speech_b = [at_rate(p, rate) for p in speech]
        noise_b = [at_rate(p, rate) for p in noise]
        row = {}
        for gate in (True, False):
            vad = FrameVAD(DualVADConfig(sample_rate=rate, use_gate=gate))
            costs, recall, fp, gated_s, gated_n = [], 0.0, 0.0, 0.0, 0.0
            for _ in range(args.runs):
                recall, t_s, gated_s, n_s = measure(vad, speech_b)
                fp, t_n, gated_n, n_n = measure(vad, noise_b)
                costs.append((t_s + t_n) / (n_s + n_n) * 1000)
            row["gate_on" if gate else "gate_off"] = {
                "ms_per_frame_median": round(statistics.median(costs), 4),
                "speech_frame_ratio_on_speech_clips": round(recall, 4),
                "false_positive_frame_ratio": round(fp, 4),
                "gated_ratio_speech_clips": round(gated_s, 3),
                "gated_ratio_nonspeech_clips": round(gated_n, 3),
            }
        results[str(rate)] = row
    out = {
        "frame_ms": 32,
        "runs": args.runs,
        "speech_clips": len(speech),
        "nonspeech_clips": len(noise),
        "onnx_threads": 1,
        "by_sample_rate": results,
    }
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
