"""Streaming Whisper STT benchmark on the public speech corpus; prints JSON.

Figures: batch and streaming WER (full corpus), real-time factor of batch decoding and of the
streaming decode schedule, stop → final latency (inline schedule, every clip; and real-time paced
clips with the background worker). Timings are medians of `--runs` passes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import wave
from pathlib import Path

from ovos_stt_plugin_whisper_streaming import WhisperStreamingSTT
from ovos_stt_plugin_whisper_streaming.evaluation import word_error_rate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.corpus

from tests.corpus import SPEECH_DIR as CORPUS  # the speech corpus in tests/data/speech

RATE = 16000
CHUNK = 3200  # 100 ms


def load(corpus: Path) -> list[dict]:
    rows = [json.loads(x) for x in (corpus / "manifest.jsonl").read_text().splitlines() if x]
    clips = []
    for row in rows:
        if row["text"]:
            with wave.open(str(corpus / row["file"])) as w:
                clips.append(dict(row, pcm=w.readframes(w.getnframes())))
    return clips


def batch_pass(stt: WhisperStreamingSTT, clips: list[dict]) -> tuple[list[str], float]:
    started = time.perf_counter()
    hyps = [stt.transcribe_detailed(c["pcm"], RATE)["text"] for c in clips]
    return hyps, time.perf_counter() - started


def streaming_pass(stt: WhisperStreamingSTT, clips: list[dict]) -> dict:
    """Inline schedule (background=False): one partial decode per interval of fed audio."""
    finals, latencies, decode_s = [], [], 0.0
    for clip in clips:
        stream = stt.new_stream(background=False)
        for i in range(0, len(clip["pcm"]), CHUNK):
            stream.feed(clip["pcm"][i : i + CHUNK])
        started = time.perf_counter()
        finals.append(stream.finish())
        latencies.append(time.perf_counter() - started)
        decode_s += stream.stats.partial_decode_s + stream.stats.final_decode_s
    return {"finals": finals, "latencies": latencies, "decode_s": decode_s}


def realtime_pass(stt: WhisperStreamingSTT, clip: dict) -> dict:
    """Feed at real-time pace with the background worker, as the server does."""
    partial_times: list[float] = []
    stream = stt.new_stream(on_partial=lambda _t: partial_times.append(time.monotonic()))
    started = time.monotonic()
    for i in range(0, len(clip["pcm"]), CHUNK):
        stream.feed(clip["pcm"][i : i + CHUNK])
        time.sleep(max(0.0, started + (i + CHUNK) / 2 / RATE - time.monotonic()))
    stop = time.perf_counter()
    stream.finish()
    return {
        "stop_to_final_s": time.perf_counter() - stop,
        "first_partial_s": (partial_times[0] - started) if partial_times else None,
        "partials": len(partial_times),
        "skipped_slots": stream.stats.skipped_slots,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, default=3, help="passes for timing medians")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--realtime-clips", type=int, default=3)
    args = parser.parse_args()

    clips = load(args.corpus)
    audio_s = sum(len(c["pcm"]) / 2 / RATE for c in clips)
    refs = [c["text"] for c in clips]
    stt = WhisperStreamingSTT({"lang": "en-US", "model": args.model})

    batch_times, stream_rtf, stream_lat = [], [], []
    for _ in range(args.runs):
        hyps, elapsed = batch_pass(stt, clips)
        batch_times.append(elapsed)
    batch_wer = word_error_rate(refs, hyps)
    stream_wer = None
    for _ in range(args.runs):
        result = streaming_pass(stt, clips)
        stream_wer = word_error_rate(refs, result["finals"])
        stream_rtf.append(result["decode_s"] / audio_s)
        stream_lat.append(statistics.median(result["latencies"]))
        p90 = sorted(result["latencies"])[int(0.9 * len(result["latencies"]))]
    paced = [realtime_pass(stt, c) for c in clips[: args.realtime_clips]]

    out = {
        "model": args.model,
        "settings": {
            k: getattr(stt.settings, k)
            for k in (
                "compute_type",
                "cpu_threads",
                "beam_size",
                "partial_beam_size",
                "decode_interval_ms",
                "agreement",
                "final_decode",
                "max_window_s",
            )
        },
        "clips": len(clips),
        "audio_s": round(audio_s, 1),
        "runs": args.runs,
        "batch_wer": round(batch_wer, 4),
        "streaming_wer": round(stream_wer, 4),
        "batch_rtf_median": round(statistics.median(batch_times) / audio_s, 4),
        "streaming_decode_rtf_median": round(statistics.median(stream_rtf), 4),
        "stop_to_final_s_median": round(statistics.median(stream_lat), 3),
        "stop_to_final_s_p90_last_run": round(p90, 3),
        "realtime_paced": {
            "clips": len(paced),
            "stop_to_final_s_median": round(
                statistics.median(p["stop_to_final_s"] for p in paced), 3
            ),
            "first_partial_s_median": round(
                statistics.median(p["first_partial_s"] or 0.0 for p in paced), 3
            ),
            "partials_median": statistics.median(p["partials"] for p in paced),
            "skipped_slots_total": sum(p["skipped_slots"] for p in paced),
        },
    }
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
