"""Per-session streaming transcription: feed PCM16, get stable partials and a final transcript.

Schedule: a worker thread re-decodes the current audio window whenever at least
`decode_interval_ms` of new audio has arrived. A decode that is still running when the next one is
due makes that slot be skipped (the next decode simply covers more audio), so the stream never
builds a backlog and never falls behind real time. Partials are the LocalAgreement-n committed
prefix (n=3 by default). The window is cut at committed segment ends once it exceeds
max_window_s, and the committed text before the cut becomes the prompt.

A pause's decode (`peek`, `finish`) does not grow with the turn: committed words stay committed,
and with final_decode "resume" the decoder starts at the last committed word, with the committed
words as its prompt, so it only writes the uncommitted tail (the encoder still hears the
window); or, when it is later, in the quiet of a pause the speaker talked over, whose decode
had finished (`resume_after_pause`), with that decode's text as its prompt. It never waits for
a partial decode in flight: that one is abandoned (stopped at its next engine call; one already
writing its tokens runs to its end, and its words count for the agreement) and the pause's
decode starts at once on the engine's final lane. It reads the stream's state without changing
it, so feeding may go on; a peek the speaker talks over is abandoned (`abandon_peek`) and stops
at its next engine call.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .agreement import LocalAgreement, join_words, word_key
from .audio import WHISPER_RATE, Resampler, pcm16_to_float
from .config import WhisperSTTConfig
from .engine import Abandoned, Decoded, WhisperEngine, Word

LOG = logging.getLogger(__name__)

TextCallback = Callable[[str], None]

# A resumed decode writes again at most this many committed words before the new ones.
_MOST_REPEATED = 8
_ALIKE, _ALIKE_CHARS = 0.8, 8  # words written again, heard otherwise: how alike, how long
_ECHO_WORDS = 3  # the shortest phrase a resumed decode's tail may write twice at its end
# A pause's text is a place to resume only when Whisper is this sure it heard speech (its
# no-speech probability below it): a "You" heard in a click scores well above.
_SURE_OF_SPEECH = 0.3
# ...and when a later partial decode heard this much audio after it, and its last words.
_HEARD_AFTER_S = 0.8
_HEARD_AGAIN = 3  # its last words that the partial decode must have heard too
_SENTENCE_END = re.compile(r"[.!?…]+$")
_MARKS_AT_END = re.compile(r"[.!?…,;:]*$")


@dataclass
class StreamStats:
    partial_decodes: int = 0
    skipped_slots: int = 0  # decode slots missed because a decode was still running
    abandoned_partials: int = 0  # partial decodes dropped because a peek/finish began
    abandoned_peeks: int = 0  # peeks stopped because the speaker went on (abandon_peek)
    partial_decode_s: float = 0.0
    final_decode_s: float = 0.0
    peek_wait_s: float = 0.0  # the last peek/finish: from asked to its decode starting
    peek_decode_s: float = 0.0  # the last peek/finish: its decode
    # How the last peek/finish decoded: "pause" (from the quiet of the last pause the speaker
    # talked over), "resume" (from the last committed word), "prefix"
    # (committed words forced), "words" (whole window with word times, committed words dropped
    # by time) or "text" (nothing committed in the window: its text as is, no word times).
    final_path: str = ""
    final_fallbacks: int = 0  # peeks/finishes whose temperature fallback fired
    audio_s: float = 0.0


@dataclass(frozen=True)
class SpeechEvidence:
    """How sure Whisper is that the audio of the last peek/finish held speech.

    no_speech_prob: P(<|nospeech|>) of the decoded window, 0..1 (high: noise or silence).
    avg_logprob: mean log-probability of the tokens it generated (the uncommitted tail); near 0
    is confident, below about -1 is a guess. None when the decode generated nothing.
    words: words in the text. Whisper's own rule drops a window when no_speech_prob > 0.6 and
    avg_logprob < -1; a one-word "You" on a click typically has no_speech_prob well above 0.3.
    """

    no_speech_prob: float
    avg_logprob: float | None
    words: int


@dataclass
class _Snapshot:
    """What a pause's decode needs, read at once under the state lock."""

    window: np.ndarray
    window_start: float
    prompt: str
    committed: list[Word]
    in_window: list[Word]
    last_committed_time: float

    @property
    def end(self) -> float:
        return self.window_start + len(self.window) / WHISPER_RATE


@dataclass(frozen=True)
class _Pause:
    """A pause's decode that finished: its text holds every word said before `at` (the end of
    the audio it heard, in the quiet of a pause). When the speaker goes on, a later pause's
    decode may start there instead of at the last committed word: in a turn with hesitations
    the pauses stop the partial decodes, and long turns reached their end with few words
    committed (2-12 in 6-11 s)."""

    at: float  # stream seconds
    window_start: float
    text: str  # the whole text so far
    in_window: list[Word]  # its words in the window (the committed ones and the tail; no times)


class StreamingTranscriber:
    """One audio stream. Thread-safe `feed`; `finish` returns the final text (also to on_final).

    Callbacks run on the worker thread (or the caller's thread for `finish` and, with
    background=False, `feed`); an asyncio user should hop back with loop.call_soon_threadsafe.
    `on_partial(text)` gets the whole stable text so far; each one extends the previous one.
    `on_hypothesis(text)` gets the latest partial decode's whole text (the stable text and the
    words not yet agreed on): a best guess that may still change, e.g. for reading ahead.
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
        on_hypothesis: TextCallback | None = None,
    ) -> None:
        self.engine = engine
        self.config = config or WhisperSTTConfig()
        self.sample_rate = sample_rate or self.config.sample_rate
        self.language = (language or self.config.whisper_language).split("-")[0].lower()
        self.prompt = prompt or ""
        self.on_partial = on_partial
        self.on_hypothesis = on_hypothesis
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
        # Guards the window and the agreement for short moments (never across a decode): a
        # peek must not read between a partial decode's hypothesis and its commit.
        self._state = threading.Lock()
        # Bumped by each peek/finish: a partial decode started before it is abandoned.
        self._generation = 0
        # Bumped by abandon_peek(): a peek started before it stops at its next engine call.
        self._peek_generation = 0
        self._evidence: SpeechEvidence | None = None
        self._pause: _Pause | None = None  # the last pause's finished decode
        # The latest partial decode: where its audio ended, and its words as written.
        self._heard: tuple[float, list[str]] = (0.0, [])
        self._in_flight = False  # a partial decode is running
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

    @property
    def partial_in_flight(self) -> bool:
        """A partial decode is running now (a peek would abandon it)."""
        return self._in_flight

    @property
    def speech_evidence(self) -> SpeechEvidence | None:
        """Whisper's judgement of the last peek/finish's audio (None before one)."""
        return self._evidence

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
            self._decode_partial()

    def peek(self) -> str:
        """The text a finish() now would return, while the stream goes on: a voice loop asks
        at a pause and keeps feeding if the speaker resumes. Blocking (one decode of the
        uncommitted tail; a partial decode in flight is abandoned, not waited for): run it in
        an executor."""
        if self._final is not None:
            return self._final
        generation = self._peek_generation

        def abandoned() -> bool:
            return self._peek_generation != generation

        try:
            text = self._decode_final("peek", abandoned=abandoned)
        except Abandoned:
            text = None
        if not abandoned():
            return text or ""
        self.stats.abandoned_peeks += 1
        LOG.debug("peek abandoned: the speaker went on")
        if text:
            # Decoded before the speaker went on: the words so far, for reading ahead (the
            # partial decode it abandoned would have given them; in a turn with hesitations the
            # pauses abandon every partial decode, and the reader had nothing new for seconds).
            self._emit(self.on_hypothesis, _open_ended(text))
        return ""

    def abandon_peek(self) -> None:
        """The speaker went on after the pause: a peek under way is not wanted any more and
        stops at its next engine call (after the encoder, most often before the decoder
        generates), so the engine is free for the next pause, the partials, another stream."""
        self._peek_generation += 1

    def finish(self) -> str:
        """Stop, decode what is not committed yet, return the final text. Idempotent.
        Blocking (the final decode; a partial decode in flight is abandoned): run it in an
        executor."""
        if self._final is not None:
            return self._final
        with self._cond:
            self._stopping = True
            tail = self._resampler.flush()  # the few ms soxr holds back (none at 16 kHz)
            if tail.size:
                self._chunks.append(tail)
                self._received += len(tail)
            self._cond.notify()
        started = time.perf_counter()
        self._final = self._decode_final("finish")
        self.stats.final_decode_s = time.perf_counter() - started
        self._emit(self.on_final, self._final)
        return self._final

    def close(self) -> None:
        """Abandon the stream without a final decode (a partial decode in flight stops at its
        next engine call, so a cancelled turn frees the engine at once)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        with self._state:
            self._generation += 1

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
                self._decode_partial()
            except Exception:  # keep the stream alive; the final decode still runs
                LOG.exception("partial decode failed")

    # -- decoding -------------------------------------------------------------------------------

    def _take_audio(self) -> np.ndarray:
        """Move fed audio into the window (caller holds _state)."""
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
        return _tail_chars(f"{self.prompt} {join_words(gone)}", self.config.prompt_chars)

    def _decode_partial(self) -> None:
        with self._state:
            window = self._take_audio()
            window_start, prompt, generation = self._window_start, self._prompt(), self._generation
        started = time.perf_counter()
        self._in_flight = True
        try:
            # A partial decode's window goes on: no temperature fallback (a word cut at the
            # edge looks like low confidence) and no trust in words at its very end.
            decoded = self.engine.decode(
                window,
                self.language,
                prompt=prompt,
                beam_size=self.config.partial_beam_size,
                word_timestamps=True,
                no_speech_threshold=self.config.no_speech_threshold,
                fallback=False,
                encoder_window_s=self.config.encoder_window_s,
                complete=False,
                partial=True,
                abandoned=lambda: self._generation != generation,
            )
        except Abandoned:
            decoded = None
        finally:
            self._in_flight = False
        self.stats.partial_decode_s += time.perf_counter() - started
        with self._state:
            if decoded is None or self._stopping:
                # Stopped for a pause's decode, or the stream has ended (finish, close).
                self.stats.abandoned_partials += 1
                LOG.debug("partial decode of %.1f s abandoned", len(window) / WHISPER_RATE)
                return
            # A pause's decode that began while this one wrote its tokens (too late to stop
            # it) read the state without it; its words still count for the agreement: in a
            # turn with hesitations the pauses came while partial decodes ran, and long turns
            # reached their end with nothing committed. Its text is not announced: the pause's
            # transcript stands (the next partial decode announces all that is committed).
            beside_a_pause = self._generation != generation
            self.stats.partial_decodes += 1
            self._agreement.insert(_shift(decoded, window_start))
            # Words at the end of the window have the least context: hold them back a little.
            until = window_start + len(window) / WHISPER_RATE - self.config.commit_holdback_s
            committed = self._agreement.flush(until)
            words = self._agreement.committed + self._agreement.pending()
            written = [w.text.strip() for w in words if word_key(w.text)]
            self._heard = (window_start + len(window) / WHISPER_RATE, written)
            text, hypothesis = None, ""
            if not beside_a_pause:
                hypothesis = join_words(self._agreement.committed + self._agreement.pending())
                if committed:
                    text = join_words(self._agreement.committed)
                    if text != self._last_partial:
                        self._last_partial = text
                    else:
                        text = None
            self._trim(decoded, window_start)
        if text is not None:
            self._emit(self.on_partial, text)
        if hypothesis:
            self._emit(self.on_hypothesis, hypothesis)

    def _trim(self, decoded: Decoded, window_start: float) -> None:
        """Keep the window under max_window_s by cutting at a segment end already committed.
        (Caller holds _state; `decoded` is of the window starting at window_start.)"""
        if len(self._window) / WHISPER_RATE <= self.config.max_window_s:
            return
        committed_until = self._agreement.last_committed_time
        ends = [s.end + window_start for s in decoded.segments[:-1]]
        cuts = [e for e in ends if e <= committed_until]
        if cuts:
            self._cut(cuts[-1])
        elif committed_until > self._window_start:
            self._cut(committed_until)
        elif len(self._window) / WHISPER_RATE > 25.0:
            # Nothing agreed for 25 s: accept the hypothesis before its last segment.
            last = decoded.segments[-1].start + window_start if decoded.segments else 0
            words = [w for w in self._agreement.pending() if w.end <= last]
            self._agreement.commit_all(words)
            self._cut(last if words else self._window_start + 10.0)

    def _cut(self, at: float) -> None:
        drop = int(round((at - self._window_start) * WHISPER_RATE))
        if drop <= 0:
            return
        self._window = self._window[drop:]
        self._window_start = at
        self._agreement.drop_before(at)

    def _snapshot(self) -> _Snapshot:
        asked = time.perf_counter()
        with self._state:
            self._generation += 1  # a partial decode in flight is no longer wanted
            window = self._take_audio()
            snap = _Snapshot(
                window,
                self._window_start,
                self._prompt(),
                list(self._agreement.committed),
                list(self._agreement.committed_in_window),
                self._agreement.last_committed_time,
            )
        self.stats.peek_wait_s = time.perf_counter() - asked
        return snap

    def _decode_final(self, kind: str, abandoned: Callable[[], bool] | None = None) -> str:
        """The text if the stream ended now, read from the state without changing it."""
        snap = self._snapshot()
        started = time.perf_counter()
        mode = self.config.final_decode
        window, offset = snap.window, snap.window_start
        prefix = join_words(snap.in_window) if mode == "prefix" else ""
        prompt = snap.prompt
        if mode == "tail" and snap.in_window:
            # Only the last few seconds: a little committed audio before the uncommitted
            # tail gives Whisper context (a bare tail of silence hallucinates); the repeated
            # committed words are then dropped by time and by overlap.
            keep_from = snap.last_committed_time - self.config.final_context_s
            starts = [w.start for w in snap.in_window if w.start >= keep_from]
            if starts and starts[0] - 0.05 > offset:
                drop = int(round((starts[0] - 0.05 - offset) * WHISPER_RATE))
                window, offset = window[drop:], starts[0] - 0.05
        resume_s = None
        text = join_words(snap.committed)
        known = snap.in_window  # the words said in the window before resume_s
        pause, heard = self._pause_to_resume_at(snap) if mode == "resume" else (None, [])
        if pause is not None:
            # The decoder starts in the quiet of the last pause the speaker talked over, with
            # everything said before it as its prompt: it writes only what came after.
            resume_s, text, known = pause.at - offset, _open_ended(pause.text), pause.in_window
        elif mode == "resume" and snap.in_window:
            # The decoder starts at the last committed word, with the committed words as its
            # prompt (with none or only the last few it started early, late or over in most of
            # 20 long clips; with all of them, over in 3, and those words are dropped below).
            # Starting one committed word further back measured worse (90 corpus streams:
            # WER 4.29 -> 5.81 %: the words written again were not always dropped).
            resume_s = snap.in_window[-1].start - offset
            heard = self._heard_after_committed(snap)  # how to join what it writes
        if resume_s is not None:
            prompt = _tail_chars(f"{self.prompt} {text}", self.config.prompt_chars)
        self._evidence = evidence = None
        encoder_s = 0.0
        if prefix:
            path = "prefix"
        elif pause is not None:
            path = "pause"
        elif resume_s is not None:
            path = "resume"
        elif snap.in_window or self.config.final_word_timestamps:
            path = "words"
        else:
            # Nothing committed in the window (the window starts after the last committed
            # word): every word decoded is new, so no word times are needed to drop any.
            path = "text"
        words = path == "words"
        if len(window) >= WHISPER_RATE // 10:  # < 100 ms cannot hold a word
            decoded = self.engine.decode(
                window,
                self.language,
                prompt=prompt,
                beam_size=self.config.final_beam_size,
                word_timestamps=words,
                no_speech_threshold=self.config.no_speech_threshold,
                fallback=True,
                encoder_window_s=self.config.final_encoder_window_s or self.config.encoder_window_s,
                complete=True,
                prefix=prefix or None,
                # After a forced prefix, beam search with timestamps often closed the segment
                # and ended ("...to form" lost "letterpress"): 3.3 % WER vs 2.4 % without, on
                # 31 corpus clips streamed inline (whole-window re-decode: 2.6 %).
                timestamps=words or (not prefix and self.config.final_timestamps),
                abandoned=abandoned,
                resume_s=resume_s,
            )
            encoder_s = decoded.encoder_s
            if decoded.temperature > 0:
                self.stats.final_fallbacks += 1
            if prefix:
                text = (text + _after_restart(decoded.raw_text, snap.in_window)).strip()
            elif resume_s is not None:
                tail = decoded.raw_text
                if not (pause and _keys(tail.split()[:1]) == _keys(heard[1:2])):
                    # (where it starts with the word heard after the pause, it wrote nothing
                    # again: "accept that." + "That was a bonus")
                    tail = _after_committed(tail, known)
                tail = _without_echo(_after_restart(tail, known), _written_keys(known))
                text = _continued(pause.text if pause else text, tail, heard)
            elif not words:
                text = (text + " " + decoded.text).strip()
            else:
                # The agreement's rules for words already committed, without changing it.
                tail = LocalAgreement.fresh(
                    _shift(decoded, offset), snap.in_window, snap.last_committed_time
                )
                text = join_words(snap.committed + tail)
            if decoded.no_speech_prob is not None:
                evidence = SpeechEvidence(
                    decoded.no_speech_prob, decoded.avg_logprob, len(text.split())
                )
                self._evidence = evidence
        self.stats.peek_decode_s = time.perf_counter() - started
        self.stats.final_path = path
        # This decode's own evidence: a peek and a finish may overlap on one stream.
        if kind == "peek" and text and evidence and evidence.no_speech_prob < _SURE_OF_SPEECH:
            with self._state:
                self._pause = _Pause(snap.end, snap.window_start, text, _words_of(text, snap))
        LOG.debug(
            "%s: waited %.0f ms, decoded %.1f s (%d words known before %.1f s, %s) in %.0f ms "
            "(encoder %.0f ms), %d partial decodes abandoned so far, %d fallbacks",
            kind,
            self.stats.peek_wait_s * 1000,
            len(window) / WHISPER_RATE,
            len(known),
            (resume_s or 0.0) + offset - snap.window_start,
            path,
            self.stats.peek_decode_s * 1000,
            encoder_s * 1000,
            self.stats.abandoned_partials,
            self.stats.final_fallbacks,
        )
        return text

    def _pause_to_resume_at(self, snap: _Snapshot) -> tuple[_Pause | None, list[str]]:
        """The last pause's finished decode, when a decode of `snap` may start there: the
        speaker went on after it, the words committed since are its own and end before it, and
        a partial decode that heard the speaker go on heard its last words too. A pause's
        decode hears nothing after its last word: on streams with a hesitation put in
        mid-phrase it wrote "in food" for "in football" (bench/pause_resume.py), and the
        partial decode that heard the rest is the second opinion that keeps such a word from
        standing. With the pause: that partial decode's own writing of the pause's last word
        and of the word after it."""
        with self._state:
            pause, (heard_until, heard) = self._pause, self._heard
        if (
            not self.config.resume_after_pause
            or pause is None
            or pause.window_start != snap.window_start  # the window was cut since
            or pause.at <= snap.last_committed_time
            or heard_until < pause.at + _HEARD_AFTER_S
        ):
            return None, []
        said = _keys(pause.text.split())
        committed = _keys(w.text for w in snap.committed)
        at = _heard_again(said, [word_key(w) for w in heard])
        if at is None or said[: len(committed)] != committed:  # (partials stay its prefix)
            return None, []
        return pause, heard[at : at + 2]

    def _heard_after_committed(self, snap: _Snapshot) -> list[str]:
        """The latest partial decode's writing of the last committed word and of the word
        after it, where it heard the committed words as they stand (as a rule it did)."""
        with self._state:
            _, heard = self._heard
        committed = _keys(w.text for w in snap.committed)  # (heard holds no bare marks)
        n = len(committed)
        if n and len(heard) > n and _keys(heard[:n]) == committed:
            return heard[n - 1 : n + 1]
        return []

    def _emit(self, callback: TextCallback | None, text: str) -> None:
        if callback is None:
            return
        try:
            callback(text)
        except Exception:
            LOG.exception("STT callback %r failed", callback)


def _shift(decoded: Decoded, offset: float) -> list[Word]:
    """The decode's words in stream time (the window started at `offset`)."""
    return [Word(w.start + offset, w.end + offset, w.text) for w in decoded.words]


def _keys(words: Iterable[str]) -> list[str]:
    """The words' keys, without the marks Whisper writes as words of their own ("-", "...")."""
    return [key for key in map(word_key, words) if key]


def _written_keys(words: list[Word]) -> list[str]:
    """The keys of the words as their text is written: Whisper's word timing may split one
    written word (" i" ".e."), which a decode's text writes whole ("i.e.")."""
    return _keys(join_words(words).split())


def _heard_again(said: list[str], heard: list[str]) -> int | None:
    """Where in `heard` (a later decode's word keys) the last words of `said` are, the same
    and in the same place give or take a few words (a word heard otherwise before them,
    "Nepluultra" / "Nepelu Ultra", is the pause's decode's as much as theirs): the index of
    the last of them, or None."""
    if not said:
        return None
    n = min(_HEARD_AGAIN, len(said))
    starts = range(max(0, len(said) - n - 3), min(len(heard) - n, len(said) - n + 3) + 1)
    found = [j for j in starts if heard[j : j + n] == said[-n:]]
    return min(found, key=lambda j: abs(j - (len(said) - n))) + n - 1 if found else None


def _words_of(text: str, snap: _Snapshot) -> list[Word]:
    """`text`'s words in `snap`'s window (without those committed before it), untimed."""
    gone = len(snap.committed) - len(snap.in_window)
    return [Word(snap.end, snap.end, " " + word) for word in text.split()[gone:]]


def _open_ended(text: str) -> str:
    """A pause's text as the start of what the speaker goes on saying: the decode that wrote
    it heard nothing after it and ended it as a sentence ("on the whole." → "on the whole")."""
    return _SENTENCE_END.sub("", text.rstrip())


def _continued(before: str, tail: str, heard: list[str]) -> str:
    """The text before a resumed decode (a pause the speaker talked over, or the committed
    words) and what the decode wrote after it, joined as the partial decode that heard both
    sides wrote them (`heard`: its writing of the last word before and of the word after). The
    pause's decode heard nothing after its words and ended them as a sentence, and the resumed
    decode starts a segment, capitalized: "on the whole. The type of this book" where the
    partial decode heard "on the whole, the type" ("may be considered The Nepelu Ultra" after
    committed words)."""
    tail = tail.strip()
    if not tail or not heard or _SENTENCE_END.search(heard[0]):
        return f"{before.strip()} {tail}".strip()  # a sentence ends there
    joined = _MARKS_AT_END.sub("", before.rstrip()) + _MARKS_AT_END.search(heard[0]).group()
    if tail[0] in ",;:":
        return _MARKS_AT_END.sub("", joined) + tail
    first, _, rest = tail.partition(" ")
    if len(heard) > 1 and heard[1][:1].islower() and word_key(heard[1]) == word_key(first):
        first = first[:1].lower() + first[1:]
    return f"{joined} {first} {rest}".rstrip()


def _tail_chars(text: str, chars: int) -> str:
    text = text.strip()
    return text[-chars:] if chars else ""


def _after_committed(tail: str, committed: list[Word]) -> str:
    """A resumed decode's text without the committed words it wrote again: all of them when
    it started over from the window's start ("The first books were printed ... of the ancient
    Roman character." for "of the ancient Roman character."), or the last few when it started
    where they end ("developed more" after "... which developed"; it resumes at the last
    committed word's start, so that a word whose end was timed late is not lost)."""
    said = tail.split()
    keys = [word_key(w) for w in said]
    known = _written_keys(committed)
    if len(known) >= 2 and keys[:2] == known[:2]:
        matcher = difflib.SequenceMatcher(None, known, keys, autojunk=False)
        blocks = [b for b in matcher.get_matching_blocks() if b.size]
        if blocks and sum(b.size for b in blocks) >= 0.6 * len(known):
            last = blocks[-1]
            end = last.b + last.size + (len(known) - last.a - last.size)  # misheard ones
            return _words(said[end:])
    return _words(said[_repeated(known, keys) :])


def _words(said: list[str]) -> str:
    return " " + " ".join(said) if said else ""


def _repeated(known: list[str], keys: list[str]) -> int:
    """How many of the tail's first words (`keys`) write the end of the committed ones again."""
    for n in range(min(len(known), len(keys), _MOST_REPEATED), 0, -1):
        ours, theirs = known[-n:], keys[:n]
        wrong = sum(a != b for a, b in zip(ours, theirs, strict=True))
        # A word heard differently ("books" / "book", "of Roman" / "a Roman") in a run that
        # ends on the last committed word (not a short one: "of the" / "and the" may be new).
        alike = theirs[-1] == ours[-1] and (n >= 3 or len(ours[-1]) >= 4)
        if wrong == 0 or (wrong == 1 and alike):
            return n
    for n in range(min(len(keys), _MOST_REPEATED), 1, -1):
        # The same words split otherwise ("may be considered" / "Maybe considered").
        for m in range(1, min(len(known), _MOST_REPEATED) + 1):
            if "".join(keys[:n]) == "".join(known[-m:]):
                return n
    for n in range(min(len(keys), _MOST_REPEATED), 1, -1):
        # Heard otherwise and split otherwise, up to the last committed word ("got the
        # letter" after "Gothic letter"): alike in sound, spelled alike, of some length.
        if keys[n - 1] != known[-1]:
            continue
        theirs = "".join(keys[:n])
        for m in range(1, min(len(known), _MOST_REPEATED) + 1):
            ours = "".join(known[-m:])
            alike = difflib.SequenceMatcher(None, ours, theirs, autojunk=False).ratio()
            if min(len(ours), len(theirs)) >= _ALIKE_CHARS and alike >= _ALIKE:
                return n
    return 0


def _without_echo(tail: str, before: Sequence[str] = ()) -> str:
    """A tail without its last phrase written twice over: at the very end of the audio Whisper
    may write it again ("not only by chauffeur. Not only by chauffeur."), also from within the
    words before the tail (`before`, their keys: "...by Peter Schofer" + " in the year 1462,
    which also was printed at mains by Peter Schofer in the year 1462."); a run of three
    words or more said twice in a row at the end of a turn is that, as a rule."""
    said = tail.split()
    whole = [*before, *(word_key(w) for w in said)]
    for n in range(min(len(said), len(whole) // 2), _ECHO_WORDS - 1, -1):
        if whole[-n:] == whole[-2 * n : -n]:
            kept = said[:-n]
            if kept:  # it ends as the second writing ended (", ... 1462." → " 1462.")
                end = _MARKS_AT_END.search(said[-1]).group()
                kept[-1] = _MARKS_AT_END.sub("", kept[-1]) + end
            return _words(kept)
    return tail


def _after_restart(tail: str, prefix: list[Word]) -> str:
    """Whisper may transcribe the window again after the forced prefix ("The more in" +
    " approach ... of address. The more in approach ... of address."): the tail is cut where
    the turn starts over. A restart repeats the opening at length, to (nearly) the end of the
    text; a phrase said twice ("the invention of movable letters ... considered as the
    invention of the art of printing") repeats a few words and goes on differently."""
    said = tail.split()
    before = _written_keys(prefix)
    whole = before + [word_key(w) for w in said]
    for j in range(len(said)):
        at = len(before) + j  # this tail word's place in the whole text
        run = 0
        while at + run < len(whole) and whole[at + run] == whole[run]:
            run += 1
        rest = whole[at:]
        # ...or the opening again to the end, one word heard otherwise ("...any complex of
        # interest. The arrangement will avoid any conflicts of interest.", a corpus stream)
        heard_otherwise = sum(a != b for a, b in zip(rest, whole, strict=False)) == 1
        if at >= 2 and (
            (run >= max(2, min(at, 6)) and run >= 0.8 * len(rest))
            or (run >= 2 and len(rest) >= 4 and len(rest) <= at and heard_otherwise)
        ):
            return (" " + " ".join(said[:j])) if j else ""
    return tail
