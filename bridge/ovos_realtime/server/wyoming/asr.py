"""Speech-to-text: `transcribe`, `audio-start`, `audio-chunk`…, `audio-stop` → `transcript-start`,
`transcript-chunk` (each new stable part as it appears, while the audio still arrives),
`transcript` (the final text) and `transcript-stop`.

The audio goes to the streaming STT as each chunk arrives, so the final text follows
`audio-stop` after only the last bit of decoding. (Decoding ahead at a VAD pause, as the Realtime
voice loop does, was tried: peeks at every pause held up the partial decodes and the final came
later, 1.6 s against 1.0 s on an 11 s clip with a second of quiet before audio-stop.)"""

import asyncio
import logging
from collections.abc import Callable

from wyoming.asr import Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart
from wyoming.event import Event

from ovos_realtime.server.wyoming.audio import AudioIn, check_format
from ovos_realtime.server.wyoming.errors import BadRequest
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_realtime.voice.transcription import RATE, Transcription

log = logging.getLogger(__name__)

Send = Callable[[Event], None]


class AsrStream:
    """One audio stream from `audio-start` to `audio-stop`."""

    def __init__(
        self,
        runtime: VoiceRuntime,
        start: AudioStart,
        send: Send,
        session: str,
        language: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.send = send
        self.session = session
        self.language = language
        self.audio = AudioIn(*check_format(start.rate, start.width, start.channels), RATE)
        self.samples = 0
        self._max_samples = int(runtime.max_turn_s * RATE)
        self._sent = ""
        self._done = False
        loop = asyncio.get_running_loop()
        try:
            self.stt = Transcription(
                runtime.engines.stt,
                language,
                lambda text: loop.is_closed() or loop.call_soon_threadsafe(self._partial, text),
            )
        except ValueError as exc:  # e.g. a language the model does not know
            raise BadRequest(str(exc), "bad_language") from None
        send(TranscriptStart(language=language).event())

    def _partial(self, text: str) -> None:
        """A stable partial (the whole text so far): what it adds goes out as a chunk."""
        text = text.strip()
        if self._done or not text.startswith(self._sent) or text == self._sent:
            return
        delta, self._sent = text[len(self._sent) :], text
        self.send(TranscriptChunk(text=delta).event())

    def feed(self, chunk: AudioChunk) -> None:
        if not self.audio.matches(chunk.rate, chunk.width, chunk.channels):
            raise BadRequest(
                f"audio-chunk format {chunk.rate} Hz/{chunk.width} B/{chunk.channels} ch "
                f"differs from its audio-start ({self.audio.rate} Hz/{self.audio.width} B/"
                f"{self.audio.channels} ch)",
                "bad_audio_format",
            )
        samples = self.audio.convert(chunk.audio)
        self.samples += samples.size
        if self.samples > self._max_samples:
            raise BadRequest(
                f"audio longer than {self.runtime.max_turn_s:g} s (voice.max_turn_s)",
                "audio_too_long",
            )
        if samples.size:
            self.stt.feed(samples)

    async def finish(self) -> str:
        """The final text, after `transcript-chunk`s for what the partials had not said."""
        tail = self.audio.flush()
        if tail.size:
            self.samples += tail.size
            self.stt.feed(tail)
        if self.samples == 0:
            self.close()
            raise BadRequest("no audio between audio-start and audio-stop", "empty_audio")
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            text = await loop.run_in_executor(self.runtime.stt_executor, self.stt.finish)
        except ValueError as exc:  # e.g. a language the model does not know
            self.close()
            raise BadRequest(str(exc), "bad_language") from None
        self.close()
        log.debug(
            "[%s] final text %.0f ms after audio-stop", self.session, (loop.time() - started) * 1000
        )
        if text.startswith(self._sent) and text != self._sent:
            self.send(TranscriptChunk(text=text[len(self._sent) :]).event())
        log.info("[%s] transcribed %.2f s: %r", self.session, self.samples / RATE, text[:80])
        self.send(Transcript(text=text, language=self.language).event())
        self.send(TranscriptStop().event())
        return text

    def close(self) -> None:
        self._done = True
        self.stt.close()
