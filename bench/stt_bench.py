"""Streaming Whisper STT benchmark on the public speech corpus; prints JSON.

Figures: batch and streaming WER (full corpus), real-time factor of batch decoding and of the
streaming decode schedule, stop → final latency (inline schedule, every clip; and real-time paced
clips with the background worker). Timings are medians of `--runs` passes.

`--mode live`: the voice loop's view. Clips of 2-12 s are streamed at real-time pace through
`StreamingTranscriber` (background worker), then `--pause-ms` of silence, then a `peek()` as the
voice loop asks at a pause; its text is scored beside one batch decode of the same clip (same
model), and the peek's time is reported for short (<= 3.5 s) and long (>= 6 s) turns.
`--mode pause`: the pause's decode alone, before/after in one run. Each clip of 2-12 s (plus
`--pause-ms` of silence) is fed to a stream twice: "streamed" (partial decodes inline, so words
get committed as they do while a user speaks) and "fresh" (no partial decode: nothing committed,
the whole turn is decoded, as in most short conversation turns). On each stream every
`--variant NAME=JSON` (plugin settings) then peeks (a peek reads the stream without changing
it), in an order that rotates per clip and run, so machine load hits every variant alike.
Reported per variant and state: peek ms median/p95 for short (<= 3.5 s) and long (>= 6 s)
clips, WER, temperature fallbacks, which decode path ran; `--busy` keeps a partial lane of the
variant's own engine decoding meanwhile (a partial decode in flight as the pause opens, and
another stream's partials): `--busy --variant nice0='{"partial_nice": 0}' --variant
nice19='{"partial_nice": 19}'` measures the partial decodes' priority (engine.py).
With BENCH_OTHER_CHECKOUT set (bench/compare.py) the plugin is imported from that checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import wave
from functools import partial
from pathlib import Path

if os.environ.get("BENCH_OTHER_CHECKOUT"):  # before/after: the other checkout's plugin
    sys.path.insert(0, str(Path(os.environ["BENCH_OTHER_CHECKOUT"]) / "plugins"))

from _stats import summary as stats_summary
from ovos_stt_plugin_whisper_streaming import WhisperStreamingSTT
from ovos_stt_plugin_whisper_streaming.audio import to_whisper_audio
from ovos_stt_plugin_whisper_streaming.evaluation import normalize, word_error_rate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.corpus

from tests.corpus import SPEECH_DIR as CORPUS

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


def batch_pass(stt: WhisperStreamingSTT, clips: list[dict]) -> tuple[list[str], list[float]]:
    """Each clip's batch transcript and decode time (s)."""
    hyps, times = [], []
    for clip in clips:
        started = time.perf_counter()
        hyps.append(stt.transcribe_detailed(clip["pcm"], RATE)["text"])
        times.append(time.perf_counter() - started)
    return hyps, times


def streaming_pass(stt: WhisperStreamingSTT, clips: list[dict], lead_ms: int = 0) -> dict:
    """Inline schedule (background=False): one partial decode per interval of fed audio.
    lead_ms of quiet before each clip moves where its partial decodes fall, so which words get
    committed, when, and where the final decode resumes."""
    finals, latencies, decode_s = [], [], 0.0
    lead = bytes(2 * RATE * lead_ms // 1000)
    for clip in clips:
        stream = stt.new_stream(background=False)
        pcm = lead + clip["pcm"]
        for i in range(0, len(pcm), CHUNK):
            stream.feed(pcm[i : i + CHUNK])
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


# n, median and p95 of seconds, in whole milliseconds.
_spread = partial(stats_summary, unit="_ms", digits=0, scale=1000)


def live_clip(stt: WhisperStreamingSTT, clip: dict, pause_ms: int) -> dict:
    """Stream one clip at real-time pace, then a pause, then peek as the voice loop does."""
    stream = stt.new_stream()
    pcm = clip["pcm"] + bytes(2 * RATE * pause_ms // 1000)
    started = time.monotonic()
    for i in range(0, len(pcm), CHUNK):
        stream.feed(pcm[i : i + CHUNK])
        time.sleep(max(0.0, started + (i + CHUNK) / 2 / RATE - time.monotonic()))
    asked = time.perf_counter()
    text = stream.peek()
    peek_s = time.perf_counter() - asked
    stream.close()
    stats = stream.stats
    return {
        "text": text,
        "peek_s": peek_s,
        "peek_wait_s": getattr(stats, "peek_wait_s", None),  # absent before the change
        "abandoned": getattr(stats, "abandoned_partials", None),
    }


def live_mode(stt: WhisperStreamingSTT, clips: list[dict], args: argparse.Namespace) -> dict:
    clips = [c for c in clips if 2.0 <= len(c["pcm"]) / 2 / RATE <= 12.0]
    if args.live_clips and args.live_clips < len(clips):
        step = len(clips) / args.live_clips  # spread over the corpus order
        clips = [clips[int(i * step)] for i in range(args.live_clips)]
    refs = [c["text"] for c in clips]
    batch = [stt.transcribe_detailed(c["pcm"], RATE)["text"] for c in clips]
    runs = [live_clip(stt, c, args.pause_ms) for c in clips]
    durations = [len(c["pcm"]) / 2 / RATE for c in clips]
    peeks = [r["peek_s"] for r in runs]
    waits = [r["peek_wait_s"] for r in runs if r["peek_wait_s"] is not None]
    return {
        "mode": "live",
        "plugin": str(Path(sys.modules[WhisperStreamingSTT.__module__].__file__).parent),
        "model": args.model,
        "clips": len(clips),
        "audio_s": round(sum(durations), 1),
        "pause_ms": args.pause_ms,
        "live_peek_wer": round(word_error_rate(refs, [r["text"] for r in runs]), 4),
        "batch_wer_same_clips": round(word_error_rate(refs, batch), 4),
        "peek_all": _spread(peeks),
        "peek_short_le_3_5s": _spread(
            [p for p, d in zip(peeks, durations, strict=True) if d <= 3.5]
        ),
        "peek_long_ge_6s": _spread([p for p, d in zip(peeks, durations, strict=True) if d >= 6.0]),
        "peek_wait": _spread(waits) if waits else None,
        "abandoned_partials": sum(r["abandoned"] or 0 for r in runs) if waits else None,
        "differs_from_batch": [
            {"file": c["file"], "live": r["text"], "batch": b}
            for c, r, b in zip(clips, runs, batch, strict=True)
            if word_error_rate([b], [r["text"]]) > 0
        ][: args.show_diffs],
    }


# The pause decode as it was before the fast path (the defaults' "before").
BEFORE = {
    "final_word_timestamps": True,
    "final_timestamps": True,
    "final_beam_size": 5,
    "final_encoder_window_s": 15.0,
    "final_cpu_threads": 1,
}


class _BusyPartialLane:
    """Partial decodes back to back, as a stream's worker does while a user speaks, on the
    engine of the variant about to peek: `on(engine)` returns once one has started there, so
    each peek finds a partial decode in flight (a pause in the server stops the next one, not
    the one running)."""

    def __init__(self, clip: dict, encoder_window_s: float) -> None:
        self.audio = to_whisper_audio(clip["pcm"], RATE)
        self.encoder_window_s = encoder_window_s
        self.engine = None
        self.started = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def on(self, engine) -> None:
        self.engine = engine
        self.started.clear()
        self.started.wait(30)

    def _run(self) -> None:
        while not self.stop.is_set():
            engine = self.engine
            if engine is None:
                time.sleep(0.01)
                continue
            self.started.set()
            engine.decode(
                self.audio,
                "en",
                beam_size=1,
                word_timestamps=True,
                fallback=False,
                encoder_window_s=self.encoder_window_s,
                complete=False,
                partial=True,
            )

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def pause_mode(clips: list[dict], args: argparse.Namespace) -> dict:
    clips = [c for c in clips if 2.0 <= len(c["pcm"]) / 2 / RATE <= 12.0]
    if args.live_clips and args.live_clips < len(clips):
        step = len(clips) / args.live_clips  # spread over the corpus order
        clips = [clips[int(i * step)] for i in range(args.live_clips)]
    variants = {"before": BEFORE, "after": {}}
    if args.variant:
        variants = {
            name: json.loads(value) for name, value in (v.split("=", 1) for v in args.variant)
        }
    base = {"lang": "en-US", "model": args.model}
    plugins = {name: WhisperStreamingSTT({**base, **conf}) for name, conf in variants.items()}
    feeder = WhisperStreamingSTT(base)
    fresh_feeder = WhisperStreamingSTT({**base, "min_first_decode_ms": 10**9})
    refs = [c["text"] for c in clips]
    durations = [len(c["pcm"]) / 2 / RATE for c in clips]
    batch = [feeder.transcribe_detailed(c["pcm"], RATE)["text"] for c in clips]
    names = list(variants)
    rows: dict[str, dict[str, list]] = {
        n: {s: [None] * len(clips) for s in ("streamed", "fresh")} for n in names
    }
    busy = None
    if args.busy:
        longest = max(clips, key=lambda c: len(c["pcm"]))
        busy = _BusyPartialLane(longest, feeder.settings.encoder_window_s)
    turn = 0
    try:
        for i, clip in enumerate(clips):
            pcm = clip["pcm"] + bytes(2 * RATE * args.pause_ms // 1000)
            for state, source in (("streamed", feeder), ("fresh", fresh_feeder)):
                stream = source.new_stream(background=False)
                for at in range(0, len(pcm), CHUNK):
                    stream.feed(pcm[at : at + CHUNK])
                for _run in range(args.runs):
                    turn += 1
                    order = names[turn % len(names) :] + names[: turn % len(names)]
                    for name in order:
                        stream.engine, stream.config = plugins[name].engine, plugins[name].settings
                        if busy:
                            busy.on(stream.engine)
                        fallbacks = stream.stats.final_fallbacks
                        text = stream.peek()
                        row = rows[name][state][i] or {"times": []}
                        row.update(
                            text=text,
                            path=stream.stats.final_path,
                            fallback=stream.stats.final_fallbacks > fallbacks,
                        )
                        row["times"].append(stream.stats.peek_decode_s)
                        rows[name][state][i] = row
                stream.close()
    finally:
        if busy:
            busy.close()

    def summary(name: str, state: str) -> dict:
        got = rows[name][state]
        times = [statistics.median(r["times"]) for r in got]
        paths: dict[str, int] = {}
        for r in got:
            paths[r["path"]] = paths.get(r["path"], 0) + 1
        return {
            "wer": round(word_error_rate(refs, [r["text"] for r in got]), 4),
            "peek_short_le_3_5s": _spread(
                [t for t, d in zip(times, durations, strict=True) if d <= 3.5]
            ),
            "peek_long_ge_6s": _spread(
                [t for t, d in zip(times, durations, strict=True) if d >= 6.0]
            ),
            "peek_all": _spread(times),
            "fallbacks": sum(r["fallback"] for r in got),
            "paths": paths,
        }

    first = names[0]
    return {
        "mode": "pause",
        "model": args.model,
        "clips": len(clips),
        "short_clips": sum(d <= 3.5 for d in durations),
        "long_clips": sum(d >= 6.0 for d in durations),
        "runs": args.runs,
        "pause_ms": args.pause_ms,
        "busy_partial_lane": args.busy,
        "batch_wer_same_clips": round(word_error_rate(refs, batch), 4),
        "variants": {
            name: {"set": variants[name], **{s: summary(name, s) for s in ("streamed", "fresh")}}
            for name in names
        },
        f"differs_from_{first}": [
            {"file": c["file"], "state": s, first: rows[first][s][i]["text"], n: r["text"]}
            for n in names[1:]
            for s in ("streamed", "fresh")
            for i, (c, r) in enumerate(zip(clips, rows[n][s], strict=True))
            if normalize(r["text"]) != normalize(rows[first][s][i]["text"])
        ][: args.show_diffs],
    }


def _paced_summary(paced: list[dict]) -> dict | None:
    if not paced:  # --realtime-clips 0
        return None
    return {
        "clips": len(paced),
        "stop_to_final_s_median": round(statistics.median(p["stop_to_final_s"] for p in paced), 3),
        "first_partial_s_median": round(
            statistics.median(p["first_partial_s"] or 0.0 for p in paced), 3
        ),
        "partials_median": statistics.median(p["partials"] for p in paced),
        "skipped_slots_total": sum(p["skipped_slots"] for p in paced),
    }


def _count(value: str, least: int) -> int:
    """An integer argument of at least `least` (--runs 0 left nothing to take a median of)."""
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if count < least:
        raise argparse.ArgumentTypeError(f"at least {least}: {value!r}")
    return count


def _lead_ms(value: str) -> list[int]:
    """--leads: comma-separated milliseconds of quiet, each 0-10000."""
    try:
        leads = [int(ms) for ms in value.split(",") if ms.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of milliseconds: {value!r}") from None
    if any(not 0 <= ms <= 10_000 for ms in leads):
        raise argparse.ArgumentTypeError(f"milliseconds from 0 to 10000: {value!r}")
    return leads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument(
        "--runs", type=partial(_count, least=1), default=3, help="passes for timing medians"
    )
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--realtime-clips", type=partial(_count, least=0), default=3)
    parser.add_argument("--mode", choices=("corpus", "live", "pause"), default="corpus")
    parser.add_argument(
        "--variant", action="append", default=[], help="pause: NAME=JSON settings (repeat)"
    )
    parser.add_argument("--busy", action="store_true", help="pause: partial lane kept busy")
    parser.add_argument("--live-clips", type=int, default=0, help="live/pause: this many (0: all)")
    parser.add_argument("--pause-ms", type=int, default=200, help="live: silence before peek")
    parser.add_argument("--show-diffs", type=int, default=0, help="live: list clips unlike batch")
    parser.add_argument("--set", action="append", default=[], help="plugin setting KEY=JSON")
    parser.add_argument(
        "--leads",
        type=_lead_ms,
        default=[],
        help="corpus: also stream every clip after these ms of quiet (e.g. 330,660), for the "
        "streaming WER with the partial decodes falling elsewhere",
    )
    args = parser.parse_args()

    clips = load(args.corpus)
    settings = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    if args.mode == "pause":
        json.dump(pause_mode(clips, args), sys.stdout, indent=2)
        print()
        return
    if args.mode == "live":
        stt = WhisperStreamingSTT({"lang": "en-US", "model": args.model, **settings})
        json.dump({**live_mode(stt, clips, args), "set": settings}, sys.stdout, indent=2)
        print()
        return
    audio_s = sum(len(c["pcm"]) / 2 / RATE for c in clips)
    refs = [c["text"] for c in clips]
    stt = WhisperStreamingSTT({"lang": "en-US", "model": args.model, **settings})

    batch_times, stream_rtf, stream_lat = [], [], []
    clip_times: list[list[float]] = []
    for _ in range(args.runs):
        hyps, times = batch_pass(stt, clips)
        batch_times.append(sum(times))
        clip_times.append(times)
    batch_wer = word_error_rate(refs, hyps)
    stream_wer = None
    for _ in range(args.runs):
        result = streaming_pass(stt, clips)
        stream_wer = word_error_rate(refs, result["finals"])
        stream_rtf.append(result["decode_s"] / audio_s)
        stream_lat.append(statistics.median(result["latencies"]))
        p90 = sorted(result["latencies"])[int(0.9 * len(result["latencies"]))]
    leads = [0] + args.leads
    finals_by_lead = {0: result["finals"]}
    for lead_ms in leads[1:]:
        finals_by_lead[lead_ms] = streaming_pass(stt, clips, lead_ms)["finals"]
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
        "streaming_wer_by_lead_ms": {
            lead_ms: round(word_error_rate(refs, finals), 4)
            for lead_ms, finals in finals_by_lead.items()
        },
        "streaming_wer_all_leads": round(
            word_error_rate(refs * len(leads), [h for f in finals_by_lead.values() for h in f]), 4
        ),
        "batch_rtf_median": round(statistics.median(batch_times) / audio_s, 4),
        # One batch decode per clip, each clip's median over the runs.
        "batch_decode": _spread([statistics.median(t) for t in zip(*clip_times, strict=True)]),
        "streaming_decode_rtf_median": round(statistics.median(stream_rtf), 4),
        "stop_to_final_s_median": round(statistics.median(stream_lat), 3),
        "stop_to_final_s_p90_last_run": round(p90, 3),
        "realtime_paced": _paced_summary(paced),
    }
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
