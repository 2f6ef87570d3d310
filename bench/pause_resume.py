"""A pause's decode that resumes after a pause the speaker talked over, against one that does
not, on streams that hold pauses. Prints JSON.

The STT's `resume_after_pause`: when the speaker goes on after a pause whose decode had
finished (and a later partial decode heard its words too), the next pause's decode starts in
the quiet of that pause with its text as the prompt, instead of at the last committed word
(or at the turn's start when nothing is committed). It pays where few words are committed by
the end of a long turn: in the server, whose hesitations' decodes stop the partial decodes in
flight. Here partial decodes run every `--decode-interval-ms` (2,000 by default, against the
plugin's 1,000) so that the turns reach their end with few words committed, as there.

The streams are bench/turn_taking.py's: every speech clip of the corpus with its own
background around it ("natural": its own pauses only), and the same clip with a 600-1,200 ms
hesitation put in mid-phrase ("hesitation"). Each is fed at real-time pace through the voice
pipeline (dual VAD, server_vad with a 1,400 ms window, so the hesitation does not end the
turn), a peek at every pause as the server speculates, and the turn's final text at the stop.
Both variants (two STT instances) take each stream in turn, in an order that alternates per
clip. Reported per stream kind and variant: WER against the clip's text, the final decode's
time (median, p95) and which path it took; and the texts that differ between the variants.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.corpus

from _stats import summary
from ovos_realtime.voice.engines import VoiceEngines
from ovos_realtime.voice.pipeline import VoicePipeline
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_stt_plugin_whisper_streaming import WhisperStreamingSTT
from ovos_stt_plugin_whisper_streaming.evaluation import word_error_rate
from ovos_vad_plugin_dual import DualVADConfig, FrameVAD
from turn_taking import hesitation_point, streams

from tests.corpus import read_wav, speech_rows

RATE = 16000
CHUNK = 1024  # 32 ms of PCM16
WINDOW_MS = 1400  # longer than the longest hesitation put in
VAD = {"module": "ovos-vad-plugin-dual"}


async def final_text(runtime: VoiceRuntime, audio: np.ndarray) -> dict:
    """One stream at real-time pace: the turn's final text and how its last decode went."""
    pipeline = VoicePipeline(runtime, "bench", turn_model=False)
    pipeline.configure(
        {"type": "audio/pcm", "rate": RATE},
        {"type": "server_vad", "silence_duration_ms": WINDOW_MS},
    )
    wire = audio.astype("<i2").tobytes()
    started = time.monotonic()
    peeks: list[asyncio.Future[str]] = []  # kept: the loop holds tasks weakly
    for offset in range(0, len(wire), CHUNK):
        async for event in pipeline.feed(wire[offset : offset + CHUNK]):
            if event.kind == "paused" and pipeline.can_peek:
                peeks.append(asyncio.ensure_future(pipeline.peek()))
            elif event.kind == "stopped":
                stream = pipeline._stt._stream  # the STT's own stream: its stats
                text = await pipeline.finish()
                pipeline.close()
                return {
                    "text": text,
                    "path": stream.stats.final_path,
                    "decode_s": stream.stats.peek_decode_s,
                    "stop_ms": event.audio_ms,
                }
        await asyncio.sleep(max(0.0, started + (offset + CHUNK) / 2 / RATE - time.monotonic()))
    pipeline.close()
    return {"text": "", "path": None, "decode_s": None, "stop_ms": None}


def report(refs: list[str], runs: list[dict]) -> dict:
    paths: dict[str, int] = {}
    for run in runs:
        paths[run["path"]] = paths.get(run["path"], 0) + 1
    return {
        "wer": round(word_error_rate(refs, [r["text"] for r in runs]) * 100, 2),
        "final_decode": summary(
            [r["decode_s"] for r in runs], unit="_ms", digits=0, scale=1000, count=False
        ),
        "paths": paths,
    }


async def run(args: argparse.Namespace) -> dict:
    variants = {
        "without": {"resume_after_pause": False, "decode_interval_ms": args.decode_interval_ms},
        "with": {"resume_after_pause": True, "decode_interval_ms": args.decode_interval_ms},
    }
    runtimes = {
        name: VoiceRuntime(VoiceEngines(WhisperStreamingSTT(config), None, VAD))
        for name, config in variants.items()
    }
    stt = runtimes["without"].engines.stt
    vad = FrameVAD(DualVADConfig())
    kinds = ("natural", "hesitation")
    refs: dict[str, list[str]] = {kind: [] for kind in kinds}
    runs = {kind: {name: [] for name in variants} for kind in kinds}
    differ: list[dict] = []
    for index, row in enumerate(speech_rows()[: args.clips or None]):
        pcm, _ = read_wav(row["file"])
        words = stt.transcribe_detailed(pcm, RATE, "en", word_timestamps=True)["words"]
        both = streams(index, pcm, hesitation_point(pcm, words), vad)
        for kind, audio in (("natural", both.complete), ("hesitation", both.hesitation)):
            if audio is None:
                continue
            refs[kind].append(row["text"])
            order = list(variants) if index % 2 == 0 else list(reversed(variants))
            found = {name: await final_text(runtimes[name], audio) for name in order}
            for name, result in found.items():
                runs[kind][name].append(result)
            if found["with"]["text"] != found["without"]["text"]:
                texts = {name: found[name]["text"] for name in variants}
                differ.append({"file": row["file"], "stream": kind, **texts})
            times = (
                f"{n} {r['path']} {(r['decode_s'] or 0) * 1000:.0f} ms" for n, r in found.items()
            )
            print(f"{row['file']} {kind}: {', '.join(times)}", file=sys.stderr, flush=True)
    for runtime in runtimes.values():
        runtime.shutdown()
    return {
        "bench": "pause_resume",
        "decode_interval_ms": args.decode_interval_ms,
        "window_ms": WINDOW_MS,
        "streams": {
            kind: {"n": len(refs[kind]), **{n: report(refs[kind], runs[kind][n]) for n in variants}}
            for kind in kinds
        },
        "texts_that_differ": differ,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=0, help="only the first N speech clips")
    parser.add_argument("--decode-interval-ms", type=int, default=2000)
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
