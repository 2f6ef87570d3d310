"""Spoken output: text increments in, int16 audio out at the caller's rate, clause by clause.

The first clause is synthesized as soon as the chunker releases it, as urgent work (urgent.py:
the LLM writing on waits until its first audio exists); each clause's transcript goes out with
its first audio, so the transcript the client sees never runs ahead of the audio it has.

Playback must not run dry while the LLM is still writing a long sentence: when the audio handed
out so far will have played within the time it takes to synthesize the words written since
(plus a margin), those words are cut off as a piece of their own (the chunker's `cut`).
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
from ovos_realtime.voice.contracts import CutsEarly
from ovos_realtime.voice.engines import tts_sample_rate
from ovos_realtime.voice.synthesis import new_chunker, synthesize

log = logging.getLogger(__name__)

# (transcript piece or "", int16 samples at the requested rate; possibly empty)
OnAudio = Callable[[str, np.ndarray], None]
_DONE = object()
# Cut the words written so far when the audio out will have played within their synthesis
# time plus this: the client's buffer, the transport and the clock's jitter.
DRY_MARGIN_S = 0.2
_MIN_CUT_WORDS = 2  # a piece of one word mid-sentence sounds worse than a short stall


class SpeechOutput:
    def __init__(
        self,
        tts: Any,
        executor: Executor,
        voice: str | None,
        speed: float | None,
        rate: int,
        on_audio: OnAudio,
        owner: str | None = None,
    ) -> None:
        """`owner`: the conversation whose answer this speaks (its LLM steps aside for other
        sessions' urgent work only once this first clause is urgent, urgent.py)."""
        self.owner = owner
        self.tts = tts
        self.executor = executor
        self.voice = None if voice in (None, "", "default") else voice
        self.speed = speed
        self.on_audio = on_audio
        self._chunker = new_chunker(tts)
        # (checked once: a runtime Protocol check is too slow for every LLM token)
        self._cutter = self._chunker if isinstance(self._chunker, CutsEarly) else None
        self._resample = StreamResampler(tts_sample_rate(tts), rate)
        self._rate = rate
        self._clauses: asyncio.Queue[str | None] = asyncio.Queue()
        self._stop = threading.Event()
        self._first = True
        self._unsynthesized = 0  # pieces queued or being synthesized
        self._played_at = 0.0  # loop time at which the audio out so far will have played
        self._s_per_word = 0.0  # synthesis time per word, as the last pieces took
        self._worker = asyncio.create_task(self._work(), name="speech")

    def feed(self, text: str) -> None:
        clauses = self._chunker.feed(text)
        self._queue(clauses or self._cut_if_running_dry())

    def _queue(self, clauses: list[str]) -> None:
        for clause in clauses:
            if self._first:
                self._first = False
                log.debug("first clause to the TTS (%d words)", len(clause.split()))
            self._unsynthesized += 1
            self._clauses.put_nowait(clause)

    def _cut_if_running_dry(self) -> list[str]:
        """The words written so far as a piece, when waiting for their sentence to end would
        let the audio out play to its end first."""
        chunker = self._cutter
        if chunker is None or self._unsynthesized or not self._played_at:
            return []
        words = chunker.buffered_words
        if words < _MIN_CUT_WORDS:
            return []
        left = self._played_at - asyncio.get_running_loop().time()
        if left > words * self._s_per_word + DRY_MARGIN_S:
            return []
        pieces = chunker.cut(_MIN_CUT_WORDS)
        if pieces:
            log.debug("playback runs dry in %d ms: cut %d words", left * 1000, words)
        return pieces

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
            loop = asyncio.get_running_loop()
            urgent = True  # the answer's first audio
            while (clause := await self._clauses.get()) is not None:
                piece = clause
                started = loop.time()
                async for samples in self._synthesize(clause, urgent):
                    out = self._resample(samples)
                    if out.size:
                        self.on_audio(piece, out)
                        piece = ""
                        now = loop.time()
                        self._played_at = max(self._played_at, now) + out.size / self._rate
                if piece:  # the engine produced no audio for it: keep the transcript whole
                    self.on_audio(piece, np.zeros(0, np.int16))
                urgent = False
                took = (loop.time() - started) / max(1, len(clause.split()))
                self._s_per_word = took if not self._s_per_word else (self._s_per_word + took) / 2
                self._unsynthesized -= 1
                self._queue(self._cut_if_running_dry())
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
                    URGENT.begin(self.owner)
                    pressing = True
                for chunk in synthesize(self.tts, text, self.voice, self.speed):
                    if pressing:
                        URGENT.end(self.owner)
                        pressing = False
                    if stop.is_set():
                        return
                    loop.call_soon_threadsafe(queue.put_nowait, np.asarray(chunk, np.int16))
            except Exception as exc:
                log.exception("speech synthesis failed")
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                if pressing:
                    URGENT.end(self.owner)
                if not loop.is_closed():
                    loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        loop.run_in_executor(self.executor, produce)
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
