"""Text-to-speech: `synthesize`, or streamed `synthesize-start`, `synthesize-chunk`…,
`synthesize-stop` → `audio-start`, `audio-chunk`…, `audio-stop` (and `synthesize-stopped` for a
stream).

Text goes into one clause-by-clause speech output as it comes, so the first clause is spoken
while the client is still sending the rest."""

import logging
from collections.abc import Callable

import numpy as np
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.tts import SynthesizeStopped, SynthesizeVoice

from ovos_realtime.server.wyoming.errors import BadRequest
from ovos_realtime.voice.engines import tts_sample_rate
from ovos_realtime.voice.runtime import VoiceRuntime

log = logging.getLogger(__name__)

Send = Callable[[Event], None]
MAX_TEXT_CHARS = 10_000  # per synthesis (a whole stream included)
WIDTH, CHANNELS = 2, 1


class Synthesis:
    """One synthesis: `feed(text)` as it comes, `finish()` when it is all there."""

    def __init__(
        self,
        runtime: VoiceRuntime,
        send: Send,
        session: str,
        voice: SynthesizeVoice | None = None,
        streaming: bool = False,
    ) -> None:
        self.send = send
        self.session = session
        self.streaming = streaming
        self.rate = tts_sample_rate(runtime.engines.tts)
        self.chunk_samples = max(1, self.rate // 10)  # 100 ms audio-chunk events
        self.chars = 0
        self.samples = 0
        self._started = False
        name = voice.name if voice is not None else None
        self.speech = runtime.speech_output(
            runtime.resolve_voice(name), 1.0, self.rate, self._on_audio
        )

    @property
    def _timestamp(self) -> int:
        return self.samples * 1000 // self.rate

    def _start(self) -> None:
        if not self._started:
            self._started = True
            self.send(AudioStart(self.rate, WIDTH, CHANNELS, timestamp=0).event())

    def _on_audio(self, _piece: str, samples: np.ndarray) -> None:
        if not samples.size:
            return
        self._start()
        for i in range(0, samples.size, self.chunk_samples):
            part = samples[i : i + self.chunk_samples].astype("<i2")
            self.send(
                AudioChunk(
                    self.rate, WIDTH, CHANNELS, part.tobytes(), timestamp=self._timestamp
                ).event()
            )
            self.samples += part.size

    def feed(self, text: object) -> None:
        if not isinstance(text, str):
            raise BadRequest("text must be a string", "bad_text")
        self.chars += len(text)
        if self.chars > MAX_TEXT_CHARS:
            raise BadRequest(f"text longer than {MAX_TEXT_CHARS} characters", "text_too_long")
        self.speech.feed(text)

    async def finish(self) -> None:
        await self.speech.finish()
        self._start()
        self.send(AudioStop(timestamp=self._timestamp).event())
        if self.streaming:
            self.send(SynthesizeStopped().event())
        log.info(
            "[%s] synthesized %d characters: %.2f s of audio",
            self.session,
            self.chars,
            self.samples / self.rate,
        )

    def cancel(self) -> None:
        self.speech.cancel()
