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
"""

import argparse
import asyncio
import base64
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.corpus

from _server import running_server
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


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {}

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))], 1)

    return {
        "median": round(statistics.median(ordered), 1),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "n": len(ordered),
    }


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--max-concurrent", type=int, default=4)
    parser.add_argument(
        "--llm-model",
        help="llm.model for the server (e.g. smollm2-135m-instruct); default: its own",
    )
    args = parser.parse_args()
    llm = {"max_output_tokens": 48, **({"model": args.llm_model} if args.llm_model else {})}
    with running_server({"llm": llm}) as server:
        result = asyncio.run(measure(server, args.runs, args.max_concurrent))
    print(json.dumps({"bench": "voice_latency", "llm_model": args.llm_model, **result}, indent=2))


if __name__ == "__main__":
    main()
