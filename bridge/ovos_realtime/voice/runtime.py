"""What every session's voice loop shares: the loaded engines and their bounded executors."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ovos_realtime.voice.engines import VoiceEngines
from ovos_realtime.voice.speech_out import SpeechOutput


@dataclass
class VoiceRuntime:
    engines: VoiceEngines
    tts_workers: int = 1
    max_turn_s: float = 600.0
    # Final transcriptions are short; two workers keep one session's finish from queueing
    # behind another's.
    stt_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(2, thread_name_prefix="stt")
    )
    tts_executor: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.tts_executor = ThreadPoolExecutor(self.tts_workers, thread_name_prefix="tts")

    @property
    def stt_model(self) -> str:
        return getattr(self.engines.stt, "_plugin_id", "stt")

    def resolve_voice(self, voice: str | None) -> str | None:
        """The engine's voice of that name, or None (its default) for names it lacks, such as
        OpenAI's "alloy": clients send those by habit and expect speech, not an error."""
        if not voice or voice == "default":
            return None
        voices = getattr(self.engines.tts, "voices", None)
        known = voices() if callable(voices) else []
        return voice if voice in known else None

    def speech_factory(
        self, settings: Any, rate: int, on_audio: Callable[[str, np.ndarray], None]
    ) -> SpeechOutput:
        return SpeechOutput(
            self.engines.tts,
            self.tts_executor,
            self.resolve_voice(settings.voice),
            settings.speed,
            rate,
            on_audio,
        )

    def shutdown(self) -> None:
        self.stt_executor.shutdown(wait=False, cancel_futures=True)
        self.tts_executor.shutdown(wait=False, cancel_futures=True)
