"""Dual VAD benchmark: cost per 32 ms frame and false-positive rate, per input sample rate; JSON.

Speech recall is measured on the public speech clips, false positives on the corpus' non-speech
clips plus generated silence/noise/hum. Timings are medians of `--runs` passes. `quiet_speech`:
the clips scaled to -65 dBFS average, with and without the automatic gain (see quiet()).
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


def scaled(pcm: np.ndarray, dbfs: float) -> np.ndarray:
    """The clip with its whole-clip RMS at `dbfs` (digital silence stays silent)."""
    x = pcm.astype(np.float64)
    rms = np.sqrt(np.mean(x**2)) / 32768
    if rms == 0:
        return pcm
    return np.clip(np.round(x * 10 ** (dbfs / 20) / rms), -32768, 32767).astype(np.int16)


def quiet(speech: list[np.ndarray], noise: list[np.ndarray], dbfs: float = -65.0) -> dict:
    """Speech recorded across a room: every clip scaled to -65 dBFS average after 1 s of quiet
    room (-85 dBFS), with the automatic gain and without: where speech is first heard (2
    frames at/above the threshold) relative to the full-level clip, and false speech frames on
    the non-speech clips scaled the same way."""
    rng = np.random.default_rng(3)
    room = np.round(rng.standard_normal(RATE) * 32768 * 10 ** (-85 / 20)).astype(np.int16)

    def onset_ms(vad: FrameVAD, pcm: np.ndarray) -> int | None:
        vad.reset()
        probs = vad.probabilities(np.concatenate([room, pcm]).tobytes())
        run = 0
        for i, p in enumerate(probs):
            run = run + 1 if p >= vad.config.threshold else 0
            if run == 2:
                return (i - 1) * 32 - 1000
        return None

    out = {}
    for gain in (True, False):
        vad = FrameVAD(DualVADConfig(auto_gain=gain))
        late, never, delays = 0, 0, []
        for pcm in speech:
            full, low = onset_ms(vad, pcm), onset_ms(vad, scaled(pcm, dbfs))
            if low is None or full is None:
                never += 1
                continue
            delays.append(low - full)
            late += low - full > 150
        fp, *_ = measure(vad, [scaled(p, dbfs).tobytes() for p in noise])
        out["auto_gain" if gain else "no_gain"] = {
            "onset_delay_ms_median": statistics.median(delays) if delays else None,
            "onset_delay_ms_max": max(delays) if delays else None,
            "clips_later_than_150_ms": late,
            "clips_never_heard": never,
            "false_positive_frame_ratio_scaled_nonspeech": round(fp, 4),
        }
    return {"level_dbfs": dbfs, **out}


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
        "quiet_speech": quiet(speech, noise),
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
