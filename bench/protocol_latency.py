"""Protocol latency on the embedded default brain (SmolLM2 in llama.cpp), through the openai SDK.

- first_text_delta_ms: `response.create` sent → first `response.output_text.delta` received
- cancel_ms: `response.cancel` sent (mid-stream) → `response.done` (cancelled) received

Prints JSON with median and p95 over --runs runs (default 20).
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import running_server
from _stats import summary
from openai import AsyncOpenAI

PROMPTS = ["What is the capital of France?", "Name three fruits.", "Tell me about the moon."]


async def until(conn, event_type: str):
    async for event in conn:
        if event.type == event_type:
            return event
    raise RuntimeError("connection closed")


async def measure(ws_base: str, runs: int) -> dict:
    client = AsyncOpenAI(api_key="unused", websocket_base_url=ws_base)
    first_delta, cancel = [], []
    async with client.realtime.connect(model="ovos-realtime") as conn:
        await until(conn, "session.created")
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await until(conn, "session.updated")
        for run in range(runs + 1):  # the first run warms caches and is not counted
            await conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": PROMPTS[run % len(PROMPTS)]}],
                }
            )
            item = await until(conn, "conversation.item.done")
            # Out-of-band, with the user item deleted after each run: every prompt has one turn.
            sent = time.perf_counter()
            await conn.response.create(response={"conversation": "none"})
            await until(conn, "response.output_text.delta")
            got_delta = time.perf_counter()
            await conn.response.cancel()
            await until(conn, "response.done")
            done = time.perf_counter()
            await conn.conversation.item.delete(item_id=item.item.id)
            await until(conn, "conversation.item.deleted")
            if run:
                first_delta.append((got_delta - sent) * 1000)
                cancel.append((done - got_delta) * 1000)
    return {
        "first_text_delta_ms": summary(first_delta, digits=2),
        "cancel_ms": summary(cancel, digits=2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with running_server({"voice": {"enabled": False}}) as server:
        result = asyncio.run(measure(server.ws_base, args.runs))
    print(
        json.dumps(
            {"bench": "protocol_latency", "brain": "embedded SmolLM2-135M", **result}, indent=2
        )
    )


if __name__ == "__main__":
    main()
