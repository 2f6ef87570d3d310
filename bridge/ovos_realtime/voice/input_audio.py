"""input_audio_buffer.* for one session: decode → 16 kHz → VAD → turns → streaming STT → commit.

While the silence window runs (the user may be done), the transcript is finalized and the
response starts speculatively (LLM and first spoken clause) with its events held back. If the
window runs out, the turn is committed and the held events go out at once; if the user speaks
again, the speculation is dropped without a trace and the stream goes on with the audio the
window held back from it.
"""

import asyncio
import base64
import binascii
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ovos_realtime.audio.formats import WireDecoder, WireFormat
from ovos_realtime.audio.resample import StreamResampler
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.protocol.ids import new_id
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_realtime.voice.speech_detector import SpeechDetector
from ovos_realtime.voice.transcription import Transcription
from ovos_realtime.voice.turns import TurnDetector, TurnEvent

if TYPE_CHECKING:
    from ovos_realtime.session.engine import RealtimeSession
    from ovos_realtime.session.response import ResponseRun

log = logging.getLogger(__name__)

RATE = 16000
MIN_COMMIT_MS = 100  # OpenAI refuses to commit less than 100 ms of audio


class _Speculation:
    """The transcript (and maybe a held-back response) computed during the silence window."""

    def __init__(self, task: asyncio.Task) -> None:
        self.task = task
        self.run: ResponseRun | None = None
        self.dropped = False

    def drop(self) -> None:
        self.dropped = True
        self.task.cancel()
        if self.run is not None:
            self.run.discard()


class InputAudio:
    def __init__(self, session: "RealtimeSession", runtime: VoiceRuntime) -> None:
        self.session = session
        self.runtime = runtime
        self.detector = SpeechDetector(runtime.engines.vad_config)
        self._wire: WireFormat | None = None
        self._decoder: WireDecoder | None = None
        self._resample: StreamResampler | None = None
        self._turn_config: Any = object()
        self.turns: TurnDetector | None = None
        self._turn_samples = 0
        self._preroll: deque[np.ndarray] = deque()
        self._stt: Transcription | None = None
        self._held: list[np.ndarray] = []  # audio of the silence window, kept from the STT
        self._item_id: str | None = None
        self._partial_sent = ""
        self._speculation: _Speculation | None = None

    # ---- config ----

    @property
    def _audio_in(self) -> dict[str, Any]:
        return self.session.config["audio"]["input"]

    @property
    def _transcribing(self) -> bool:
        return self._audio_in.get("transcription") is not None

    @property
    def _language(self) -> str | None:
        return (self._audio_in.get("transcription") or {}).get("language")

    def _sync_config(self) -> None:
        wire = WireFormat.from_session(self._audio_in.get("format"))
        if wire != self._wire:
            self._wire = wire
            self._decoder = WireDecoder(wire)
            self._resample = StreamResampler(wire.rate, RATE)
        turn_config = self._audio_in.get("turn_detection")
        if turn_config != self._turn_config:
            self._turn_config = turn_config
            now = self.turns.now_ms if self.turns else 0
            self.turns = TurnDetector(self.detector.frame_ms, turn_config) if turn_config else None
            if self.turns:
                self.turns.now_ms = now

    # ---- client events ----

    async def append(self, audio_b64: str) -> None:
        try:
            data = base64.b64decode(audio_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(
                "Invalid 'audio': expected base64-encoded audio bytes.",
                code="invalid_base64",
                param="audio",
            ) from None
        if not data:
            return
        self._sync_config()
        assert self._decoder is not None and self._resample is not None
        samples = self._resample(self._decoder.decode(data))
        if self._turn_samples + samples.size > self.runtime.max_turn_s * RATE:
            raise ProtocolError(
                f"The input audio buffer is full: a turn holds at most "
                f"{self.runtime.max_turn_s:g} s of audio. Commit or clear the buffer.",
                code="input_audio_buffer_full",
                param="audio",
            )
        if self.turns is None:  # manual turns: everything is the turn
            self._feed_turn(samples)
            return
        if self.turns.speaking:
            self._feed_turn(samples)
        else:
            self._keep_preroll(samples)
        for event in self.turns.feed(self.detector.probabilities(samples)):
            await self._on_turn(event)
        stop = self.turns.check_window()
        if stop is not None:
            await self._on_turn(stop)

    async def commit(self) -> None:
        """Manual commit: the buffer becomes a user item (no automatic response)."""
        audio = self._turn_samples
        if self.turns is not None and not self.turns.speaking:
            audio = 0  # between turns in VAD mode the buffer is empty
        if audio * 1000 // RATE < MIN_COMMIT_MS:
            raise ProtocolError(
                f"Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {audio * 1000 // RATE}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        if self.turns is not None:
            self.turns.speaking = False
        await self._commit(auto_response=False)

    def clear(self) -> None:
        self._reset_turn()
        self._preroll.clear()
        self.detector.reset()
        if self.turns is not None:
            self.turns.speaking = False
        self.session.emit({"type": "input_audio_buffer.cleared"})

    def close(self) -> None:
        self._reset_turn()

    # ---- turns ----

    async def _on_turn(self, event: TurnEvent) -> None:
        if event.kind == "started":
            await self._start_turn(event.audio_ms)
        elif event.kind == "paused":
            self._speculate()
        elif event.kind == "resumed":
            self._resume()
        elif event.kind == "stopped":
            self.session.emit(
                {
                    "type": "input_audio_buffer.speech_stopped",
                    "audio_end_ms": event.audio_ms,
                    "item_id": self._item_id,
                }
            )
            await self._commit(
                auto_response=bool((self._turn_config or {}).get("create_response", True))
            )
        elif event.kind == "idle":
            self.session.emit(
                {
                    "type": "input_audio_buffer.timeout_triggered",
                    "audio_start_ms": event.audio_ms,
                    "audio_end_ms": event.audio_ms,
                    "item_id": new_id("item"),
                }
            )

    async def _start_turn(self, audio_start_ms: int) -> None:
        self._reset_turn()
        self._item_id = new_id("item")
        for chunk in self._preroll:
            self._feed_turn(chunk)
        self._preroll.clear()
        self.session.emit(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": audio_start_ms,
                "item_id": self._item_id,
            }
        )
        if (self._turn_config or {}).get("interrupt_response", True):
            await self.session.cancel_response(None, reason="turn_detected")

    def _feed_turn(self, samples: np.ndarray) -> None:
        if self._item_id is None:
            self._item_id = new_id("item")
        self._turn_samples += samples.size
        if self._speculation is None:
            self._transcriber().feed(samples)
        else:  # silence so far: the STT gets it only if the user goes on
            self._held.append(samples)

    def _keep_preroll(self, samples: np.ndarray) -> None:
        self._preroll.append(samples)
        keep = RATE * int((self._turn_config or {}).get("prefix_padding_ms") or 300) // 1000
        keep += RATE // 10  # the detector needs a couple of frames to be sure
        while sum(c.size for c in self._preroll) - self._preroll[0].size > keep:
            self._preroll.popleft()

    def _transcriber(self) -> Transcription:
        if self._stt is None:
            loop = asyncio.get_running_loop()
            item_id = self._item_id

            def on_partial(text: str) -> None:  # the STT worker thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._on_partial, item_id, text)

            self._stt = Transcription(self.runtime.engines.stt, self._language, on_partial)
        return self._stt

    def _on_partial(self, item_id: str | None, text: str) -> None:
        if item_id != self._item_id:
            return  # a late partial of an earlier turn
        if self.turns is not None:
            self.turns.use_transcript(text)
        if not text.startswith(self._partial_sent) or text == self._partial_sent:
            return  # only extensions of what the client already has
        delta, self._partial_sent = text[len(self._partial_sent) :], text
        if self._transcribing:
            self.session.emit(
                {
                    "type": "conversation.item.input_audio_transcription.delta",
                    "item_id": item_id,
                    "content_index": 0,
                    "delta": delta,
                }
            )

    def _speculate(self) -> None:
        if self._speculation is None and self._stt is not None and self._stt.can_peek:
            log.debug("[%s] pause: speculating", self.session.id)
            if self.turns is not None:
                self.turns.expect_transcript()
            task = asyncio.create_task(self._speculative_turn())
            self._speculation = _Speculation(task)
            task.set_name(f"speculation {self.session.id}")

    async def _speculative_turn(self) -> str:
        speculation = self._speculation
        transcript = await self._transcribe(self._transcriber().peek)
        if self.turns is not None:
            self.turns.use_transcript(transcript, final=True)
        wants_response = bool((self._turn_config or {}).get("create_response", True))
        # A brain that acts on the world (OVOS skills) must not hear a turn that is not final.
        safe = not getattr(self.session.brain, "side_effects", False)
        # Once the turn is committed the same response starts at once: the commit adopts it.
        if wants_response and safe and transcript and speculation and not speculation.dropped:
            try:
                speculation.run = await self.session.start_response(
                    None, pending_items=[self._user_item(transcript)], speculative=True
                )
            except Exception as exc:  # the committed turn will start (and report) it normally
                log.debug("[%s] no speculative response: %r", self.session.id, exc)
        return transcript

    def _resume(self) -> None:
        """The user spoke again inside the window: drop the speculation, keep transcribing."""
        if self._speculation is None:
            return
        self._speculation.drop()
        self._speculation = None
        if self.turns is not None:
            self.turns.awaiting_transcript = False
        stt = self._transcriber()
        for chunk in self._held:
            stt.feed(chunk)
        self._held = []

    async def _transcribe(self, how: Callable[[], str]) -> str:
        """The transcript so far, by `how` (the stream's peek or finish) in the STT executor."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        text = await loop.run_in_executor(self.runtime.stt_executor, how)
        log.debug(
            "[%s] transcript of %.1f s audio in %.0f ms",
            self.session.id,
            self._turn_samples / RATE,
            (loop.time() - started) * 1000,
        )
        return text

    def _user_item(self, transcript: str) -> dict[str, Any]:
        return {
            "id": self._item_id or new_id("item"),
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": transcript}],
        }

    async def _commit(self, auto_response: bool) -> None:
        seconds = self._turn_samples / RATE
        speculation, self._speculation = self._speculation, None
        failure = None
        try:
            transcript = (
                await speculation.task
                if speculation
                else await self._transcribe(self._transcriber().finish)
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("[%s] transcription failed", self.session.id)
            transcript, failure = "", exc
        item = self._user_item(transcript)
        self._reset_turn(keep=speculation)
        previous = self.session.conversation.add(item)
        self.session.emit(
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item["id"],
            }
        )
        self.session.emit_item_added(item, previous, done=False)
        if self._transcribing and failure is None:
            self.session.emit(
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    "item_id": item["id"],
                    "content_index": 0,
                    "transcript": transcript,
                    "usage": {"type": "duration", "seconds": round(seconds, 3)},
                }
            )
        elif self._transcribing:
            self.session.emit(
                {
                    "type": "conversation.item.input_audio_transcription.failed",
                    "item_id": item["id"],
                    "content_index": 0,
                    "error": {
                        "type": "transcription_error",
                        "code": "stt_failed",
                        "message": str(failure),
                    },
                }
            )
        self.session.emit({"type": "conversation.item.done", "item": item})
        if self.turns is not None:
            self.turns.mark_activity()
        run = speculation.run if speculation else None
        if not (auto_response and transcript):
            if run is not None:
                run.discard()  # nothing was heard worth answering
            return
        if run is not None and self.session.adopt(run):
            log.debug("[%s] turn committed: speculative %s adopted", self.session.id, run.id)
            return
        if run is not None:
            run.discard()
        await self.session.start_response(None)

    def _reset_turn(self, keep: _Speculation | None = None) -> None:
        if self._speculation is not None and self._speculation is not keep:
            self._speculation.drop()
        self._speculation = None
        if self._stt is not None:
            self._stt.close()
        self._stt = None
        self._held = []
        self._turn_samples = 0
        self._item_id = None
        self._partial_sent = ""
