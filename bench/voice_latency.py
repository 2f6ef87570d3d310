"""Voice loop figures on the embedded defaults (the default LLM, Whisper tiny.en, Piper joe, dual VAD),
through the openai SDK, with real speech streamed at real-time pace. Prints JSON.

- stopped_to_first_audio_ms: `input_audio_buffer.speech_stopped` → first `response.output_audio.delta`
- speech_end_to_transcript_ms: last speech sample sent → `…input_audio_transcription.completed`
  (includes the 500 ms silence window that ends the turn)
- text_to_first_audio_ms: `response.create` (text item) → first audio delta
- cancel_ms: `response.cancel` mid-audio → `response.done`
- concurrent: per number of sessions speaking at once, the turn latency and whether audio keeps
  up with real time (audio seconds produced per wall second, over the response)
- idle_session_mib: server memory per open idle session

--conversation measures what a user lives instead: one session, --turns turns of read speech
(2.5–11 s clips, short and long alternating) at real-time pace, the microphone's silence after
each until the answer is done. Per turn length (short ≤ 3.5 s of speech, long ≥ 6 s, all):
`speech_stopped` → first audio and end of speech (the last speech sample sent) → first audio,
median and p95; the stages' medians from the server's DEBUG lines (bench/_stage_log.py): STT
final decode, LLM first token, first clause, TTS first chunk; playback (audio seconds per wall
second over each answer, underruns of a real-time player); beside them the fresh-session
figure (a new session per turn, as above) and two sessions speaking at once. `--compare DIR`
runs the same on another checkout (a git worktree) in the same run, turn by turn alternately,
and prints {"before": …, "after": …}. `--voice af_heart` (any Kokoro voice) speaks with Kokoro.
`--turn-detection '{"type": "semantic_vad"}'` sets the conversations' turn detection (fresh
sessions keep server_vad); `--word-list` makes semantic_vad decide by its word list instead of
its end-of-turn models (the server's default).
"""

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.corpus

from _conversation import Clip, Conversation
from _server import running_server
from _stage_log import read_marks, turn_stages
from _stats import summary as stats_summary
from openai import AsyncOpenAI

from tests.corpus import load_clip

CLIPS = [
    "cmuarctic_aew_arctic_a0003.wav",
    "vctk_p301_102.wav",
    "vctk_p238_165.wav",
    "cmuarctic_unknownspk_arctic_a0010.wav",
    "vctk_p314_272.wav",
    "ljspeech_LJ001-0013.wav",
]
CHUNK_MS = 40
# The conversation: short (≤ 3.5 s of speech) and long (≥ 6 s) turns alternating.
SHORT_CLIPS = [
    "ljspeech_LJ001-0013.wav",  # 2.5 s of speech
    "cmuarctic_axb_arctic_a0004.wav",  # 2.5 s
    "vctk_p317_166.wav",  # 2.7 s
    "cmuarctic_unknownspk_arctic_a0010.wav",  # 3.0 s
    "cmuarctic_aew_arctic_a0003.wav",  # 3.4 s
]
LONG_CLIPS = [
    "ljspeech_LJ001-0026.wav",  # 6.1 s
    "ljspeech_LJ001-0030.wav",  # 6.8 s
    "ljspeech_LJ001-0009.wav",  # 7.4 s
    "ljspeech_LJ001-0010.wav",  # 8.7 s
    "jfk_inaugural_ask_not.wav",  # 10.9 s
]
CONVERSATION = [name for pair in zip(SHORT_CLIPS, LONG_CLIPS, strict=True) for name in pair]
PIPER_VOICES = ("piper", "joe", "en_US-joe-medium")


# The voice loop's latencies carry p99 too (bench/webrtc_latency.py prints them alike).
summary = partial(stats_summary, tails=(0.95, 0.99))


def load(name: str) -> np.ndarray:
    """A corpus clip (tests/data/speech) at 24 kHz, resampled with soxr."""
    return load_clip(name, 24000)


async def send_audio(conn, samples: np.ndarray) -> float:
    """Stream at real-time pace; returns the wall time the last chunk was sent."""
    step = 24000 * CHUNK_MS // 1000
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, offset in enumerate(range(0, samples.size, step)):
        await conn.input_audio_buffer.append(
            audio=base64.b64encode(samples[offset : offset + step].tobytes()).decode()
        )
        delay = start + (i + 1) * CHUNK_MS / 1000 - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
    return time.perf_counter()


async def spoken_turn(client: AsyncOpenAI, clip: np.ndarray) -> dict:
    async with client.realtime.connect(model="ovos-realtime") as conn:
        async for event in conn:
            if event.type == "session.created":
                break
        await conn.session.update(
            session={"type": "realtime", "instructions": "Answer in one short sentence."}
        )
        lead = np.zeros(24000 // 4, np.int16)
        tail = np.zeros(24000 * 2, np.int16)
        speech_end = {}

        async def feed() -> None:
            await send_audio(conn, lead)
            speech_end["t"] = await send_audio(conn, clip)
            await send_audio(conn, tail)

        feeder = asyncio.create_task(feed())
        marks: dict[str, float] = {}
        audio_ms = 0.0
        async for event in conn:
            now = time.perf_counter()
            if event.type == "input_audio_buffer.speech_stopped":
                marks.setdefault("stopped", now)
            elif event.type == "conversation.item.input_audio_transcription.completed":
                marks.setdefault("transcript", now)
            elif event.type == "response.output_audio.delta":
                marks.setdefault("first_audio", now)
                audio_ms += len(base64.b64decode(event.delta)) / 2 / 24
            elif event.type == "response.done":
                marks["done"] = now
                break
        await feeder  # a pause inside the clip may end the turn before the clip is all sent
        result = {
            "stopped_to_first_audio_ms": (marks["first_audio"] - marks["stopped"]) * 1000,
            "speech_end_to_transcript_ms": (marks["transcript"] - speech_end["t"]) * 1000,
        }
        wall = marks["done"] - marks["first_audio"]
        result["audio_per_wall_s"] = (audio_ms / 1000) / wall if wall > 0 else float("inf")
        return result


async def text_turn_and_cancel(client: AsyncOpenAI, runs: int) -> tuple[list[float], list[float]]:
    first_audio, cancel = [], []
    async with client.realtime.connect(model="ovos-realtime") as conn:
        async for event in conn:
            if event.type == "session.created":
                break
        for run in range(runs + 1):
            await conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Tell me about the sea."}],
                }
            )
            async for event in conn:
                if event.type == "conversation.item.done":
                    item_id = event.item.id
                    break
            sent = time.perf_counter()
            await conn.response.create(response={"conversation": "none"})
            got = None
            async for event in conn:
                if event.type == "response.output_audio.delta":
                    got = time.perf_counter()
                    break
            await conn.response.cancel()
            async for event in conn:
                if event.type == "response.done":
                    break
            done = time.perf_counter()
            if run:  # the first run warms up
                first_audio.append((got - sent) * 1000)
                cancel.append((done - got) * 1000)
            # Keep every prompt the same size: drop the user item again.
            await conn.conversation.item.delete(item_id=item_id)
            async for event in conn:
                if event.type == "conversation.item.deleted":
                    break
    return first_audio, cancel


async def idle_memory(server, client: AsyncOpenAI, count: int) -> float:
    before = server.rss_mib()
    conns = []
    for _ in range(count):
        conn = await client.realtime.connect(model="ovos-realtime").enter()
        async for event in conn:
            if event.type == "session.created":
                break
        conns.append(conn)
    await asyncio.sleep(1)
    after = server.rss_mib()
    for conn in conns:
        await conn.close()
    return (after - before) / count


async def measure(server, runs: int, max_concurrent: int) -> dict:
    client = AsyncOpenAI(api_key="unused", websocket_base_url=server.ws_base)
    clips = [load(name) for name in CLIPS]
    await spoken_turn(client, clips[0])  # warm-up
    turns = [await spoken_turn(client, clips[i % len(clips)]) for i in range(runs)]
    first_audio, cancel = await text_turn_and_cancel(client, runs)
    concurrent = {}
    for n in range(2, max_concurrent + 1):
        results = await asyncio.gather(
            *(spoken_turn(client, clips[i % len(clips)]) for i in range(n))
        )
        concurrent[n] = {
            "stopped_to_first_audio_ms": summary([r["stopped_to_first_audio_ms"] for r in results]),
            "min_audio_per_wall_s": round(min(r["audio_per_wall_s"] for r in results), 2),
            "keeps_up": all(r["audio_per_wall_s"] >= 1.0 for r in results),
        }
    return {
        "stopped_to_first_audio_ms": summary([t["stopped_to_first_audio_ms"] for t in turns]),
        "speech_end_to_transcript_ms": summary([t["speech_end_to_transcript_ms"] for t in turns]),
        "single_session_audio_per_wall_s": round(min(t["audio_per_wall_s"] for t in turns), 2),
        "text_to_first_audio_ms": summary(first_audio),
        "cancel_ms": summary(cancel),
        "concurrent_sessions": concurrent,
        "idle_session_mib": round(await idle_memory(server, client, 20), 2),
    }


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"cpu": model, "cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}


def by_length(turns: list[dict], key: str) -> dict:
    """`key` over short turns (≤ 3.5 s of speech), long ones (≥ 6 s) and all of them."""
    values = {
        "short": [t[key] for t in turns if key in t and t["speech_s"] <= 3.5],
        "long": [t[key] for t in turns if key in t and t["speech_s"] >= 6.0],
        "all": [t[key] for t in turns if key in t],
    }
    out = {name: summary(v) for name, v in values.items()}
    if values["short"] and values["long"]:
        out["long_over_short"] = round(
            statistics.median(values["long"]) / statistics.median(values["short"]), 2
        )
    return out


def medians(rows: list[dict], keys: list[str]) -> dict:
    out = {}
    for key in keys:
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = round(statistics.median(values), 1) if values else None
    return out


def playback_summary(turns: list[dict]) -> dict:
    rates = [t["audio_per_wall_s"] for t in turns if t.get("audio_per_wall_s")]
    return {
        "audio_per_wall_s": {
            "min": min(rates, default=None),
            "median": round(statistics.median(rates), 2) if rates else None,
        },
        "underruns": sum(t.get("underruns", 0) for t in turns),
        "turns_with_underruns": sum(1 for t in turns if t.get("underruns")),
        "stall_ms": round(sum(t.get("stall_ms", 0.0) for t in turns), 1),
    }


STAGES = [
    "stopped_to_transcript_ms",
    "stt_final_ms",
    "stt_final_audio_s",
    "stt_peek_wait_ms",
    "stt_peek_decoded_s",
    "stt_encoder_ms",
    "llm_first_token_ms",
    "first_clause_ms",
    "tts_first_chunk_ms",
]


class Side:
    """One server (this checkout, or --compare's) and what was measured on it."""

    def __init__(self, name: str, server, turn_detection: dict | None = None) -> None:
        self.name = name
        self.server = server
        self.turn_detection = turn_detection  # the conversations' (fresh sessions: the default)
        self.client = AsyncOpenAI(api_key="unused", websocket_base_url=server.ws_base)
        self.turns: list[dict] = []
        self.fresh: list[dict] = []
        self.pair: list[dict] = []
        self.errors: list[str] = []

    def conversation(self) -> Conversation:
        return Conversation(self.client, INSTRUCTIONS, turn_detection=self.turn_detection)

    def report(self) -> dict:
        marks = read_marks(self.server.log_path)
        for turn in self.turns:
            if turn.get("first_audio"):
                turn.update(turn_stages(marks, turn["speech_end"], turn["first_audio"]))
        single = [t.get("stopped_to_first_audio_ms") for t in self.turns]
        single = [v for v in single if v is not None]
        pair = [
            t["stopped_to_first_audio_ms"] for t in self.pair if "stopped_to_first_audio_ms" in t
        ]
        return {
            "errors": self.errors,
            "conversation": {
                "stopped_to_first_audio_ms": by_length(self.turns, "stopped_to_first_audio_ms"),
                "speech_end_to_first_audio_ms": by_length(
                    self.turns, "speech_end_to_first_audio_ms"
                ),
                "stages_ms_median": medians(self.turns, STAGES),
                "playback": playback_summary(self.turns),
                "turns": [
                    {
                        k: v
                        for k, v in t.items()
                        if k not in ("speech_end", "stopped", "first_audio")
                    }
                    for t in self.turns
                ],
            },
            "fresh_session": {
                "stopped_to_first_audio_ms": summary(
                    [t["stopped_to_first_audio_ms"] for t in self.fresh]
                ),
                "min_audio_per_wall_s": round(min(t["audio_per_wall_s"] for t in self.fresh), 2)
                if self.fresh
                else None,
            },
            "two_sessions_at_once": {
                "stopped_to_first_audio_ms": by_length(self.pair, "stopped_to_first_audio_ms"),
                "over_single_session": round(statistics.median(pair) / statistics.median(single), 2)
                if pair and single
                else None,
                "playback": playback_summary(self.pair),
            },
        }


def progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def short(turn: dict) -> str:
    keys = ("clip", "speech_s", "turn_ends_heard", "stopped_to_first_audio_ms", "underruns")
    return " ".join(f"{key}={turn.get(key)}" for key in keys)


async def converse(sides: list[Side], turns: int, fresh_runs: int, pair_turns: int) -> None:
    """Each step runs on every side in turn (the first side alternates), so that the machine's
    load hits both alike. A phase that fails is noted in the report; the others still count."""
    for phase in (_conversation_phase, _fresh_phase, _pair_phase):
        try:
            await phase(sides, turns, fresh_runs, pair_turns)
        except Exception as exc:
            progress(f"{phase.__name__} failed: {exc!r}")
            for side in sides:
                side.errors.append(f"{phase.__name__}: {exc!r}")


def _order(sides: list[Side], step: int) -> list[Side]:
    return sides if step % 2 == 0 else sides[::-1]


def _clips() -> dict[str, Clip]:
    return {name: Clip.load(name, load(name)) for name in CONVERSATION}


INSTRUCTIONS = "Answer in one short sentence."


async def _conversation_phase(sides: list[Side], turns: int, *_: int) -> None:
    clips = _clips()
    for side in sides:  # warm-up: the first turn loads what loads lazily
        await spoken_turn(side.client, load(CLIPS[0]))
        progress(f"{side.name}: warmed up")
    talks = {side.name: await side.conversation().open() for side in sides}
    try:
        for step in range(turns):
            for side in _order(sides, step):
                clip = clips[CONVERSATION[step % len(CONVERSATION)]]
                side.turns.append(await talks[side.name].turn(clip))
                progress(f"{side.name}: turn {step + 1}/{turns} {short(side.turns[-1])}")
    finally:
        for talk in talks.values():
            await talk.close()


async def _fresh_phase(sides: list[Side], turns: int, fresh_runs: int, *_: int) -> None:
    fresh_clips = [load(name) for name in CLIPS]
    for step in range(fresh_runs):
        for side in _order(sides, step):
            side.fresh.append(await spoken_turn(side.client, fresh_clips[step % len(fresh_clips)]))
            progress(f"{side.name}: fresh session {step + 1}/{fresh_runs}")


async def _pair_phase(sides: list[Side], turns: int, fresh_runs: int, pair_turns: int) -> None:
    """Each side's two sessions answer the same turn at once; the sides take turns, as in the
    other phases, so that a change in the machine's load hits both alike."""
    clips = _clips()
    pairs = {side.name: [await side.conversation().open() for _ in range(2)] for side in sides}
    try:
        for step in range(pair_turns):
            clip = clips[CONVERSATION[step % len(CONVERSATION)]]
            for side in _order(sides, step):
                pair = pairs[side.name]
                side.pair.extend(await asyncio.gather(*(talk.turn(clip) for talk in pair)))
                progress(f"{side.name}: two sessions, turn {step + 1}/{pair_turns}")
    finally:
        for pair in pairs.values():
            for talk in pair:
                await talk.close()


def server_config(args: argparse.Namespace) -> dict:
    llm = {"max_output_tokens": 48, **({"model": args.llm_model} if args.llm_model else {})}
    config: dict = {"llm": llm}
    if args.word_list:
        config["voice"] = {"turn_model": False, "turn_text_model": False}
    extra = json.loads(args.tts_config) if args.tts_config else {}
    if args.voice and args.voice not in PIPER_VOICES:
        module = "ovos-tts-plugin-kokoro-stream"
        voice = "af_heart" if args.voice == "kokoro" else args.voice
        config.setdefault("voice", {})["tts"] = {
            "module": module,
            module: {"voice": voice, **extra},
        }
    elif extra:
        module = "ovos-tts-plugin-phoonnx-stream"
        config.setdefault("voice", {})["tts"] = {"module": module, module: extra}
    return config


def main_conversation(args: argparse.Namespace) -> dict:
    config = server_config(args)
    turn_detection = json.loads(args.turn_detection) if args.turn_detection else None
    with contextlib.ExitStack() as stack:
        sides = []
        logs = Path(args.log_dir) if args.log_dir else None
        if logs:
            logs.mkdir(parents=True, exist_ok=True)
        if args.compare:
            before = stack.enter_context(
                running_server(
                    config,
                    log_path=str(logs / "before.log") if logs else None,
                    code=str(Path(args.compare).resolve()),
                    stage_log=True,
                )
            )
            sides.append(Side("before", before, turn_detection))
        after = running_server(
            config, log_path=str(logs / "after.log") if logs else None, stage_log=True
        )
        sides.append(Side("after", stack.enter_context(after), turn_detection))
        progress("server(s) up")
        asyncio.run(converse(sides, args.turns, args.fresh_runs, args.pair_turns))
        reports = {side.name: side.report() for side in sides}
    head = {
        "bench": "voice_latency",
        "mode": "conversation",
        "machine": machine(),
        "voice": args.voice or "piper",
        "tts_config": args.tts_config,
        "llm_model": args.llm_model,
        "turn_detection": turn_detection,
        "semantic_vad_by": "word list" if args.word_list else "models",
        "turns": args.turns,
    }
    if args.compare:
        return {**head, "before_code": str(Path(args.compare).resolve()), **reports}
    return {**head, **reports["after"]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--max-concurrent", type=int, default=4)
    parser.add_argument(
        "--llm-model",
        help="llm.model for the server (e.g. smollm2-135m-instruct); default: its own",
    )
    parser.add_argument(
        "--conversation", action="store_true", help="one session, many turns (see above)"
    )
    parser.add_argument("--turns", type=int, default=10, help="conversation turns (default 10)")
    parser.add_argument(
        "--fresh-runs", type=int, default=5, help="conversation mode: fresh-session turns"
    )
    parser.add_argument(
        "--pair-turns", type=int, default=4, help="conversation mode: turns of 2 sessions at once"
    )
    parser.add_argument(
        "--compare", metavar="DIR", help="conversation mode: also run this checkout, alternately"
    )
    parser.add_argument(
        "--voice",
        help="TTS voice: piper (default) or a Kokoro voice (af_heart, bf_emma…; 'kokoro' = af_heart)",
    )
    parser.add_argument(
        "--tts-config", help="more TTS plugin settings as JSON, e.g. '{\"threads\": 2}'"
    )
    parser.add_argument("--log-dir", help="conversation mode: keep the server logs here")
    parser.add_argument(
        "--turn-detection",
        help='conversation mode: the sessions\' turn_detection as JSON, e.g. \'{"type": "semantic_vad"}\'',
    )
    parser.add_argument(
        "--word-list",
        action="store_true",
        help="semantic_vad decides by the word list: the server's voice.turn_model and "
        "voice.turn_text_model false",
    )
    args = parser.parse_args()
    if args.conversation:
        print(json.dumps(main_conversation(args), indent=2))
        return
    with running_server(server_config(args)) as server:
        result = asyncio.run(measure(server, args.runs, args.max_concurrent))
    print(json.dumps({"bench": "voice_latency", "llm_model": args.llm_model, **result}, indent=2))


if __name__ == "__main__":
    main()
