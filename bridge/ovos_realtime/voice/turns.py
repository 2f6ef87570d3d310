"""Turn detection on per-frame speech probabilities: `server_vad` and `semantic_vad`.

Events, in stream time (ms of audio since the session started):
- `started`: speech began (audio_start_ms includes prefix_padding_ms, as OpenAI reports it);
- `paused`: speech went quiet: the silence window opens (the voice loop speculates from here);
- `resumed`: speech came back inside the window;
- `stopped`: the window ran out: the turn is over;
- `idle`: no speech for idle_timeout_ms after the last turn.

A client that stops sending mid-turn (no trailing quiet at all) leaves the window open in stream
time; `assume_quiet` counts the time it has been silent as quiet after the audio received (the
voice pipeline calls it when nothing came for a while), and `check_window` takes that time too.

`semantic_vad` decides the window with an end-of-turn model when one is loaded (Smart Turn v3,
voice/turn_model.py): at each pause the turn's audio is scored once the quiet has lasted
`model_points_ms` (96 ms; bench/turn_taking.py compares 200 ms, where
pipecat scores, and several points that must each say "complete"); a probability at/above the eagerness' threshold ends the
turn after a short window, below it the turn waits up to the ceiling (8/4/2 s for eagerness low/medium/high) for more speech. Without the model (or where the
model agrees the turn is done but the transcript ends on a trailing word, a second signal), it
decides from what was said: a complete sentence ends the turn sooner, a trailing word ("and",
"so", "the"…) makes it wait up to the ceiling. With the text end-of-turn model
(voice/text_turn.py), the pause's words are read by the chat LLM instead of their punctuation:
finished words end the turn sooner, unfinished ones wait the unsure window (with the audio model
too: it must hear the end and the words must read finished).
"""

import re
from dataclasses import dataclass
from typing import Any, Literal

TurnKind = Literal["started", "paused", "resumed", "stopped", "idle"]


@dataclass(frozen=True)
class TurnEvent:
    kind: TurnKind
    audio_ms: int
    voiced_ms: int = 0  # `stopped`: the turn's speech frames in all (see MIN_VOICED_MS)
    span_ms: int = 0  # `stopped`: first to last speech frame (voiced_ms / span_ms: speech ratio)


# semantic_vad: (silence after a complete sentence, after anything else, ceiling) per eagerness.
_EAGERNESS_MS = {
    "high": (200, 600, 2000),
    "medium": (400, 1200, 4000),
    "auto": (400, 1200, 4000),
    "low": (700, 2500, 8000),
}
# semantic_vad with the model: (probability threshold, silence after "complete") per eagerness;
# "incomplete" waits up to the ceiling above.
_MODEL_EAGERNESS = {
    "high": (0.3, 150),
    "medium": (0.5, 200),
    "auto": (0.5, 200),
    "low": (0.7, 400),
}
# semantic_vad with the text end-of-turn model (voice/text_turn.py): the probability at/above
# which the words read as a finished message, per eagerness (the corpus' figures are there).
_TEXT_THRESHOLD = {"high": 0.02, "medium": 0.05, "auto": 0.05, "low": 0.1}
_TRAILING = {
    "and", "or", "but", "so", "because", "the", "a", "an", "to", "of", "with", "for", "in",
    "on", "at", "my", "your", "um", "uh", "er", "then", "if", "that", "which", "is", "are",
    "was", "i", "we", "you", "like", "about", "from", "by", "as", "when", "while", "also",
}  # fmt: skip
_COMPLETE = re.compile(r"[.!?…][\"')\]]*$")
_MIN_SPEECH_MS = 64  # shorter blips (clicks, breath) do not start a turn
# A turn with less speech than this in all (frames at/above the threshold) is a breath, a click
# or a cough that passed for a turn: Whisper hears "You" or "Thank you." in it. A short real
# word ("no", "yes") holds 200-300 ms of speech frames.
MIN_VOICED_MS = 160
# ...or whose speech frames are under this share of the span from its first speech frame to its
# last: noise that flickers around the threshold, held together by the hysteresis. Read speech
# in the corpus scores 0.81-0.98 (bench/turn_taking.py).
MIN_SPEECH_RATIO = 0.5


def is_speech(voiced_ms: int, span_ms: int) -> bool:
    """The VAD's own verdict on a whole turn: enough speech frames, densely enough."""
    return voiced_ms >= MIN_VOICED_MS and voiced_ms >= MIN_SPEECH_RATIO * span_ms


# A quiet this long is worth speculating on: one VAD frame. The VAD's last speech frame ends
# 20-96 ms after the speech's energy (the corpus' 44 clips), so the words are all in by then,
# and a quiet frame inside a turn is rare: 92 runs of quiet mid-turn in 354 s of the corpus'
# speech against 82 of 96 ms or more (three frames, what it was: the speculation then began
# 64 ms later on every turn).
_PAUSE_MS = 32
# semantic_vad with the model: the quiet (ms) after which the turn's audio is scored; each score
# must say "complete". Once, at 96 ms: on the bench it cut fewer inserted hesitations
# (5 of 15) than once at 200 ms, where pipecat scores (7), and ended complete turns sooner. At
# 200 and 400 ms it cut 4 and split no complete turn at a comma, but its verdict comes ~0.4 s +
# two decisions after the last word (then, a stop was only noticed when audio arrived: a client
# that stopped streaming after 1 s of quiet got no speech_stopped; a late verdict now ends the
# turn at once, voice/pipeline.py).
MODEL_POINTS_MS: tuple[int, ...] = (96,)


def trails_off(transcript: str) -> bool:
    """The text ends on a word that promises more ("and", "the", "um"…) or a comma/dash."""
    text = transcript.strip()
    words = re.findall(r"[\w']+", text.lower())
    return bool(words) and (words[-1] in _TRAILING or text.endswith((",", "-", "…", "...")))


def semantic_silence_ms(transcript: str, eagerness: str) -> int:
    """How long a pause must last before this transcript counts as a finished turn."""
    complete_ms, unsure_ms, ceiling_ms = _EAGERNESS_MS.get(eagerness, _EAGERNESS_MS["auto"])
    text = transcript.strip()
    if not re.findall(r"[\w']+", text):
        return unsure_ms
    if trails_off(text):
        return ceiling_ms
    if _COMPLETE.search(text):
        return complete_ms
    return unsure_ms


class TurnDetector:
    def __init__(
        self,
        frame_ms: int,
        config: dict[str, Any],
        model: bool = False,
        transcript_signal: bool = True,
        model_points_ms: tuple[int, ...] = MODEL_POINTS_MS,
        text_model: bool = False,
    ) -> None:
        """`model`: semantic_vad gets end-of-turn probabilities (`use_turn_probability`), asked
        for through `take_score_requests()` at `model_points_ms` of each pause's quiet.
        `transcript_signal`: with the model, a trailing word in the transcript still makes a
        "complete" turn wait the unsure window. `text_model`: the pause's transcript is scored by
        the text end-of-turn model (`use_text_probability`), which then stands in for the
        sentence's punctuation: the turn waits for its answer."""
        self.frame_ms = frame_ms
        self.kind = config.get("type", "server_vad")
        self.threshold = float(config.get("threshold") or 0.5)
        self.prefix_padding_ms = int(config.get("prefix_padding_ms") or 300)
        self.silence_ms = int(config.get("silence_duration_ms") or 500)
        self.eagerness = config.get("eagerness") or "auto"
        idle = config.get("idle_timeout_ms")
        self.idle_timeout_ms = int(idle) if idle else None
        # semantic_vad: the window follows the transcript; it starts out unsure, and while the
        # final transcript of a pause is on its way the turn waits for it (up to the ceiling).
        self.ceiling_ms = self.silence_ms
        self.awaiting_transcript = False
        self.uses_model = model and self.kind == "semantic_vad"
        self.transcript_signal = transcript_signal
        self.awaiting_model = False
        self.turn_probability: float | None = None  # the model's answer at this pause
        self.model_points_ms = tuple(sorted(model_points_ms)) or MODEL_POINTS_MS
        self._points_left: list[int] = []  # this pause's scores not yet asked for
        self._score_requests: list[int] = []  # stream ms whose audio the model should score
        self._answers_due = 0  # scores asked for at this pause and not yet answered
        self._verdict_final = False  # this pause's answer is in: later ones change nothing
        self._transcript = ""
        if self.kind == "semantic_vad":
            _, self.silence_ms, self.ceiling_ms = _EAGERNESS_MS.get(
                self.eagerness, _EAGERNESS_MS["auto"]
            )
        self.model_threshold, self._model_complete_ms = _MODEL_EAGERNESS.get(
            self.eagerness, _MODEL_EAGERNESS["auto"]
        )
        self.uses_text = text_model and self.kind == "semantic_vad"
        self.text_threshold = _TEXT_THRESHOLD.get(self.eagerness, _TEXT_THRESHOLD["auto"])
        self.text_probability: float | None = None  # the text model's answer at this pause
        self.awaiting_text = False
        self.now_ms = 0
        self.speaking = False
        self._speech_run_ms = 0
        self._speech_start_ms = 0
        self.voiced_ms = 0  # speech frames (at/above the threshold) in the current/last turn
        self.span_ms = 0  # the current/last turn's first speech frame to the end of its last
        self._silence_start_ms: int | None = None
        self._paused = False
        self._last_activity_ms = 0
        self._idle_fired = False

    def use_transcript(self, transcript: str, final: bool = False) -> None:
        """semantic_vad: what the user said so far sets the silence window (with the model:
        a second signal once the model has spoken)."""
        if self.kind != "semantic_vad":
            return
        self._transcript = transcript
        if final:
            self.awaiting_transcript = False
        self._set_window()

    def expect_transcript(self) -> None:
        """A pause's final transcript is being computed: semantic_vad without the model waits
        for it (the model does not: it hears the audio itself), and for the text model's score
        of it where there is one."""
        if self.kind == "semantic_vad" and not self.uses_model:
            self.awaiting_transcript = True
        self.awaiting_text = self.uses_text

    def use_text_probability(self, probability: float | None) -> None:
        """The text model's answer for the pause's transcript; None: it failed or had no words
        to score (the transcript rule decides)."""
        if not self.uses_text:
            return
        self.text_probability = probability
        self.awaiting_text = False
        self._set_window()

    def _set_window(self) -> None:
        if self.uses_model:
            self._model_window()
        else:
            self.silence_ms = self._words_window()

    def _words_window(self) -> int:
        """The window the words ask for (the word list, or the text model's answer)."""
        by_list = semantic_silence_ms(self._transcript, self.eagerness)
        if self.text_probability is None or trails_off(self._transcript):
            return by_list
        complete_ms, unsure_ms, _ = _EAGERNESS_MS.get(self.eagerness, _EAGERNESS_MS["auto"])
        return complete_ms if self.text_probability >= self.text_threshold else unsure_ms

    def expect_model(self) -> None:
        """The model is scoring this pause: the turn does not end before its answer (nor
        after the ceiling)."""
        if self.uses_model:
            self.awaiting_model = True

    @property
    def scoring(self) -> bool:
        """A score of this pause (the model's, the text model's) has been asked for and not
        answered yet."""
        return (self.awaiting_model and self._answers_due > 0) or self.awaiting_text

    def take_score_requests(self) -> list[int]:
        """The points (stream ms) at which the current pause's audio should now be scored by the
        model (`use_turn_probability` with each answer, in order)."""
        requests, self._score_requests = self._score_requests, []
        return requests

    def use_turn_probability(self, probability: float | None) -> None:
        """The model's answer for the current pause; None: it failed, the transcript decides.
        With several scoring points, "complete" holds only once every point has said so."""
        if not self.uses_model or self._verdict_final:
            return
        self._answers_due = max(0, self._answers_due - 1)
        self.turn_probability = probability
        if probability is None or probability < self.model_threshold:
            self._points_left = []  # incomplete (or no model): later points would not change it
            self._verdict_final = True
        self._verdict_final |= not (self._points_left or self._answers_due)
        self.awaiting_model = not self._verdict_final
        self._model_window()

    def _new_pause(self) -> None:
        self._points_left = list(self.model_points_ms) if self.uses_model else []
        self._answers_due = 0
        self._verdict_final = False

    def _model_window(self) -> None:
        unsure_ms = _EAGERNESS_MS.get(self.eagerness, _EAGERNESS_MS["auto"])[1]
        if self.turn_probability is None:
            self.silence_ms = self._words_window()
        elif self.turn_probability < self.model_threshold:
            self.silence_ms = self.ceiling_ms
        elif self.transcript_signal and trails_off(self._transcript):
            self.silence_ms = unsure_ms
        elif self.text_probability is not None and self.text_probability < self.text_threshold:
            self.silence_ms = unsure_ms  # it sounds finished; the words say it is not
        else:
            self.silence_ms = self._model_complete_ms

    @property
    def window_ms(self) -> int:
        """The quiet that ends the turn now: the ceiling while a verdict is awaited."""
        if self.awaiting_transcript or self.awaiting_model or self.awaiting_text:
            return self.ceiling_ms
        return self.silence_ms

    def _window_over(self, quiet_ms: int) -> bool:
        return quiet_ms >= self.window_ms

    def feed(self, probabilities: list[float]) -> list[TurnEvent]:
        events: list[TurnEvent] = []
        # Hysteresis: once speaking, a frame must fall well below the threshold to count as quiet.
        quiet_below = max(0.0, self.threshold - 0.15)
        for probability in probabilities:
            start = self.now_ms
            self.now_ms += self.frame_ms
            if not self.speaking:
                if probability >= self.threshold:
                    if self._speech_run_ms == 0:
                        self._speech_start_ms = start
                    self._speech_run_ms += self.frame_ms
                    if self._speech_run_ms >= _MIN_SPEECH_MS:
                        self.speaking = True
                        self.voiced_ms = self._speech_run_ms
                        self.span_ms = self._speech_run_ms
                        self._silence_start_ms = None
                        self._idle_fired = False
                        audio_start = max(0, self._speech_start_ms - self.prefix_padding_ms)
                        events.append(TurnEvent("started", audio_start))
                else:
                    self._speech_run_ms = 0
                    if (
                        self.idle_timeout_ms
                        and not self._idle_fired
                        and self.now_ms - self._last_activity_ms >= self.idle_timeout_ms
                    ):
                        self._idle_fired = True
                        events.append(TurnEvent("idle", self.now_ms))
                continue
            if probability >= self.threshold:
                self.voiced_ms += self.frame_ms
                self.span_ms = self.now_ms - self._speech_start_ms
            if probability >= quiet_below:
                if self._paused:
                    events.append(TurnEvent("resumed", start))
                    # The pause's answers no longer hold: speech went on.
                    self.awaiting_model = self.awaiting_text = False
                    self.turn_probability = self.text_probability = None
                    self._new_pause()
                    self._points_left = []
                    self._score_requests = []
                self._silence_start_ms = None
                self._paused = False
                continue
            if self._silence_start_ms is None:
                self._silence_start_ms = start
            events.extend(self._quiet(self.now_ms - self._silence_start_ms))
        return events

    def _quiet(self, quiet_ms: int) -> list[TurnEvent]:
        """The turn has been quiet for `quiet_ms` since `_silence_start_ms`: the pause opens,
        the model's scoring points come due, the window may run out."""
        assert self._silence_start_ms is not None
        events: list[TurnEvent] = []
        if not self._paused and quiet_ms >= min(_PAUSE_MS, self.silence_ms // 2):
            self._paused = True
            events.append(TurnEvent("paused", self._silence_start_ms))
            self._new_pause()
            # The turn holds until the model has heard this pause.
            self.awaiting_model = self.uses_model
        while self._points_left and quiet_ms >= self._points_left[0]:
            self._score_requests.append(self._silence_start_ms + self._points_left.pop(0))
            self._answers_due += 1
        if self._window_over(quiet_ms):
            events.append(self._stop())
        return events

    def assume_quiet(self, gap_ms: int) -> list[TurnEvent]:
        """No audio came for `gap_ms` (wall time) after the last chunk: count it as quiet after
        the audio received, as quiet frames would be (a pause, the model's scoring points, a
        stop where the window runs out). The clock stays at the audio received, so that the
        next chunk, whenever it comes, is the next audio."""
        if not self.speaking or gap_ms <= 0:
            return []
        if self._silence_start_ms is None:
            self._silence_start_ms = self.now_ms  # the quiet starts where the audio stopped
        return self._quiet(self.now_ms + gap_ms - self._silence_start_ms)

    def window_left_ms(self, gap_ms: int = 0) -> int | None:
        """The quiet still needed (beyond `gap_ms` assumed) before the window runs out; None
        outside a pause."""
        if not self.speaking or self._silence_start_ms is None:
            return None
        return self._silence_start_ms + self.window_ms - self.now_ms - gap_ms

    def check_window(self, gap_ms: int = 0) -> TurnEvent | None:
        """The window may have shrunk (semantic_vad learned the sentence is complete);
        `gap_ms`: quiet assumed after the audio received (`assume_quiet`)."""
        if (
            self.speaking
            and self._silence_start_ms is not None
            and self._window_over(self.now_ms + gap_ms - self._silence_start_ms)
        ):
            return self._stop()
        return None

    def _stop(self) -> TurnEvent:
        # The turn ends where the window ran out: at the audio's end when the audio showed it
        # (or a verdict came after it), further on when quiet was assumed after the audio.
        end_ms = self.now_ms
        if self._silence_start_ms is not None:
            end_ms = max(end_ms, self._silence_start_ms + self.window_ms)
        self.speaking = False
        self._speech_run_ms = 0
        self._silence_start_ms = None
        self._paused = False
        self.awaiting_transcript = False
        self.awaiting_model = self.awaiting_text = False
        self.turn_probability = self.text_probability = None
        self._new_pause()
        self._points_left = []
        self._score_requests = []
        self._transcript = ""
        self._last_activity_ms = self.now_ms
        return TurnEvent("stopped", end_ms, self.voiced_ms, self.span_ms)

    def mark_activity(self) -> None:
        """A response or a commit counts as activity for the idle timeout."""
        self._last_activity_ms = self.now_ms
        self._idle_fired = False
