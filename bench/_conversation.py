"""One Realtime session talked to as a user would: clips of read speech streamed at real-time
pace, the microphone's silence after each until the answer is done, then the next turn.

Used by bench/voice_latency.py --conversation. Times are epoch seconds (time.time()), so that
they can be laid over the server's log (bench/_stage_log.py).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from dataclasses import dataclass

import numpy as np
from openai import AsyncOpenAI

CHUNK_MS = 40
RATE = 24000
TURN_TIMEOUT_S = 90.0
GAP_S = 0.6  # the user waits this long after the answer before speaking again


@dataclass
class Clip:
    name: str
    samples: np.ndarray  # int16 at 24 kHz
    speech_end: int  # sample index just after the last speech frame

    @property
    def speech_s(self) -> float:
        return self.speech_end / RATE

    @classmethod
    def load(cls, name: str, samples: np.ndarray) -> Clip:
        return cls(name, samples, speech_end_sample(samples))


def speech_end_sample(samples: np.ndarray) -> int:
    """Where the speech ends: the end of the last 20 ms frame within 40 dB of the loudest one
    (and above -55 dBFS)."""
    frame = RATE // 50
    count = samples.size // frame
    rms = np.sqrt((samples[: count * frame].astype(np.float32).reshape(count, frame) ** 2).mean(1))
    db = 20 * np.log10(rms / 32768 + 1e-12)
    loud = np.nonzero(db > max(db.max() - 40, -55))[0]
    return int((loud[-1] + 1) * frame) if loud.size else samples.size


def playback(deltas: list[tuple[float, float]]) -> dict:
    """A player that starts with the first delta and plays at real time: how often it ran dry
    (underruns), for how long in all, and audio seconds produced per wall second."""
    if not deltas:
        return {"audio_s": 0.0, "audio_per_wall_s": None, "underruns": 0, "stall_ms": 0.0}
    start = deltas[0][0]
    plays_until = start
    underruns, stall = 0, 0.0
    for t, seconds in deltas:
        if t > plays_until + 0.001:
            underruns += 1
            stall += t - plays_until
            plays_until = t
        plays_until += seconds
    audio = sum(seconds for _, seconds in deltas)
    wall = deltas[-1][0] - start
    return {
        "audio_s": round(audio, 2),
        # over the response: from its first delta to its last, as the client got them
        "audio_per_wall_s": round(audio / wall, 2) if wall > 0 else None,
        "underruns": underruns,
        "stall_ms": round(stall * 1000, 1),
    }


class Conversation:
    """One open session; `turn(clip)` speaks a clip and waits for the answer to be done."""

    def __init__(
        self,
        client: AsyncOpenAI,
        instructions: str,
        voice: str | None = None,
        turn_detection: dict | None = None,
    ) -> None:
        self.client = client
        self.instructions = instructions
        self.voice = voice
        self.turn_detection = turn_detection  # None: the server's default (server_vad)
        self.conn = None
        self._events: asyncio.Queue = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    async def open(self) -> Conversation:
        # A loaded machine can hold the server's loop past websockets' 20 s ping timeout.
        options: dict = {"ping_timeout": 120}
        self.conn = await self.client.realtime.connect(
            model="ovos-realtime", websocket_connection_options=options
        ).enter()
        async for event in self.conn:
            if event.type == "session.created":
                break
        session: dict = {"type": "realtime", "instructions": self.instructions}
        if self.turn_detection:
            session["audio"] = {"input": {"turn_detection": self.turn_detection}}
        await self.conn.session.update(session=session)
        async for event in self.conn:
            if event.type == "session.updated":
                break
            if event.type == "error":
                raise RuntimeError(f"session.update refused: {event.error.message}")
        self._reader = asyncio.create_task(self._read())
        return self

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self.conn is not None:
            await self.conn.close()

    async def _read(self) -> None:
        async for event in self.conn:
            self._events.put_nowait((time.time(), event))

    async def _send(self, samples: np.ndarray, marks: dict, speech_end: int | None) -> None:
        step = RATE * CHUNK_MS // 1000
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, offset in enumerate(range(0, samples.size, step)):
            await self.conn.input_audio_buffer.append(
                audio=base64.b64encode(samples[offset : offset + step].tobytes()).decode()
            )
            if speech_end is not None and offset < speech_end <= offset + step:
                marks["speech_end"] = time.time()
            delay = start + (i + 1) * CHUNK_MS / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def _speak(self, clip: Clip, marks: dict, stop: asyncio.Event) -> None:
        """The clip, then the microphone's silence until the answer is done."""
        await self._send(clip.samples, marks, clip.speech_end)
        marks.setdefault("speech_end", time.time())
        marks["clip_sent"] = time.time()
        quiet = np.zeros(RATE * CHUNK_MS // 1000, np.int16)
        while not stop.is_set():
            await self._send(quiet, marks, None)

    async def turn(self, clip: Clip) -> dict:
        marks: dict = {}
        stop = asyncio.Event()
        speaker = asyncio.create_task(self._speak(clip, marks, stop))
        stopped: list[tuple[int, float]] = []  # (event number, time) of each speech_stopped
        created: dict[str, int] = {}  # response id → event number of response.created
        deltas: dict[str, list[tuple[float, float]]] = {}
        transcripts: dict[str, tuple[float, str]] = {}
        committed: list[str] = []
        answer = None
        number = 0
        deadline = time.time() + clip.samples.size / RATE + TURN_TIMEOUT_S
        try:
            while answer is None:
                timeout = deadline - time.time()
                if timeout <= 0:
                    raise TimeoutError(f"{clip.name}: no answer in time")
                t, event = await asyncio.wait_for(self._events.get(), timeout)
                number += 1
                kind = event.type
                if kind == "input_audio_buffer.speech_stopped":
                    stopped.append((number, t))
                elif kind == "input_audio_buffer.committed":
                    committed.append(event.item_id)
                elif kind == "conversation.item.input_audio_transcription.completed":
                    transcripts[event.item_id] = (t, event.transcript)
                elif kind == "response.created":
                    created[event.response.id] = number
                elif kind == "response.output_audio.delta":
                    seconds = len(base64.b64decode(event.delta)) / 2 / RATE
                    deltas.setdefault(event.response_id, []).append((t, seconds))
                elif kind == "response.done":
                    rid = event.response.id
                    # The answer to the whole clip: created after its last speech_stopped,
                    # once the clip is all sent (a pause inside a clip may end a turn early).
                    if "clip_sent" in marks and stopped and created.get(rid, 0) > stopped[-1][0]:
                        answer = (rid, event.response.status)
                elif kind == "error":
                    raise RuntimeError(f"{clip.name}: server error {event.error.message}")
            # The transcript may come after the answer started; give it a moment.
            item = committed[-1] if committed else None
            until = time.time() + 5
            while item not in transcripts and time.time() < until:
                with contextlib.suppress(asyncio.TimeoutError):
                    t, event = await asyncio.wait_for(self._events.get(), until - time.time())
                    if event.type == "conversation.item.input_audio_transcription.completed":
                        transcripts[event.item_id] = (t, event.transcript)
        finally:
            stop.set()
            await speaker
        await asyncio.sleep(GAP_S)
        rid, status = answer
        audio = deltas.get(rid, [])
        last_stopped = stopped[-1][1]
        result: dict = {
            "clip": clip.name,
            "speech_s": round(clip.speech_s, 2),
            "status": status,
            "turn_ends_heard": len(stopped),  # >1: a pause inside the clip ended a turn
            "speech_end": marks["speech_end"],
            "stopped": last_stopped,
            "first_audio": audio[0][0] if audio else None,
        }
        if audio:
            result["stopped_to_first_audio_ms"] = round((audio[0][0] - last_stopped) * 1000, 1)
            result["speech_end_to_first_audio_ms"] = round(
                (audio[0][0] - marks["speech_end"]) * 1000, 1
            )
        if item in transcripts:
            t, text = transcripts[item]
            result["stopped_to_transcript_ms"] = round((t - last_stopped) * 1000, 1)
            result["transcript"] = text
        result.update(playback(audio))
        return result
