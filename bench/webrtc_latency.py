"""End of speech → first audio, over WebRTC and over the WebSocket, same clips, one server, one
run (the embedded defaults: the default LLM, Whisper tiny.en, Piper joe, dual VAD). Prints JSON.

Both clients speak the same corpus clips in real time and mark the moment the clip's last
sample left them; then:
- websocket: the first `response.output_audio.delta` arrives (a client plays it at once);
- webrtc: the first audible frame arrives over RTP (Opus, after the server's speaker track and
  the client's jitter buffer), as a browser would play it.
`stopped_to_first_audio_ms` is the same from the server's `input_audio_buffer.speech_stopped`.
Turns alternate between the two transports so that both see the same load."""

import argparse
import asyncio
import base64
import json
import sys
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.*

from _server import Server, running_server
from openai import AsyncOpenAI
from voice_latency import CLIPS, load, send_audio, summary

from tests.webrtc_client import WebRTCClient

LEAD_S, TAIL_S = 0.25, 2.0
INSTRUCTIONS = "Answer in one short sentence."


async def websocket_turn(server, clip: np.ndarray) -> dict:
    client = AsyncOpenAI(api_key="unused", websocket_base_url=server.ws_base)
    async with client.realtime.connect(model="ovos-realtime") as conn:
        async for event in conn:
            if event.type == "session.created":
                break
        await conn.session.update(session={"type": "realtime", "instructions": INSTRUCTIONS})
        marks: dict[str, float] = {}

        async def feed() -> None:
            await send_audio(conn, np.zeros(int(24000 * LEAD_S), np.int16))
            marks["speech_end"] = await send_audio(conn, clip)
            await send_audio(conn, np.zeros(int(24000 * TAIL_S), np.int16))

        feeder = asyncio.create_task(feed())
        async for event in conn:
            now = time.perf_counter()
            if event.type == "input_audio_buffer.speech_stopped":
                marks.setdefault("stopped", now)
            elif event.type == "response.output_audio.delta":
                pcm = np.frombuffer(base64.b64decode(event.delta), "<i2")
                if pcm.size and np.abs(pcm).max() > 300:  # the same test as the WebRTC side
                    marks.setdefault("first_audio", now)
            elif event.type == "response.done":
                break
        await feeder
    return marks


async def webrtc_turn(server, clip: np.ndarray) -> dict:
    client = WebRTCClient()
    try:
        answered = await client.call(server.http_url)
        answered.raise_for_status()
        await client.until("session.created")
        client.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "instructions": INSTRUCTIONS},
            }
        )
        await client.until("session.updated")
        client.mic.say(np.zeros(int(24000 * LEAD_S), np.int16))
        await asyncio.sleep(LEAD_S)
        client.listen_from()
        client.mic.say(np.concatenate([clip, np.zeros(int(24000 * TAIL_S), np.int16)]))
        stopped = await client.until("input_audio_buffer.speech_stopped", 120)
        stopped_at = client.received_at[client.events.index(stopped)]
        await client.until("output_audio_buffer.stopped", 120)
        # The mic marks when its last sample went out; the clip's end is TAIL_S before that.
        speech_end = client.mic.ended_at - TAIL_S
        marks = {"speech_end": speech_end, "stopped": stopped_at}
        if client.first_loud_at is not None:
            marks["first_audio"] = client.first_loud_at
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            await http.post(f"/v1/realtime/calls/{client.call_id}/hangup")
        return marks
    finally:
        await client.close()


def _ms(marks: dict, start: str) -> float | None:
    if "first_audio" not in marks or start not in marks:
        return None
    return (marks["first_audio"] - marks[start]) * 1000


async def measure(server, runs: int) -> dict:
    clips = [load(name) for name in CLIPS]
    await websocket_turn(server, clips[0])  # warm-up, both ways
    await webrtc_turn(server, clips[0])
    results: dict[str, dict[str, list[float]]] = {
        "websocket": {"speech_end_to_first_audio_ms": [], "stopped_to_first_audio_ms": []},
        "webrtc": {"speech_end_to_first_audio_ms": [], "stopped_to_first_audio_ms": []},
    }
    # perf_counter (WebSocket side) and monotonic (WebRTC side) are each used within one turn.
    for i in range(runs):
        clip = clips[i % len(clips)]
        for name, turn in (("websocket", websocket_turn), ("webrtc", webrtc_turn)):
            marks = await turn(server, clip)
            for key, start in (
                ("speech_end_to_first_audio_ms", "speech_end"),
                ("stopped_to_first_audio_ms", "stopped"),
            ):
                value = _ms(marks, start)
                if value is not None:
                    results[name][key].append(value)
    return {
        name: {key: summary(values) for key, values in figures.items()}
        for name, figures in results.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument(
        "--server",
        help="the http URL of a server already running (with webrtc.host_addresses "
        "[127.0.0.1]); default: start one on the embedded defaults",
    )
    args = parser.parse_args()
    if args.server:
        url = args.server.rstrip("/")
        server = Server("ws" + url.removeprefix("http") + "/v1", url, 0)
        result = asyncio.run(measure(server, args.runs))
    else:
        config = {"llm": {"max_output_tokens": 48}, "webrtc": {"host_addresses": ["127.0.0.1"]}}
        with running_server(config) as server:
            result = asyncio.run(measure(server, args.runs))
    print(json.dumps({"bench": "webrtc_latency", "runs": args.runs, **result}, indent=2))


if __name__ == "__main__":
    main()
