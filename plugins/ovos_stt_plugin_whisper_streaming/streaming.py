"""Per-session streaming transcription: feed PCM16, get stable partials and a final transcript.

Schedule: a worker thread re-decodes the current audio window whenever at least
`decode_interval_ms` of new audio has arrived. A decode that is still running when the next one is
due makes that slot be skipped (the next decode simply covers more audio), so the stream never
builds a backlog and never falls behind real time. Partials are the LocalAgreement-n committed
prefix (n=3 by default). The window is cut at committed segment ends once it exceeds
max_window_s, and the committed text before the cut becomes the prompt, so the final decode on
finish only covers the last few seconds (optionally only the uncommitted tail: final_decode).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .agreement import LocalAgreement, join_words
from .audio import WHISPER_RATE, Resampler, pcm16_to_float
from .config import WhisperSTTConfig
from .engine import Decoded, WhisperEngine, Word

LOG = logging.getLogger(__name__)

TextCallback = Callable[[str], None]


@dataclass
class StreamStats:
    partial_decodes: int = 0
    skipped_slots: int = 0  # decode slots missed because a decode was still running
    partial_decode_s: float = 0.0
    final_decode_s: float = 0.0
    audio_s: float = 0.0


class StreamingTranscriber:
    """One audio stream. Thread-safe `feed`; `finish` returns the final text (also to on_final).

    Callbacks run on the worker thread (or the caller's thread for `finish` and, with
    background=False, `feed`); an asyncio user should hop back with loop.call_soon_threadsafe.
    `on_partial(text)` gets the whole stable text so far; each one extends the previous one.
    """

    def __init__(
        self,
        engine: WhisperEngine,
        config: WhisperSTTConfig | None = None,
        *,
        sample_rate: int | None = None,
        language: str | None = None,
        prompt: str | None = None,
        on_partial: TextCallback | None = None,
        on_final: TextCallback | None = None,
        background: bool = True,
    ) -> None:
        self.engine = engine
        self.config = config or WhisperSTTConfig()
        self.sample_rate = sample_rate or self.config.sample_rate
        self.language = (language or self.config.whisper_language).split("-")[0].lower()
        self.prompt = prompt or ""
        self.on_partial = on_partial
        self.on_final = on_final
        self.stats = StreamStats()
        self._resampler = Resampler(self.sample_rate, WHISPER_RATE)
        self._agreement = LocalAgreement(self.config.agreement)
        self._chunks: list[np.ndarray] = []
        self._window = np.zeros(0, dtype=np.float32)
        self._window_start = 0.0  # absolute seconds of _window[0]
        self._received = 0  # samples at 16 kHz
        self._decoded_upto = 0
        self._step = int(self.config.decode_interval_ms * WHISPER_RATE / 1000)
        self._first = int(self.config.min_first_decode_ms * WHISPER_RATE / 1000)
        self._cond = threading.Condition()
        # One decode at a time per stream: a peek must not slip between a partial decode's
        # hypothesis and its commit.
        self._decoding = threading.Lock()
        self._stopping = False
        self._final: str | None = None
        self._last_partial = ""
        self._background = background
        self._worker: threading.Thread | None = None
        if background:
            self._worker = threading.Thread(target=self._run, name="whisper-stream", daemon=True)
            self._worker.start()

    # -- public ---------------------------------------------------------------------------------

    @property
    def partial(self) -> str:
        """The stable (committed) text so far."""
        return self._last_partial

    @property
    def final(self) -> str | None:
        return self._final

    def feed(self, pcm16: bytes | np.ndarray) -> None:
        """Append audio at `sample_rate` (PCM16 bytes, int16 or float32 array)."""
        samples = pcm16_to_float(pcm16)
        with self._cond:
            if self._stopping:
                raise RuntimeError("stream already finished")
            # Under the lock: chunks fed from several threads stay whole, and finish() flushes
            # the resampler only after the last one.
            audio = self._resampler.process(samples)
            self._chunks.append(audio)
            self._received += len(audio)
            self._cond.notify()
        if not self._background and self._due():
            with self._decoding:
                self._decode_partial()

    def peek(self) -> str:
        """The text a finish() now would return, while the stream goes on: a voice loop asks
        at a pause and keeps feeding if the speaker resumes. Blocking (waits for an in-flight
        partial decode): run it in an executor."""
        asked = time.perf_counter()
        with self._decoding:
            if self._final is not None:
                return self._final
            started = time.perf_counter()
            text = self._decode_final()
        LOG.debug(
            "peek: %.0f ms waiting for a partial decode, %.0f ms decoding %.1f s",
            (started - asked) * 1000,
            (time.perf_counter() - started) * 1000,
            len(self._window) / WHISPER_RATE,
        )
        return text

    def finish(self) -> str:
        """Stop, decode what is not committed yet, return the final text. Idempotent.
        Blocking (an in-flight partial decode plus the final decode): run it in an executor."""
        if self._final is not None:
            return self._final
        with self._cond:
            self._stopping = True
            tail = self._resampler.flush()  # the few ms soxr holds back (none at 16 kHz)
            if tail.size:
                self._chunks.append(tail)
                self._received += len(tail)
            self._cond.notify()
        if self._worker is not None:
            self._worker.join()  # waits for an in-flight partial decode
        started = time.perf_counter()
        with self._decoding:
            self._final = self._decode_final()
        self.stats.final_decode_s = time.perf_counter() - started
        self._emit(self.on_final, self._final)
        return self._final

    def close(self) -> None:
        """Abandon the stream without a final decode."""
        with self._cond:
            self._stopping = True
            self._cond.notify()

    # -- scheduling -----------------------------------------------------------------------------

    def _due(self) -> bool:
        new = self._received - self._decoded_upto
        return self._received >= self._first and new >= max(self._step, 1)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._due():
                    self._cond.wait()
                if self._stopping:
                    return
            try:
                with self._decoding:
                    self._decode_partial()
            except Exception:  # keep the stream alive; the final decode still runs
                LOG.exception("partial decode failed")

    # -- decoding -------------------------------------------------------------------------------

    def _take_audio(self) -> np.ndarray:
        with self._cond:
            if self._chunks:
                self._window = np.concatenate([self._window, *self._chunks])
                self._chunks = []
            missed = (self._received - self._decoded_upto) // max(self._step, 1) - 1
            self.stats.skipped_slots += max(0, missed) if self._decoded_upto else 0
            self._decoded_upto = self._received
            self.stats.audio_s = self._received / WHISPER_RATE
        return self._window

    def _prompt(self) -> str:
        # Committed words that left the window give Whisper the context it no longer hears.
        gone = [w for w in self._agreement.committed if w.end <= self._window_start + 0.05]
        text = (self.prompt + " " + join_words(gone)).strip()
        return text[-self.config.prompt_chars :] if self.config.prompt_chars else ""

    def _words(self, decoded: Decoded) -> list[Word]:
        off = self._window_start
        return [Word(w.start + off, w.end + off, w.text) for w in decoded.words]

    def _decode(self, window: np.ndarray, beam: int, final: bool = False) -> Decoded:
        # A partial decode's window goes on: no temperature fallback (a word cut at the edge
        # looks like low confidence) and no trust in words at its very end.
        return self.engine.decode(
            window,
            self.language,
            prompt=self._prompt(),
            beam_size=beam,
            word_timestamps=True,
            no_speech_threshold=self.config.no_speech_threshold,
            fallback=final,
            encoder_window_s=self.config.encoder_window_s,
            complete=final,
        )

    def _decode_partial(self) -> None:
        window = self._take_audio()
        started = time.perf_counter()
        decoded = self._decode(window, self.config.partial_beam_size)
        self.stats.partial_decodes += 1
        self.stats.partial_decode_s += time.perf_counter() - started
        self._agreement.insert(self._words(decoded))
        # Words at the end of the window have the least context: hold them back a little.
        until = self._window_start + len(window) / WHISPER_RATE - self.config.commit_holdback_s
        if self._agreement.flush(until):
            text = join_words(self._agreement.committed)
            if text != self._last_partial:
                self._last_partial = text
                self._emit(self.on_partial, text)
        self._trim(decoded)

    def _trim(self, decoded: Decoded) -> None:
        """Keep the window under max_window_s by cutting at a segment end already committed."""
        if len(self._window) / WHISPER_RATE <= self.config.max_window_s:
            return
        committed_until = self._agreement.last_committed_time
        ends = [s.end + self._window_start for s in decoded.segments[:-1]]
        cuts = [e for e in ends if e <= committed_until]
        if cuts:
            self._cut(cuts[-1])
        elif committed_until > self._window_start:
            self._cut(committed_until)
        elif len(self._window) / WHISPER_RATE > 25.0:
            # Nothing agreed for 25 s: accept the hypothesis before its last segment.
            last = decoded.segments[-1].start + self._window_start if decoded.segments else 0
            words = [w for w in self._agreement.pending() if w.end <= last]
            self._agreement.commit_all(words)
            self._cut(last if words else self._window_start + 10.0)

    def _cut(self, at: float, keep_committed: bool = False) -> None:
        drop = int(round((at - self._window_start) * WHISPER_RATE))
        if drop <= 0:
            return
        self._window = self._window[drop:]
        self._window_start = at
        if not keep_committed:
            self._agreement.drop_before(at)

    def _decode_final(self) -> str:
        window = self._take_audio()
        committed = self._agreement.committed_in_window
        if self.config.final_decode == "tail" and committed:
            # Re-decode only the last few seconds: a little committed audio before the
            # uncommitted tail gives Whisper context (a bare tail of silence hallucinates);
            # the repeated committed words are then dropped by time and by overlap.
            keep_from = self._agreement.last_committed_time - self.config.final_context_s
            starts = [w.start for w in committed if w.start >= keep_from]
            if starts and starts[0] - 0.05 > self._window_start:
                self._cut(starts[0] - 0.05, keep_committed=True)
                window = self._window
        tail: list[Word] = []
        if len(window) >= WHISPER_RATE // 10:  # < 100 ms cannot hold a word
            decoded = self._decode(window, self.config.beam_size, final=True)
            self._agreement.insert(self._words(decoded))
            tail = self._agreement.inserted()
        return join_words(self._agreement.committed + tail)

    def _emit(self, callback: TextCallback | None, text: str) -> None:
        if callback is None:
            return
        try:
            callback(text)
        except Exception:
            LOG.exception("STT callback %r failed", callback)
