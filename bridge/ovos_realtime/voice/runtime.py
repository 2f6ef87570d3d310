"""What every session's voice loop shares: the loaded engines and their bounded executors."""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ovos_realtime.threads import lower_priority
from ovos_realtime.voice.contracts import VoiceListing
from ovos_realtime.voice.engines import VoiceEngines
from ovos_realtime.voice.speech_out import OnAudio, SpeechOutput
from ovos_realtime.voice.text_turn import TextTurnModel

log = logging.getLogger(__name__)


@dataclass
class VoiceRuntime:
    engines: VoiceEngines
    tts_workers: int = 1
    max_turn_s: float = 600.0
    turn_model: bool = False  # semantic_vad hears the end of a turn with Smart Turn v3
    # semantic_vad reads the end of a turn in its words with this chat model (voice/text_turn.py)
    text_turn_gguf: Path | None = None
    # Final transcriptions are short; two workers keep one session's finish from queueing
    # behind another's. Worker threads yield the CPU to the event loop (threads.py).
    stt_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            2, thread_name_prefix="stt", initializer=lower_priority
        )
    )
    tts_executor: ThreadPoolExecutor = field(init=False)
    text_turn: TextTurnModel | None = field(init=False, default=None)
    # semantic_vad's end-of-turn model: one decision at a time, beside the STT's.
    turn_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            1, thread_name_prefix="turn", initializer=lower_priority
        )
    )

    def __post_init__(self) -> None:
        self.tts_executor = ThreadPoolExecutor(
            self.tts_workers, thread_name_prefix="tts", initializer=lower_priority
        )
        if self.turn_model:
            # Loaded once, here at start-up (~0.5 s), never on the event loop when a session
            # first asks for semantic_vad; a missing model is logged now, and semantic_vad
            # falls back to the transcript rule.
            from ovos_realtime.voice.turn_model import load_turn_model

            load_turn_model()
        if self.text_turn_gguf is not None:
            try:
                self.text_turn = TextTurnModel(self.text_turn_gguf)
            except (OSError, ValueError) as exc:
                log.warning("text end-of-turn model not loaded (%s): the word list decides", exc)
            else:
                log.info("text end-of-turn model loaded from %s", self.text_turn_gguf)

    @property
    def stt_model(self) -> str:
        return self.engines.stt_module

    def resolve_voice(self, voice: str | None) -> str | None:
        """The engine's voice of that name, or None (its default) for names it lacks, such as
        OpenAI's "alloy": clients send those by habit and expect speech, not an error."""
        if not voice or voice == "default":
            return None
        tts = self.engines.tts
        known = tts.voices() if isinstance(tts, VoiceListing) else []
        return voice if voice in known else None

    def speech_output(
        self,
        voice: str | None,
        speed: float | None,
        rate: int,
        on_audio: OnAudio,
        owner: str | None = None,
    ) -> SpeechOutput:
        """Spoken output in `voice` (already resolved) at `rate` Hz, of `owner`'s answer."""
        return SpeechOutput(
            self.engines.tts, self.tts_executor, voice, speed, rate, on_audio, owner
        )

    def shutdown(self) -> None:
        self.stt_executor.shutdown(wait=False, cancel_futures=True)
        self.tts_executor.shutdown(wait=False, cancel_futures=True)
        self.turn_executor.shutdown(wait=False, cancel_futures=True)
