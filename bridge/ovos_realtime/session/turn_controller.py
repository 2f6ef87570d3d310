"""input_audio_buffer.* for one Realtime session: the voice pipeline's turns become Realtime
events, conversation items and responses.

While the silence window runs (the user may be done), the transcript is finalized and the
response starts speculatively (LLM and first spoken clause) with its events held back. If the
window runs out, the turn is committed and the held events go out at once; if the user speaks
again, the speculation is dropped without a trace and the stream goes on.
"""

import asyncio
import base64
import binascii
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from ovos_realtime.ids import new_id
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.voice.pipeline import TurnTooLong, VoicePipeline
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_realtime.voice.turns import TurnEvent

if TYPE_CHECKING:
    from ovos_realtime.session.realtime_session import RealtimeSession
    from ovos_realtime.session.response import ResponseRun

log = logging.getLogger(__name__)

MIN_COMMIT_MS = 100  # OpenAI refuses to commit less than 100 ms of audio


class Speculation:
    """The answer being prepared during the silence window: the pause's transcript, then
    maybe a held-back response."""

    def __init__(self, controller: "TurnController") -> None:
        self.run: ResponseRun | None = None
        self.dropped = False
        self.settling = asyncio.Event()  # a response was started on the final text, or none will be
        self.task = asyncio.create_task(controller.speculate(self))
        self.task.set_name(f"speculation {controller.session.id}")
        self.task.add_done_callback(lambda _: self.settling.set())

    async def answer_begun(self) -> None:
        """Until the response to the pause's final text has read its prompt and written its
        first token (at once when there is none)."""
        await self.settling.wait()
        if self.run is not None:
            await self.run.first_output.wait()

    def drop(self) -> None:
        self.dropped = True
        self.task.cancel()
        if self.run is not None:
            self.run.discard()

    async def settled(self) -> "ResponseRun | None":
        """The held-back response, once the speculation has done what it could."""
        try:
            await self.task
        except asyncio.CancelledError:
            if not self.task.cancelled():
                raise  # we are cancelled ourselves
        except Exception:
            log.debug("speculation failed", exc_info=True)
        return self.run


class TurnController:
    def __init__(self, session: "RealtimeSession", runtime: VoiceRuntime) -> None:
        self.session = session
        self.pipeline = VoicePipeline(
            runtime,
            session.id,
            on_partial=self._on_partial,
            turn_model=runtime.turn_model,
            on_late_event=self._on_late_event,
            on_words=self._on_words,
        )
        self._item_id: str | None = None
        self._item_turn = -1  # the pipeline turn that _item_id names
        self._speculation: Speculation | None = None
        # Turn events are handled one at a time, in order: those from the audio and those that
        # come between two chunks (or after the last one): a late verdict, a stalled client.
        self._turn_lock = asyncio.Lock()
        self._late: list[TurnEvent] = []
        self._late_tasks: set[asyncio.Task] = set()
        self._reading_ahead: set[asyncio.Task] = set()  # (held here: the loop keeps weak refs)
        self.pipeline.text_verdict_after = self._answer_begun

    async def _answer_begun(self) -> None:
        """The speculative answer to the pause's words has read its prompt (or none comes)."""
        if self._speculation is not None:
            await self._speculation.answer_begun()

    # ---- config ----

    @property
    def _audio_in(self) -> dict[str, Any]:
        return self.session.config["audio"]["input"]

    @property
    def _turn_config(self) -> dict[str, Any]:
        return self._audio_in.get("turn_detection") or {}

    @property
    def _transcribing(self) -> bool:
        return self._audio_in.get("transcription") is not None

    def _sync_config(self) -> None:
        self.pipeline.configure(
            self._audio_in.get("format"),
            self._audio_in.get("turn_detection"),
            (self._audio_in.get("transcription") or {}).get("language"),
            (self._audio_in.get("noise_reduction") or {}).get("type"),
        )

    def _current_item_id(self) -> str:
        """The id of the user item the current turn will become."""
        if self._item_turn != self.pipeline.turn or self._item_id is None:
            self._item_id, self._item_turn = new_id("item"), self.pipeline.turn
        return self._item_id

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
        try:
            async with self._turn_lock, contextlib.aclosing(self.pipeline.feed(data)) as events:
                await self._handle_late()
                async for event in events:
                    await self._on_turn(event)
                    await self._handle_late()  # before the chunk's next frames are read
        except TurnTooLong as exc:
            raise ProtocolError(
                f"The input audio buffer is full: {exc}. Commit or clear the buffer.",
                code="input_audio_buffer_full",
                param="audio",
            ) from None

    async def commit(self) -> None:
        """Manual commit: the buffer becomes a user item (no automatic response)."""
        audio_ms = self.pipeline.buffered_ms
        if audio_ms < MIN_COMMIT_MS:
            raise ProtocolError(
                f"Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {audio_ms}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        self.pipeline.end_speech()
        await self._commit(auto_response=False)

    def clear(self) -> None:
        self._drop_speculation()
        self._late.clear()  # a turn end that came just before is cleared with its turn
        self.pipeline.clear()
        self.session.emit({"type": "input_audio_buffer.cleared"})

    def close(self) -> None:
        self._drop_speculation()
        self._late.clear()
        for task in self._late_tasks:
            task.cancel()
        self.pipeline.close()

    # ---- turns ----

    def _on_late_event(self, event: TurnEvent) -> None:
        """A turn event between chunks (a late verdict ended the turn; a client that stopped
        sending mid-turn had its pause opened or its turn ended): act on it now, not at the
        next chunk, which may come much later or never."""
        self._late.append(event)
        task = asyncio.create_task(self._handle_late_now())
        task.set_name(f"late turn end {self.session.id}")
        self._late_tasks.add(task)
        task.add_done_callback(self._late_tasks.discard)

    async def _handle_late_now(self) -> None:
        try:
            async with self._turn_lock:
                await self._handle_late()
        except Exception:  # no client event to answer with an error: the log says it
            log.exception("[%s] ending the turn failed", self.session.id)

    async def _handle_late(self) -> None:
        while self._late:
            await self._on_turn(self._late.pop(0))

    async def _on_turn(self, event: TurnEvent) -> None:
        if event.kind == "started":
            self._drop_speculation()
            self.session.emit(
                {
                    "type": "input_audio_buffer.speech_started",
                    "audio_start_ms": event.audio_ms,
                    "item_id": self._current_item_id(),
                }
            )
            if self._turn_config.get("interrupt_response", True):
                await self.session.cancel_response(None, reason="turn_detected")
        elif event.kind == "paused":
            if self._speculation is None and self.pipeline.can_peek:
                log.debug("[%s] pause: speculating", self.session.id)
                self._speculation = Speculation(self)
        elif event.kind == "resumed":
            self._drop_speculation()
        elif event.kind == "stopped":
            self.session.emit(
                {
                    "type": "input_audio_buffer.speech_stopped",
                    "audio_end_ms": event.audio_ms,
                    "item_id": self._current_item_id(),
                }
            )
            await self._commit(auto_response=bool(self._turn_config.get("create_response", True)))
        elif event.kind == "idle":
            self.session.emit(
                {
                    "type": "input_audio_buffer.timeout_triggered",
                    "audio_start_ms": event.audio_ms,
                    "audio_end_ms": event.audio_ms,
                    "item_id": new_id("item"),
                }
            )

    def _on_partial(self, turn: int, _text: str, delta: str) -> None:
        if self._transcribing and turn == self.pipeline.turn:
            self.session.emit(
                {
                    "type": "conversation.item.input_audio_transcription.delta",
                    "item_id": self._current_item_id(),
                    "content_index": 0,
                    "delta": delta,
                }
            )

    def _on_words(self, text: str) -> None:
        """The brain reads the prompt with the words heard so far while the user speaks on, so
        the answer only reads the turn's last words (brain/llama_embedded.py)."""
        if not self._turn_config.get("create_response", True):
            return
        if not self.session.assistant.reads_ahead:
            return  # (no request built on the loop for a brain that would ignore it)
        task = asyncio.create_task(
            self.session.prepare_response([_user_item(self._current_item_id(), text)])
        )
        task.set_name(f"read ahead {self.session.id}")
        self._reading_ahead.add(task)
        task.add_done_callback(self._read_ahead_done)

    def _read_ahead_done(self, task: asyncio.Task) -> None:
        self._reading_ahead.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("[%s] reading ahead failed: %r", self.session.id, task.exception())

    async def speculate(self, speculation: Speculation) -> None:
        """At a pause: the final transcript so far, and the response to it, held back.

        When the stable partial already reads as a finished sentence, the response starts on
        it at once, beside the pause's decode, and is restarted only if the decode differs."""
        item_id = self._current_item_id()
        # A brain that acts on the world (OVOS skills) must not hear a turn that is not final.
        may_answer = (
            self._turn_config.get("create_response", True)
            and not self.session.assistant.side_effects
        )
        early = self.pipeline.stable_text.strip() if may_answer else ""
        if not _finished_sentence(early):
            early = ""
        # The decode starts first: audio after the pause is held from it from this moment.
        peeking = asyncio.ensure_future(self.pipeline.peek())
        try:
            if early:
                log.debug("[%s] pause: answering the stable partial %r", self.session.id, early)
                await self._start_speculative(speculation, item_id, early)
            transcript = await peeking
        finally:
            peeking.cancel()  # when we are cancelled (the pipeline's own decode goes on)
        log.debug("[%s] pause: transcript %r", self.session.id, transcript)
        if not may_answer or not transcript or speculation.dropped:
            return
        if speculation.run is not None:
            if transcript == early:
                return  # the answer under way is the answer to the final text
            log.debug("[%s] pause: the transcript differs, answer restarted", self.session.id)
            speculation.run.discard()
            speculation.run = None
        await self._start_speculative(speculation, item_id, transcript)

    async def _start_speculative(self, speculation: Speculation, item_id: str, text: str) -> None:
        try:
            run = await self.session.start_response(
                None, pending_items=[_user_item(item_id, text)], speculative=True
            )
        except Exception as exc:  # the committed turn will start (and report) it normally
            log.debug("[%s] no speculative response: %r", self.session.id, exc)
            return
        if speculation.dropped:  # the user spoke again while it started
            run.discard()
            return
        speculation.run = run

    def _drop_speculation(self) -> None:
        if self._speculation is not None:
            self._speculation.drop()
            self._speculation = None

    async def _commit(self, auto_response: bool) -> None:
        seconds = self.pipeline.turn_s
        item_id = self._current_item_id()
        speculation, self._speculation = self._speculation, None
        if speculation is not None and not self.pipeline.peeking:
            # Paused and stopped in one chunk: the speculation has not asked for its decode
            # yet, and it would only decode the turn's audio a second time beside finish().
            speculation.drop()
            speculation = None
        failure = None
        try:
            transcript = await self.pipeline.finish()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("[%s] transcription failed", self.session.id)
            transcript, failure = "", exc
        run = await speculation.settled() if speculation is not None else None
        item = _user_item(item_id, transcript)
        session = self.session
        previous = session.conversation.add(item)
        session.emit(
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        )
        session.emit_item_added(item, previous, done=False)
        if self._transcribing and failure is None:
            session.emit(
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    "item_id": item_id,
                    "content_index": 0,
                    "transcript": transcript,
                    "usage": {"type": "duration", "seconds": round(seconds, 3)},
                }
            )
        elif self._transcribing:
            session.emit(
                {
                    "type": "conversation.item.input_audio_transcription.failed",
                    "item_id": item_id,
                    "content_index": 0,
                    "error": {
                        "type": "transcription_error",
                        "code": "stt_failed",
                        "message": str(failure),
                    },
                }
            )
        session.emit({"type": "conversation.item.done", "item": item})
        if not (auto_response and transcript):
            if run is not None:
                run.discard()  # nothing was heard worth answering
            return
        if run is not None and session.adopt(run):
            log.debug("[%s] turn committed: speculative %s adopted", session.id, run.id)
            return
        if run is not None:
            run.discard()
        await session.start_response(None)


def _finished_sentence(text: str) -> bool:
    """The STT ends a sentence it heard finished with its punctuation: a partial that does
    is likely the final text already (one that does not usually lacks its last words)."""
    return len(text.split()) >= 2 and text.endswith((".", "?", "!"))


def _user_item(item_id: str, transcript: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio", "transcript": transcript}],
    }
