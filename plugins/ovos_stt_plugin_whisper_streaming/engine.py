"""One loaded faster-whisper model, shared by every stream and batch call of the process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

from . import short_window
from .audio import WHISPER_RATE
from .priority import threads_started_at_nice
from .short_window import Abandoned

__all__ = ["Abandoned", "Decoded", "Segment", "WhisperEngine", "Word", "get_engine"]

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str  # Whisper's form, with its leading space


@dataclass(frozen=True)
class Segment:
    id: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True)
class Decoded:
    segments: list[Segment]
    language: str
    duration: float
    # Whisper's own judgement of the window: P(<|nospeech|>) and the generated tokens' mean
    # log-probability (batch decodes of long audio: the worst segment). None when unknown.
    no_speech_prob: float | None = None
    avg_logprob: float | None = None
    # The temperature whose result was kept (short window only): > 0 means Whisper's
    # temperature fallback decoded the window again (best of 5 samples per extra try).
    temperature: float = 0.0
    encoder_s: float = 0.0  # of the decode's time, the encoder's (short window only)

    @property
    def text(self) -> str:
        return self.raw_text.strip()

    @property
    def raw_text(self) -> str:
        """Unstripped: what follows a forced prefix keeps its leading space (or lack of one)."""
        return "".join(s.text for s in self.segments)

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]


class WhisperEngine:
    """Wraps WhisperModel with an explicit CPU budget. Lanes, each one decode at a time:
    `partial_lanes` for the streams' frequent re-decodes, two `final` lanes for peeks, finals
    and batch calls. So a pause's decode never queues behind a partial one (CTranslate2 runs one
    call per worker: each lane has its own), and two sessions speaking at once each get their
    partial decodes (on one lane, each got half of them, agreed on fewer words, and its pauses
    decoded more of the turn). The first final lane encodes on `final_cpu_threads` and writes
    the tokens on one thread (`_decoder_for`); the second, for another session's pause at the
    same time, does both on one thread, beside the first instead of queueing behind it.

    The partial lanes' model is loaded on threads of lower priority (`partial_nice`,
    priority.py): a partial decode still running when a pause opens (CTranslate2 cannot stop a
    call half-way) takes no CPU time from the pause's decode, the LLM or the TTS."""

    def __init__(
        self,
        model_dir: Path,
        compute_type: str = "int8",
        cpu_threads: int = 1,
        final_cpu_threads: int | None = None,
        partial_lanes: int = 1,
        partial_nice: int = 0,
    ) -> None:
        self.model_dir = Path(model_dir)
        final_cpu_threads = final_cpu_threads or cpu_threads
        self.partial_lanes = max(1, partial_lanes)
        LOG.info(
            "loading Whisper %s (%s, %d threads, final lane %d, partial decodes at nice %d)",
            model_dir,
            compute_type,
            cpu_threads,
            final_cpu_threads,
            partial_nice,
        )

        def load(threads: int, workers: int) -> WhisperModel:
            # local_files_only: a folder path never triggers a hub lookup. A model's workers
            # share its weights; another model loads them again (tiny.en int8: ~40 MB).
            return WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type=compute_type,
                cpu_threads=threads,
                num_workers=workers,
                local_files_only=True,
            )

        with threads_started_at_nice(partial_nice):
            self.model = load(cpu_threads, self.partial_lanes)
        # One thread: the first final lane's tokens and the second final lane's whole decode.
        self.final_decoder = load(1, 2)
        self.final_model = self.final_decoder
        if final_cpu_threads != 1:
            self.final_model = load(final_cpu_threads, 1)  # the first final lane's encoder
        self.multilingual = bool(self.model.model.is_multilingual)
        # Held only through lane(): a lock taken elsewhere would be released without waking a
        # decode that waits for a lane.
        self._final_lanes = [
            (threading.Lock(), self.final_model),
            (threading.Lock(), self.final_decoder),
        ]
        self._partial_lanes = [(threading.Lock(), self.model) for _ in range(self.partial_lanes)]
        self._lane_freed = threading.Condition()  # a decode waits on it for a lane

    def supports(self, language: str) -> bool:
        return self.multilingual or language == "en"

    def decode(
        self,
        audio: np.ndarray,
        language: str | None,
        prompt: str | None = None,
        beam_size: int = 5,
        word_timestamps: bool = False,
        no_speech_threshold: float = 0.6,
        fallback: bool = True,
        encoder_window_s: float = short_window.MAX_S,
        complete: bool = True,
        *,
        prefix: str | None = None,
        partial: bool = False,
        abandoned: Callable[[], bool] | None = None,
        timestamps: bool = True,
        resume_s: float | None = None,
    ) -> Decoded:
        """Transcribe float32 16 kHz mono audio.

        fallback=False disables the temperature fallback (up to 5 extra decodes of one window):
        streaming re-decodes cut words at the window edge, which looks like low confidence.
        encoder_window_s < 30: audio that fits one window is decoded with the encoder sized to
        max(encoder_window_s, audio + 1 s) instead of 30 s (see short_window).
        complete=False: `audio` is a stream's window that goes on, so words at its very end are
        not trusted (short_window.decode).
        prefix: forced start of the text (short window only); the result is what follows it.
        resume_s: the decoder starts at this time of `audio` (short window only; short_window).
        partial=True: the partial lane. abandoned(): asked between engine calls; True raises
        Abandoned (short window only)."""
        temperatures = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] if fallback else [0.0]
        language = language if self.multilingual else "en"
        with self.lane(partial) as model:
            if encoder_window_s < short_window.MAX_S and short_window.fits(audio):
                found = short_window.decode(
                    model,
                    self._decoder_for(model),
                    audio,
                    language,
                    prompt,
                    beam_size,
                    word_timestamps,
                    no_speech_threshold,
                    temperatures,
                    encoder_window_s,
                    complete,
                    prefix,
                    abandoned,
                    timestamps,
                    resume_s,
                )
                out = [
                    Segment(i, s["start"], s["end"], s["text"], [Word(*w) for w in s["words"]])
                    for i, s in enumerate(found.segments)
                ]
                return Decoded(
                    out,
                    found.language,
                    len(audio) / WHISPER_RATE,
                    found.no_speech_prob,
                    found.avg_logprob,
                    found.temperature,
                    found.encoder_s,
                )
            segments, info = model.transcribe(
                audio,
                language=language,
                beam_size=beam_size,
                initial_prompt=prompt or None,
                prefix=prefix or None,
                word_timestamps=word_timestamps,
                vad_filter=False,  # the dual VAD already segmented the turn
                no_speech_threshold=no_speech_threshold,
                temperature=temperatures,
            )
            found = list(segments)  # a generator: decoding happens while iterating
            out = [
                Segment(
                    s.id,
                    s.start,
                    s.end,
                    s.text,
                    [Word(w.start, w.end, w.word) for w in (s.words or [])],
                )
                for s in found
            ]
        return Decoded(
            out,
            info.language,
            len(audio) / WHISPER_RATE,
            max((s.no_speech_prob for s in found), default=None),
            min((s.avg_logprob for s in found), default=None),
        )

    def _decoder_for(self, model: WhisperModel) -> WhisperModel:
        """The model whose decoder writes a short window's tokens after `model` encoded it.
        The first final lane's replica encodes on its threads, but its token-by-token steps
        run faster on one thread (small matrices: a second thread costs more in sync than it
        gives): the one-thread model. Measured on 2 cores, 24 corpus clips, beam 2 with
        timestamps after the same 2-thread encoder: 360 → 187 ms median (with the other core
        busy: 311 → 227 ms), the same tokens in all 24."""
        return self.final_decoder if model is self.final_model else model

    @contextmanager
    def lane(self, partial: bool) -> Iterator[WhisperModel]:
        """Hold a lane for one decode; the model to decode with. A partial decode takes a free
        partial lane, a final a free final lane (the first when both are); else each waits."""
        lock, model = self._free_lane(self._partial_lanes if partial else self._final_lanes)
        try:
            yield model
        finally:
            lock.release()
            with self._lane_freed:
                self._lane_freed.notify_all()

    def _free_lane(
        self, lanes: list[tuple[threading.Lock, WhisperModel]]
    ) -> tuple[threading.Lock, WhisperModel]:
        with self._lane_freed:
            while True:
                for index, (lock, model) in enumerate(lanes):
                    if lock.acquire(blocking=False):
                        if index and lanes is self._final_lanes:
                            LOG.debug("final lane busy: decoding on the second one")
                        return lock, model
                self._lane_freed.wait()


@lru_cache(maxsize=4)
def get_engine(
    model_dir: Path,
    compute_type: str = "int8",
    cpu_threads: int = 1,
    final_cpu_threads: int | None = None,
    partial_lanes: int = 1,
    partial_nice: int = 0,
) -> WhisperEngine:
    """Models are big: one per (folder, compute type, threads, lanes, nice) per process."""
    return WhisperEngine(
        model_dir,
        compute_type,
        cpu_threads,
        final_cpu_threads or cpu_threads,
        partial_lanes,
        partial_nice,
    )
