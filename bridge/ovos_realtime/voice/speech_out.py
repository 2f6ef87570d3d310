"""Spoken output: text increments in, int16 audio out at the caller's rate, clause by clause.

The first clause is synthesized as soon as the chunker releases it, as urgent work (urgent.py:
the LLM writing on waits until its first audio exists); each clause's transcript goes out with
its first audio, so the transcript the client sees never runs ahead of the audio it has.
"""

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from ovos_realtime.audio.resample import StreamResampler
from ovos_realtime.urgent import URGENT
from ovos_realtime.voice.engines import tts_sample_rate
from ovos_realtime.voice.synthesis import new_chunker, synthesize

log = logging.getLogger(__name__)

# (transcript piece or "", int16 samples at the requested rate; possibly empty)
OnAudio = Callable[[str, np.ndarray], None]
_DONE = object()


class SpeechOutput:
    def __init__(
        self,
        tts: Any,
        executor: Executor,
        voice: str | None,
        speed: float | None,
        rate: int,
        on_audio: OnAudio,
    ) -> None:
        self.tts = tts
        self.executor = executor
        self.voice = None if voice in (None, "", "default") else voice
        self.speed = speed
        self.on_audio = on_audio
        self._chunker = new_chunker(tts)
        self._resample = StreamResampler(tts_sample_rate(tts), rate)
        self._clauses: asyncio.Queue[str | None] = asyncio.Queue()
        self._stop = threading.Event()
        self._first = True
        self._worker = asyncio.create_task(self._work(), name="speech")

    def feed(self, text: str) -> None:
        for clause in self._chunker.feed(text):
            if self._first:
                self._first = False
                log.debug("first clause to the TTS (%d words)", len(clause.split()))
            self._clauses.put_nowait(clause)

    async def finish(self) -> None:
        """Flush the last words and wait until all audio is out."""
        for clause in self._chunker.flush():
            self._clauses.put_nowait(clause)
        self._clauses.put_nowait(None)
        await self._worker

    def cancel(self) -> None:
        self._stop.set()
        self._worker.cancel()

    async def _work(self) -> None:
        try:
            urgent = True  # the answer's first audio
            while (clause := await self._clauses.get()) is not None:
                piece = clause
                async for samples in self._synthesize(clause, urgent):
                    out = self._resample(samples)
                    if out.size:
                        self.on_audio(piece, out)
                        piece = ""
                if piece:  # the engine produced no audio for it: keep the transcript whole
                    self.on_audio(piece, np.zeros(0, np.int16))
                urgent = False
            tail = self._resample(np.zeros(0, np.int16), last=True)
            if tail.size:
                self.on_audio("", tail)
        finally:
            self._stop.set()

    async def _synthesize(self, text: str, urgent: bool = False) -> AsyncIterator[np.ndarray]:
        """Chunks from the blocking synthesizer, each handed over as soon as it exists; `urgent`
        work (urgent.py) until its first chunk."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = self._stop

        def produce() -> None:
            pressing = False
            try:
                if stop.is_set():  # cancelled while queued behind other work: never start it
                    return
                if urgent:
                    URGENT.begin()
                    pressing = True
                for chunk in synthesize(self.tts, text, self.voice, self.speed):
                    if pressing:
                        URGENT.end()
                        pressing = False
                    if stop.is_set():
                        return
                    loop.call_soon_threadsafe(queue.put_nowait, np.asarray(chunk, np.int16))
            except Exception as exc:
                log.exception("speech synthesis failed")
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                if pressing:
                    URGENT.end()
                if not loop.is_closed():
                    loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        loop.run_in_executor(self.executor, produce)
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
