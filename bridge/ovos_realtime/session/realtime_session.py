"""RealtimeSession: the state of one Realtime connection and the dispatch of its client events.

It knows nothing of the wire (a door hands it decoded, GA-shaped events and an `emit` for its
server events) and nothing of OVOS (its assistant session comes ready-made from the core, with
the persona's brain, tools and observers).
"""

import logging
from collections.abc import Callable
from typing import Any

from ovos_realtime.audio.formats import WireFormat
from ovos_realtime.brain.base import BrainRequest, ToolSpec
from ovos_realtime.brain.history import chat_messages
from ovos_realtime.brain.tools import ServerTool, visible_server_tools
from ovos_realtime.core.assistant import AssistantSession, Speak
from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.session.conversation import Conversation, public_item
from ovos_realtime.session.response import ResponseRun
from ovos_realtime.session.settings import (
    TRANSCRIPTION,
    ResponseSettings,
    SessionDefaults,
    default_session,
    public_session,
    resolve_response,
    update_session,
)
from ovos_realtime.session.turn_controller import TurnController

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]


class RealtimeSession:
    """Owns the config, the conversation and the responses of one Realtime session.

    `emit` takes GA-shaped server events; the protocol layer encodes them for the wire."""

    def __init__(
        self,
        *,
        session_id: str,
        assistant: AssistantSession,
        defaults: SessionDefaults,
        emit: Emit,
    ) -> None:
        self.id = session_id
        self.assistant = assistant
        self.emit = emit
        voice = assistant.voice
        self.config = default_session(session_id, defaults, voice=voice is not None)
        if voice is not None:
            self.config["audio"]["input"]["transcription"] = {"model": voice.stt_model}
        self.conversation = Conversation()
        self.responses: dict[str, ResponseRun] = {}
        self.turns = TurnController(self, voice) if voice is not None else None
        assistant.bind(self)

    def public_config(self) -> dict[str, Any]:
        return public_session(self.config)

    @property
    def transcribes_only(self) -> bool:
        return self.config.get("type") == TRANSCRIPTION

    def configure(self, update: dict[str, Any]) -> None:
        """Apply a GA `session.update` (or a client secret's session) of either type."""
        if update.get("type") == TRANSCRIPTION and self.turns is None:
            raise ProtocolError(
                "A transcription session needs audio engines, and this server runs without "
                "them (text only).",
                code="audio_unavailable",
                param="session.type",
            )
        if update.get("type") not in (None, self.config.get("type")) and self.responses:
            raise ProtocolError(
                "The session type cannot change while a response is in progress.",
                param="session.type",
            )
        voice = self.assistant.voice
        self.config = update_session(self.config, update, voice.stt_model if voice else None)

    def open(self) -> None:
        self.emit({"type": "session.created", "session": self.public_config()})
        log.info("[%s] session created (model %s)", self.id, self.config["model"])

    async def handle(self, event: dict[str, Any]) -> None:
        """Run the handler for one validated, GA-shaped client event."""
        from ovos_realtime.session.handlers import router  # handlers import this module

        handler = router.handlers.get(event["type"])
        if handler is None:
            raise ProtocolError(
                f"'{event['type']}' is not supported by this server.",
                code="unsupported_event",
                param="type",
            )
        await handler(self, event)

    async def close(self) -> None:
        if self.turns is not None:
            self.turns.close()
        for run in list(self.responses.values()):
            await run.cancel("client_cancelled")
        self.assistant.close()
        log.info("[%s] session closed", self.id)

    # ---- conversation ----

    def emit_item_added(
        self, item: dict[str, Any], previous_item_id: str | None, done: bool = True
    ) -> None:
        self.emit(
            {
                "type": "conversation.item.added",
                "previous_item_id": previous_item_id,
                "item": public_item(item),
            }
        )
        if done:
            self.emit({"type": "conversation.item.done", "item": public_item(item)})

    # ---- responses ----

    def _context_items(self, input_items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        if input_items is None:
            return self.conversation.items()
        items = []
        for index, item in enumerate(input_items):
            if item.get("type") == "item_reference":
                items.append(
                    self.conversation.get(item.get("id", ""), f"response.input.{index}.id")
                )
            else:
                items.append(item)
        return items

    async def start_response(
        self,
        params: dict[str, Any] | None,
        *,
        pending_items: list[dict[str, Any]] | None = None,
        speculative: bool = False,
    ) -> ResponseRun:
        """Start a response. A speculative one (see ResponseRun) answers the conversation plus
        `pending_items` (the user turn not committed yet) and stays invisible until adopted."""
        if self.transcribes_only:
            raise ProtocolError(
                "A transcription session does not create responses.",
                code="invalid_session_type",
                param="type",
            )
        settings, request, server_tools = await self._brain_request(params, pending_items)
        if (
            not speculative
            and settings.in_conversation
            and self.active_response(in_conversation=True)
        ):
            raise ProtocolError(
                "Conversation already has an active response in progress.",
                code="conversation_already_has_active_response",
            )
        speaks = settings.output_modalities == ["audio"] and self.assistant.voice is not None
        run = ResponseRun(
            settings=settings,
            request=request,
            assistant=self.assistant,
            emit=self.emit,
            conversation=self.conversation if settings.in_conversation else None,
            session_id=self.id,
            server_tools=server_tools,
            speak=Speak(
                settings.voice, settings.speed, WireFormat.from_session(settings.output_format).rate
            )
            if speaks
            else None,
            speculative=speculative,
            notify=self.assistant.notify,
        )
        run.start()
        if not speculative:
            self._track(run)
        return run

    async def prepare_response(self, pending_items: list[dict[str, Any]]) -> None:
        """Let the brain read ahead the prompt of the response a turn still being spoken would
        start (`pending_items`: the turn's words so far). Nothing is generated or visible."""
        if self.transcribes_only or self.active_response(in_conversation=True):
            return
        _, request, _ = await self._brain_request(None, pending_items)
        self.assistant.prepare(request)

    async def _brain_request(
        self, params: dict[str, Any] | None, pending_items: list[dict[str, Any]] | None
    ) -> tuple[ResponseSettings, BrainRequest, dict[str, ServerTool]]:
        """The response's settings, the brain's request and the server tools it may call."""
        offered = await self.assistant.server_tools()
        settings = resolve_response(
            self.config, params, frozenset(tool.spec.name for tool in offered)
        )
        client_tools = [ToolSpec.from_realtime(tool) for tool in settings.tools]
        server_tools = {}
        if settings.tool_choice != "none":
            server_tools = visible_server_tools(offered, client_tools)
        request = BrainRequest(
            messages=chat_messages(
                settings.instructions,
                self._context_items(settings.input_items) + (pending_items or []),
            ),
            tools=client_tools + [tool.spec for tool in server_tools.values()],
            tool_choice=settings.tool_choice,
            max_output_tokens=settings.max_output_tokens,
            temperature=settings.temperature,
            conversation=self.id,
        )
        return settings, request, server_tools

    def adopt(self, run: ResponseRun) -> bool:
        """Make a speculative response real, unless another response took the floor meanwhile."""
        if self.active_response(in_conversation=True) is not None:
            return False
        self._track(run)
        run.release()
        return True

    def _track(self, run: ResponseRun) -> None:
        self.responses[run.id] = run
        assert run.task is not None
        if run.task.done():
            self._response_ended(run)
        else:
            run.task.add_done_callback(lambda _task: self._response_ended(run))
        self.assistant.notify("answer_started", run.id)

    def _response_ended(self, run: ResponseRun) -> None:
        self.responses.pop(run.id, None)
        self.assistant.notify("answer_finished", run.id)

    def active_response(self, in_conversation: bool | None = None) -> ResponseRun | None:
        for run in self.responses.values():
            if run.active and (
                in_conversation is None or (run.conversation is not None) == in_conversation
            ):
                return run
        return None

    async def cancel_response(self, response_id: str | None, reason: str) -> bool:
        run = self.responses.get(response_id) if response_id else self.active_response()
        if run is None:
            return False
        return await run.cancel(reason)

    # ---- DoorControl (for the core's adapters, e.g. an OVOS stop) ----

    def has_active_answer(self) -> bool:
        return self.active_response() is not None

    async def cancel_active_answer(self) -> bool:
        return await self.cancel_response(None, reason="client_cancelled")
