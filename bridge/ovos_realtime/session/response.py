"""One response: a single asyncio task from `response.created` to `response.done`.

The assistant core answers (brain, server tools, speech); the `OutputWriter` turns its events
into Realtime events in OpenAI's order; a `SpeculationGate` holds them back while the response
is speculative. Cancelling the task stops the brain and the speech at once; `cancel()` then
closes the open item and sends `response.done` with status `cancelled`, so nothing of the
response follows it.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ovos_realtime.brain.base import BrainRequest, Finished, TextDelta, ToolArgumentsDelta
from ovos_realtime.brain.base import ToolCallStarted as ClientToolCallStarted
from ovos_realtime.brain.tool_rounds import ServerToolCallStarted, ServerToolDone, ServerToolRunning
from ovos_realtime.brain.tools import ServerTool
from ovos_realtime.core.assistant import AssistantSession, Speak
from ovos_realtime.core.spoken import SpeechChunk, SpeechDone
from ovos_realtime.ids import new_id
from ovos_realtime.session.conversation import Conversation
from ovos_realtime.session.output_writer import Emit, OutputWriter
from ovos_realtime.session.settings import ResponseSettings
from ovos_realtime.session.speculation_gate import SpeculationGate

log = logging.getLogger(__name__)

LOOP_ENDED = {
    "type": "repetition_loop",
    "code": "loop_guard",
    "message": "The answer began repeating itself and was ended (the server's loop guard).",
}


class ResponseRun:
    def __init__(
        self,
        *,
        settings: ResponseSettings,
        request: BrainRequest,
        assistant: AssistantSession,
        emit: Emit,
        conversation: Conversation | None,
        session_id: str,
        server_tools: dict[str, ServerTool] | None = None,
        speak: Speak | None = None,
        speculative: bool = False,
        notify: Callable[[str, str], None] | None = None,
    ) -> None:
        self.id = new_id("resp")
        self.request = request
        self.assistant = assistant
        self.conversation = conversation  # None for out-of-band responses
        self.session_id = session_id
        self.server_tools = server_tools or {}
        self.speak = speak
        self.notify = notify or (lambda hook, response_id: None)
        self.gate = SpeculationGate(holding=speculative)
        self.writer = OutputWriter(
            self.id,
            settings,
            audio=speak is not None,
            conversation=conversation,
            emit=lambda event: self.gate.run(lambda: emit(event)),
            visibly=self.gate.run,
            session_id=session_id,
        )
        self.task: asyncio.Task | None = None
        self.first_audio_at: float | None = None
        # Set once the brain has written something (its prompt is read), or the run ended.
        self.first_output = asyncio.Event()

    # ---- lifecycle ----

    def start(self) -> asyncio.Task:
        self.writer.created()
        self.task = asyncio.create_task(self._run(), name=f"response {self.id}")
        self.task.add_done_callback(lambda _: self.first_output.set())  # also if cancelled early
        return self.task

    @property
    def active(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def speculative(self) -> bool:
        return self.gate.holding

    def release(self) -> None:
        """A speculative response becomes real: what it held back goes out, in order."""
        self.gate.release()

    def discard(self) -> None:
        """Drop a speculative response silently: nothing it did was ever visible."""
        if self.task is not None:
            self.task.cancel()
        self.gate.discard()

    async def cancel(self, reason: str) -> bool:
        """Stop the response now. False when it had already finished."""
        if self.task is None or not self.task.cancel():
            return False
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.writer.finish("cancelled", reason=reason)
        return True

    async def _run(self) -> None:
        finished = Finished("stop")
        answer = self.assistant.answer(
            self.request,
            self.server_tools,
            speak=self.speak,
            # A server tool may act on the world: never before the user's turn is final.
            before_acting=self.gate.released.wait,
        )
        try:
            async with contextlib.aclosing(answer) as events:
                async for event in events:
                    if isinstance(event, Finished):
                        finished = event
                    else:
                        self._write(event)
        except asyncio.CancelledError:
            raise
        except (
            Exception
        ) as exc:  # the brain or the voice failed: the response fails, the session lives
            log.exception("[%s] response %s failed", self.session_id, self.id)
            self.writer.finish("failed", error={"type": "server_error", "code": type(exc).__name__})
            return
        usage = {
            "input_tokens": finished.input_tokens,
            "output_tokens": finished.output_tokens,
            "cached_tokens": finished.cached_tokens,
        }
        if finished.reason == "length":
            self.writer.finish("incomplete", reason="max_output_tokens", **usage)
        elif finished.reason == "repetition":
            # The SDK's reason Literal has no word for a loop: the nearest honest one is
            # max_output_tokens (output cut short); `error` names the loop guard.
            self.writer.finish("incomplete", reason="max_output_tokens", error=LOOP_ENDED, **usage)
        else:
            self.writer.finish("completed", **usage)

    def _write(self, event: Any) -> None:
        self.first_output.set()
        writer = self.writer
        if isinstance(event, TextDelta):
            writer.text(event.text)
        elif isinstance(event, SpeechChunk):
            if event.samples.size and self.first_audio_at is None:
                self.first_audio_at = asyncio.get_running_loop().time()
                log.debug("[%s] %s: first audio", self.session_id, self.id)
                self.gate.run(lambda: self.notify("audio_started", self.id))
            writer.audio_out(event.transcript, event.samples)
        elif isinstance(event, SpeechDone):
            self.gate.run(lambda: self.notify("audio_finished", self.id))
        elif isinstance(event, ClientToolCallStarted):
            writer.call_started(event.call_id, event.name)
        elif isinstance(event, ServerToolCallStarted):
            writer.call_started(event.call_id, event.name, event.server_label)
        elif isinstance(event, ToolArgumentsDelta):
            writer.arguments(event.delta)
        elif isinstance(event, ServerToolRunning):
            writer.server_tool_running()
        elif isinstance(event, ServerToolDone):
            writer.server_tool_done(event.output, event.error)
