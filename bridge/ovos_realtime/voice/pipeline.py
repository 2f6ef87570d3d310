"""The listening half of the voice loop, for one audio stream, knowing nothing of any protocol:
wire audio → 16 kHz → VAD → turn events → streaming transcript.

`feed()` yields the turn events of each chunk (`voice.turns.TurnEvent`: started, paused,
resumed, stopped, idle) after acting on them itself: a started turn gets a fresh transcriber
with the audio just before it (prefix padding); audio held back while a pause was being
transcribed goes to the transcriber when speech resumes. At a pause, `peek()` gives the final
text so far without ending the stream; `finish()` ends the turn with its final text (reusing
the pause's text when nothing was said since). Stable partial texts arrive through
`on_partial(turn, text, delta)` on the event loop; `on_words(text)` gets the STT's best guess
of the turn's words so far (its latest hypothesis, which may still change; else the stable text).

Turn events that come between chunks reach `on_late_event`: a verdict (the pause's transcript,
the end-of-turn model) that ends the turn after the last audio, and the stall fallback: a client
that stops sending mid-turn (a file with no quiet after it, a microphone gated by the client's
own VAD, a network stall) never fills the silence window in stream time, so once nothing has
come for `STALL_S`, the time since the last chunk counts as quiet (`TurnDetector.assume_quiet`)
and the turn ends as it would have with that quiet. No fallback without `on_late_event`, nor
for manual turns.
"""

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np

from ovos_realtime.audio.formats import WireDecoder, WireFormat
from ovos_realtime.audio.resample import StreamResampler
from ovos_realtime.urgent import urgently
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_realtime.voice.speech_detector import SpeechDetector
from ovos_realtime.voice.transcription import Transcription
from ovos_realtime.voice.turn_model import SmartTurn, load_turn_model
from ovos_realtime.voice.turns import TurnDetector, TurnEvent, is_speech
from ovos_realtime.voice.whisper_features import WINDOW_SAMPLES

log = logging.getLogger(__name__)

RATE = 16000
# The STT's verdict that a turn held no speech: Whisper's own test (faster-whisper's
# no_speech_threshold 0.6 and log_prob_threshold -1.0), with the log-probability bound at -0.7:
# on a run of clicks Whisper heard "Thank you for watching." at no_speech_prob 0.67 and
# avg_logprob -0.99; a clear sentence scores 0.01 and -0.33. Both must hold, so a real word
# said softly is not dropped for either alone.
NO_SPEECH_PROB = 0.6
NO_SPEECH_LOGPROB = -0.7
# No audio for this long in a turn: the client has stopped sending, and the time since its last
# chunk counts as quiet (so the turn ends max(STALL_S, the silence window) after the last chunk).
# A real-time client sends a chunk every 20-100 ms, and a network stall of a few hundred ms
# delays it: a second is well past both, so a speaker still talking is not cut for jitter (a
# stall longer than this and the window ends the turn, as that much quiet would). It is timed
# from when the last chunk was handled, not received: a chunk queued behind our own work is
# not a stall. A constant: the Realtime API has no key for it, and the window is the client's.
STALL_S = 1.0
# The text model's verdict waits at most this long for the session's answer to read its prompt
# (VoicePipeline.text_verdict_after).
TEXT_VERDICT_WAIT_S = 0.5
# (turn number, whole stable text so far, what it adds to the previous partial)
OnPartial = Callable[[int, str, str], None]
# The current turn's words so far, as the STT guesses them now.
OnWords = Callable[[str], None]
# A turn event between chunks (the caller acts on it as on feed's events): a verdict that came
# after the last audio ended the turn ("stopped"), or the stall fallback opened a pause
# ("paused") or ended the turn.
OnLateEvent = Callable[[TurnEvent], None]


class TurnTooLong(Exception):
    """The turn would hold more than `VoiceRuntime.max_turn_s` of audio."""


class VoicePipeline:
    def __init__(
        self,
        runtime: VoiceRuntime,
        name: str = "-",
        on_partial: OnPartial | None = None,
        turn_model: bool = True,
        on_late_event: OnLateEvent | None = None,
        on_words: OnWords | None = None,
    ) -> None:
        """`turn_model=False`: semantic_vad decides from the transcript alone (for comparison)."""
        self.runtime = runtime
        self.use_turn_model = turn_model
        self.name = name  # for logs: the session it serves
        self.on_partial = on_partial
        self.on_late_event = on_late_event
        self.on_words = on_words
        self.detector = SpeechDetector(runtime.engines.new_vad())
        self.turns: TurnDetector | None = None  # None: manual turns (the caller commits)
        self.language: str | None = None
        self.turn = 0  # numbers the turns, so that a late partial finds its own
        self._wire: WireFormat | None = None
        self._decoder: WireDecoder | None = None
        self._resample: StreamResampler | None = None
        self._turn_config: Any = object()
        self._noise_reduction: str | None = None
        self._turn_samples = 0
        self._preroll: deque[np.ndarray] = deque()
        self._stt: Transcription | None = None
        self._held: list[np.ndarray] | None = None  # audio after a pause's peek, kept from the STT
        self._peek: asyncio.Future[str] | None = None
        self._partial = ""
        self._stopped: TurnEvent | None = None
        # semantic_vad's end-of-turn model, and the turn's last 8 s of audio for it.
        self._turn_model: SmartTurn | None = None
        self._recent: deque[np.ndarray] = deque()
        self._recent_samples = 0
        self._pause = 0  # numbers the pauses, so that a late answer finds its own
        # The stall fallback: its timer (on the event loop), when the last chunk was handled
        # (loop time), and whether the time since then counts as quiet now.
        self._stall: asyncio.TimerHandle | None = None
        self._last_audio_at = 0.0
        self._assumed = False
        self._closed = False
        # The text end-of-turn model reads the words ahead: the latest words not read yet, and
        # whether a read is under way.
        self._words_ahead: str | None = None
        self._reading_words = False
        # What the text model's verdict on a pause's words waits for, set by the session: its
        # answer to those words reading its prompt. Read at once, the two readings would share
        # the two cores, and the answer would read with one thread instead of two.
        self.text_verdict_after: Callable[[], Awaitable[None]] | None = None
        self._text_verdict_wait: asyncio.Task | None = None

    # ---- configuration ----

    def configure(
        self,
        audio_format: dict[str, Any] | None,
        turn_detection: dict[str, Any] | None,
        language: str | None = None,
        noise_reduction: str | None = None,
    ) -> None:
        """The input format, turn detection, language and noise reduction (`near_field` /
        `far_field` / None) now in force (cheap when nothing changed; a new language applies
        from the next turn)."""
        self.language = language
        if noise_reduction != self._noise_reduction:
            self._noise_reduction = noise_reduction
            self.detector.set_noise_reduction(noise_reduction)
        wire = WireFormat.from_session(audio_format)
        if wire != self._wire:
            self._wire = wire
            self._decoder = WireDecoder(wire)
            self._resample = StreamResampler(wire.rate, RATE)
        if turn_detection != self._turn_config:
            self._turn_config = turn_detection
            self._disarm()  # a new detector: no turn under way
            now = self.turns.now_ms if self.turns else 0
            semantic = (turn_detection or {}).get("type") == "semantic_vad"
            self._turn_model = load_turn_model() if semantic and self.use_turn_model else None
            self.turns = (
                TurnDetector(
                    self.detector.frame_ms,
                    turn_detection,
                    model=self._turn_model is not None,
                    text_model=semantic and self.runtime.text_turn is not None,
                )
                if turn_detection
                else None
            )
            if self.turns:
                self.turns.now_ms = now

    # ---- state ----

    @property
    def speaking(self) -> bool:
        return self.turns is not None and self.turns.speaking

    @property
    def turn_s(self) -> float:
        """Seconds of audio in the current turn."""
        return self._turn_samples / RATE

    @property
    def buffered_ms(self) -> int:
        """Audio waiting for a commit (between turns in VAD mode: none)."""
        if self.turns is not None and not self.turns.speaking:
            return 0
        return self._turn_samples * 1000 // RATE

    @property
    def can_peek(self) -> bool:
        return self._stt is not None and self._stt.can_peek

    @property
    def peeking(self) -> bool:
        """A pause's decode has been asked for (and the turn has not ended or resumed since)."""
        return self._peek is not None

    @property
    def stable_text(self) -> str:
        """The turn's stable partial transcript so far (what the STT has settled on)."""
        return self._partial

    # ---- audio in ----

    async def feed(self, data: bytes) -> AsyncIterator[TurnEvent]:
        """Take one chunk of wire audio; yield the turn events it causes, each after the
        pipeline has acted on it (so the caller may finish a stopped turn before a new one
        starts in the same chunk)."""
        assert self._decoder is not None and self._resample is not None, "configure() first"
        self._disarm()  # audio came: nothing is assumed any more
        self._assumed = False
        try:
            samples = self._resample(self._decoder.decode(data))
            if self._turn_samples + samples.size > self.runtime.max_turn_s * RATE:
                raise TurnTooLong(f"a turn holds at most {self.runtime.max_turn_s:g} s of audio")
            if self.turns is None:  # manual turns: everything is the turn
                self._feed_turn(samples)
                return
            if self.turns.speaking:
                self._feed_turn(samples)
            else:
                self._keep_preroll(samples)
            for event in self.turns.feed(self.detector.probabilities(samples)):
                if event.kind == "started":
                    self._start_turn()
                elif event.kind == "resumed":
                    self._resume()
                elif event.kind == "stopped":
                    self._stopped = event
                yield event
            for point_ms in self.turns.take_score_requests():
                self._score_pause(point_ms)
            stop = self.turns.check_window()
            if stop is not None:
                self._stopped = stop
                yield stop
        finally:
            self._arm_after_audio()

    def end_speech(self) -> None:
        """The caller ends the turn itself (a manual commit)."""
        self._disarm()
        if self.turns is not None:
            self.turns.speaking = False

    def clear(self) -> None:
        """Drop the turn and everything buffered, down to the resampler's tail."""
        self.end_turn()
        self._preroll.clear()
        self.detector.reset()
        self.end_speech()
        self._wire = None  # the next configure() makes a fresh decoder and resampler

    def close(self) -> None:
        """The session is over: drop the turn; no timer fires and no late event comes after."""
        self._closed = True
        self.end_turn()

    def mark_activity(self) -> None:
        """An answer or a commit counts as activity for the idle timeout."""
        if self.turns is not None:
            self.turns.mark_activity()

    # ---- transcript ----

    @property
    def heard_speech(self) -> bool:
        """The VAD heard enough speech in the turn, densely enough, to be a turn (not a breath,
        a click or a clatter: `turns.is_speech`); a manual turn is the client's call."""
        if self.turns is None:
            return True
        return is_speech(*self._voiced())

    def _voiced(self) -> tuple[int, int]:
        """(speech frames, span) of the turn, in ms."""
        # A stopped turn's own count: a new turn may start in the same chunk.
        if self._stopped is not None:
            return self._stopped.voiced_ms, self._stopped.span_ms
        return (self.turns.voiced_ms, self.turns.span_ms) if self.turns is not None else (0, 0)

    def _stt_heard_noise(self) -> bool:
        """The STT's own verdict on the last peek/finish (when it gives one): a likely
        no-speech window (NO_SPEECH_PROB) decoded without confidence (NO_SPEECH_LOGPROB)."""
        evidence = self._stt.speech_evidence if self._stt is not None else None
        if evidence is None:
            return False
        logprob = evidence.avg_logprob
        return (evidence.no_speech_prob or 0.0) > NO_SPEECH_PROB and (
            logprob is None or logprob < NO_SPEECH_LOGPROB
        )

    async def peek(self) -> str:
        """The final text if the turn ended now (at a pause). Audio that comes after it is held
        from the transcriber until speech resumes, so the text stays the turn's final one.
        A turn that is not speech (`heard_speech`) has the text ""."""
        return await asyncio.shield(self._start_peek())

    def _start_peek(self) -> asyncio.Future[str]:
        if self._peek is None:
            self._held = []
            if self.turns is not None:
                self.turns.expect_transcript()
            self._peek = asyncio.ensure_future(self._transcribe(self._transcriber().peek))
            self._peek.add_done_callback(self._peeked)
        return self._peek

    def _peeked(self, future: asyncio.Future[str]) -> None:
        if future is self._peek and not future.cancelled() and future.exception() is None:
            if self.turns is not None:
                self.turns.use_transcript(future.result(), final=True)
                self._score_text(future.result())
                self._recheck_window()

    async def finish(self) -> str:
        """The turn's final text ("" when it was not speech); the turn ends (even when the
        transcriber fails)."""
        try:
            if self._peek is not None:
                return await asyncio.shield(self._peek)
            return await self._transcribe(self._transcriber().finish)
        finally:
            self.end_turn()
            self.mark_activity()

    def end_turn(self) -> None:
        self._disarm()
        self._assumed = False
        if self._stt is not None:
            self._stt.close()
        self._stt = None
        self._peek = None
        self._held = None
        self._turn_samples = 0
        self._partial = ""
        self._stopped = None
        self._recent.clear()
        self._recent_samples = 0
        self._words_ahead = None
        if self._text_verdict_wait is not None:
            self._text_verdict_wait.cancel()
            self._text_verdict_wait = None
        self.turn += 1

    async def _transcribe(self, how: Callable[[], str]) -> str:
        """The transcript so far, by `how` (the stream's peek or finish) in the STT executor."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        # The user waits on this decode: reading ahead steps aside for it (urgent.py).
        text = await loop.run_in_executor(self.runtime.stt_executor, urgently, how)
        log.debug(
            "[%s] transcript of %.1f s audio in %.0f ms",
            self.name,
            self._turn_samples / RATE,
            (loop.time() - started) * 1000,
        )
        if text and self.turns is not None and (not self.heard_speech or self._stt_heard_noise()):
            # At a pause this is the text if the turn ended now; the final one says so.
            voiced, span = self._voiced()
            evidence = self._stt.speech_evidence if self._stt is not None else None
            log.log(
                logging.INFO if how.__name__ == "finish" else logging.DEBUG,
                "[%s] a turn with %d ms of speech in %d ms is not speech (STT no-speech %s): "
                "not answered (the STT heard %r)",
                self.name,
                voiced,
                span,
                evidence.no_speech_prob if evidence is not None else None,
                text,
            )
            return ""
        return text

    # ---- inside ----

    def _start_turn(self) -> None:
        self.end_turn()
        for chunk in self._preroll:
            self._feed_turn(chunk)
        self._preroll.clear()

    def _resume(self) -> None:
        """Speech came back after a pause: the pause's text is no longer the final one."""
        self._pause += 1  # and the model's answer for it, if one is coming, no longer holds
        if self._peek is None:
            return
        self._peek = None
        if self._stt is not None:  # (the peek's stream; never make one just to tell it)
            self._stt.abandon_peek()  # its decode would only hold the engine up
        if self.turns is not None:
            self.turns.awaiting_transcript = False
        held, self._held = self._held or [], None
        for chunk in held:
            self._transcriber().feed(chunk)

    def _score_pause(self, point_ms: int) -> None:
        """semantic_vad: the model scores the turn's audio up to `point_ms` (stream time) of this
        pause, off the loop; the turn waits for its answer (up to the ceiling)."""
        model, turns = self._turn_model, self.turns
        if model is None or turns is None:
            return
        audio = np.concatenate(self._recent) if self._recent else np.zeros(0, np.int16)
        # The window ends where the quiet reached the point, not at the end of this chunk: the
        # model's verdict moves with the trailing quiet it hears.
        past = (turns.now_ms - point_ms) * RATE // 1000  # (the VAD's part-frame aside)
        if 0 < past < audio.size:
            audio = audio[:-past]
        if audio.size == 0:
            # The transcript decides; the caller (feed, the stall fallback) checks the window
            # right after asking for the scores.
            turns.use_turn_probability(None)
            return
        self._verdict(
            "end-of-turn model",
            lambda: model.probability(audio),
            turns.use_turn_probability,
            lambda p: f"{p:.2f} ({model.last_ms:.0f} ms, {audio.size / RATE:.1f} s audio)",
        )

    def _score_text(self, text: str) -> None:
        """semantic_vad with the text model: how finished the pause's words read, off the loop,
        once `text_verdict_after` is done (at most TEXT_VERDICT_WAIT_S); the turn waits for
        the answer (up to the ceiling)."""
        model, turns = self.runtime.text_turn, self.turns
        if model is None or turns is None or not turns.uses_text:
            return
        if not text.strip():
            turns.use_text_probability(None)  # nothing to read: the transcript rule decides
            return

        def read() -> None:
            self._verdict(
                "text end-of-turn model",
                lambda: model.probability(text),
                turns.use_text_probability,
                lambda p: f"{p:.3f} ({model.last_ms:.0f} ms) {text!r}",
            )

        wait = self.text_verdict_after
        if wait is None:
            read()
            return
        pause, turn = self._pause, self.turn

        async def after_the_answer_reads() -> None:
            try:
                await asyncio.wait_for(wait(), TEXT_VERDICT_WAIT_S)
            except TimeoutError:
                log.debug("[%s] the answer is slow to read: the words are read now", self.name)
            if pause == self._pause and turn == self.turn:  # (close() ends the turn)
                read()

        if self._text_verdict_wait is not None:
            self._text_verdict_wait.cancel()  # an earlier pause's: its verdict no longer counts
        self._text_verdict_wait = asyncio.ensure_future(after_the_answer_reads())

    def _verdict(
        self,
        what: str,
        compute: Callable[[], float],
        use: Callable[[float | None], None],
        detail: Callable[[float], str],
    ) -> None:
        """A verdict on this pause, computed in the turn executor and handed to `use` on the
        loop (None when it failed: the transcript decides), then the window is looked at again.
        Not when speech resumed or the turn ended meanwhile: a verdict that queued behind them
        is not even computed (no backlog of stale decisions)."""
        pause, turn = self._pause, self.turn

        def current() -> bool:
            return pause == self._pause and turn == self.turn and self.turns is not None

        def work() -> float | None:  # the turn thread
            return compute() if current() else None

        def done(future: asyncio.Future[float | None]) -> None:
            if not current():
                return
            if future.cancelled() or future.exception() is not None:
                why = "cancelled" if future.cancelled() else repr(future.exception())
                log.warning("[%s] %s failed: %s", self.name, what, why)
                use(None)
            else:
                log.debug("[%s] %s: %s", self.name, what, detail(future.result()))
                use(future.result())
            self._recheck_window()

        loop = asyncio.get_running_loop()
        loop.run_in_executor(self.runtime.turn_executor, work).add_done_callback(done)

    def _recheck_window(self) -> None:
        """A verdict (the model's, the pause's transcript) may come after the last audio: a
        client that stops sending at the end of its speech must still see its turn end, not
        wait for the next chunk (which may come much later)."""
        if self.turns is None or self.on_late_event is None or self._closed:
            return
        stop = self.turns.check_window(self._assumed_ms())
        if stop is not None:
            if self._assumed:
                log.debug(
                    "[%s] turn ended on quiet assumed after the last chunk (by a verdict)",
                    self.name,
                )
            else:
                log.debug("[%s] turn ended by a late verdict", self.name)
            self._stopped = stop
            self.on_late_event(stop)
        elif self._assumed:
            self._arm_for_window()  # the verdict moved the window's end

    # ---- the stall fallback ----

    def _assumed_ms(self) -> int:
        """The quiet assumed after the last chunk (0 until the stall fallback is on)."""
        if not self._assumed:
            return 0
        return int((asyncio.get_running_loop().time() - self._last_audio_at) * 1000)

    def _arm_after_audio(self) -> None:
        """A chunk was handled: if the turn goes on, the fallback waits STALL_S for the next."""
        self._assumed = False
        if self._closed or self.on_late_event is None or not self.speaking:
            return
        loop = asyncio.get_running_loop()
        self._last_audio_at = loop.time()
        self._disarm()
        self._stall = loop.call_later(STALL_S, self._on_stall)

    def _arm_for_window(self) -> None:
        """Assuming quiet: look again when the window would run out."""
        self._disarm()
        left = self.turns.window_left_ms(self._assumed_ms()) if self.turns else None
        if left is not None and not self._closed:
            self._stall = asyncio.get_running_loop().call_later(max(left, 1) / 1000, self._on_stall)

    def _disarm(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _on_stall(self) -> None:
        """No audio since the last chunk (STALL_S and more): that time counts as quiet."""
        self._stall = None
        turns = self.turns
        if turns is None or not turns.speaking or self.on_late_event is None or self._closed:
            return
        if not self._assumed:
            log.debug("[%s] no audio for %.1f s mid-turn: counted as quiet", self.name, STALL_S)
        self._assumed = True
        if (
            turns.kind == "semantic_vad"
            and (not turns.uses_model or turns.uses_text)
            and self._peek is None
            and self.can_peek
        ):
            # The transcript rule waits for the pause's final text, as it would in real quiet
            # (the caller's speculation at "paused" shares this decode).
            self._start_peek()
        events = turns.assume_quiet(self._assumed_ms())
        if events and events[-1].kind == "stopped":
            # The pause opened and the window ran out at once: no answer to prepare on it (a
            # speculation's decode would only delay the turn's own).
            events = [event for event in events if event.kind != "paused"]
        for event in events:
            if event.kind == "stopped":
                self._stopped = event
                log.debug("[%s] turn ended on quiet assumed after the last chunk", self.name)
            self.on_late_event(event)
        for point_ms in turns.take_score_requests():
            self._score_pause(point_ms)
        self._recheck_window()  # (an empty score's verdict), or look again at the window's end

    def _feed_turn(self, samples: np.ndarray) -> None:
        self._turn_samples += samples.size
        if self._turn_model is not None:  # the model hears the last 8 s
            self._recent.append(samples)
            self._recent_samples += samples.size
            while self._recent_samples - self._recent[0].size >= WINDOW_SAMPLES:
                self._recent_samples -= self._recent.popleft().size
        if self._held is not None:  # a pause is being transcribed: hold it back
            self._held.append(samples)
        else:
            self._transcriber().feed(samples)

    def _keep_preroll(self, samples: np.ndarray) -> None:
        self._preroll.append(samples)
        keep = RATE * int((self._turn_config or {}).get("prefix_padding_ms") or 300) // 1000
        keep += RATE // 10  # the detector needs a couple of frames to be sure
        while sum(c.size for c in self._preroll) - self._preroll[0].size > keep:
            self._preroll.popleft()

    def _transcriber(self) -> Transcription:
        if self._stt is None:
            loop = asyncio.get_running_loop()
            turn = self.turn

            def on_partial(text: str) -> None:  # the STT worker thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._on_partial, turn, text)

            def on_hypothesis(text: str) -> None:  # the STT worker thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._on_words, turn, text)

            self._stt = Transcription(
                self.runtime.engines.stt,
                self.language,
                on_partial,
                on_hypothesis=on_hypothesis if self._wants_words else None,
            )
        return self._stt

    @property
    def _wants_words(self) -> bool:
        return self.on_words is not None or (self.turns is not None and self.turns.uses_text)

    def _on_words(self, turn: int, text: str) -> None:
        if turn != self.turn:
            return
        self._read_words_ahead(text)
        if self.on_words is not None:
            self.on_words(text)

    def _read_words_ahead(self, text: str) -> None:
        """semantic_vad with the text model: the words heard so far go into its cache while the
        user speaks (one read at a time, the latest words next), so the pause's verdict reads
        only the last words. Not once the pause's decode has begun: the verdict is next."""
        model, turns = self.runtime.text_turn, self.turns
        if model is None or turns is None or not turns.uses_text or self._peek is not None:
            return
        if self._reading_words:
            self._words_ahead = text
            return
        self._reading_words = True

        def done(future: asyncio.Future[None]) -> None:
            self._reading_words = False
            if not future.cancelled() and future.exception() is not None:
                log.debug("[%s] reading words ahead failed: %r", self.name, future.exception())
            words, self._words_ahead = self._words_ahead, None
            if words is not None and not self._closed:
                self._read_words_ahead(words)

        loop = asyncio.get_running_loop()
        loop.run_in_executor(self.runtime.turn_executor, model.read_ahead, text).add_done_callback(
            done
        )

    def _on_partial(self, turn: int, text: str) -> None:
        if turn != self.turn:
            return  # a late partial of an earlier turn
        if self.turns is not None:
            self.turns.use_transcript(text)
        if self._stt is not None and not self._stt.gives_hypotheses:
            self._on_words(turn, text)
        if not text.startswith(self._partial) or text == self._partial:
            return  # only extensions of what was already given
        delta, self._partial = text[len(self._partial) :], text
        if self.on_partial is not None:
            self.on_partial(turn, text, delta)
