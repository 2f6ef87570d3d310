"""The Wyoming server: one `WyomingHandler` per connection reads its events and answers them;
`WyomingDoor` runs the server (alone, or beside the HTTP server in the same event loop).

Quick events (`describe`, audio and text chunks) are handled as they are read; the ones that
take a while (`audio-stop`, `synthesize`, `synthesize-stop`, `transcript`) run as a job of the
connection, one at a time and in order, while its events go on being read: a client that leaves
mid-request has its work cancelled at once. Bad input gets an `error` event and a log line
naming the connection; the connection stays open."""

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.handle import Handled, HandledChunk, HandledStart, HandledStop, NotHandled
from wyoming.info import SelectProgram
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart

from ovos_realtime.config import Settings
from ovos_realtime.core.assistant import Assistant
from ovos_realtime.server.wyoming.asr import AsrStream
from ovos_realtime.server.wyoming.errors import BadRequest
from ovos_realtime.server.wyoming.handle import MAX_CONVERSATION_ID, MAX_TEXT_CHARS, Conversations
from ovos_realtime.server.wyoming.info import ASR_PROGRAM, TTS_PROGRAM, build_info
from ovos_realtime.server.wyoming.tts import Synthesis
from ovos_realtime.voice.runtime import VoiceRuntime

log = logging.getLogger(__name__)

_numbers = itertools.count(1)


class WyomingHandler(AsyncEventHandler):
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, door: "WyomingDoor"
    ) -> None:
        super().__init__(reader, writer)
        self.door = door
        peer = writer.get_extra_info("peername")
        where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "local"
        self.id = f"wyoming-{next(_numbers)} {where}"
        self._out: asyncio.Queue[Event | None] = asyncio.Queue()
        self._gone = False
        self._sender = asyncio.create_task(self._send_loop(), name=f"{self.id} sender")
        self._jobs: set[asyncio.Task] = set()
        self._busy = asyncio.Lock()
        self._language: str | None = None  # from `transcribe`, for the next audio stream
        self._asr: AsrStream | None = None
        self._asr_dropping = False  # after a refused stream: its chunks are dropped silently
        self._tts: Synthesis | None = None  # an open synthesize-start stream
        self._tts_dropping = False
        self._persona: str | None = None  # from `select-program`
        self._handlers: dict[str, Callable[[Event], Awaitable[None] | None]] = {
            "describe": self._describe,
            "ping": self._ping,
            "select-program": self._select_program,
            "transcribe": self._transcribe,
            "audio-start": self._audio_start,
            "audio-chunk": self._audio_chunk,
            "audio-stop": self._audio_stop,
            "synthesize": self._synthesize,
            "synthesize-start": self._synthesize_start,
            "synthesize-chunk": self._synthesize_chunk,
            "synthesize-stop": self._synthesize_stop,
            "transcript": self._transcript,
        }
        log.info("[%s] connected", self.id)

    # ---- the connection ----

    def send(self, event: Event) -> None:
        if not self._gone:
            self._out.put_nowait(event)

    async def _send_loop(self) -> None:
        while (event := await self._out.get()) is not None:
            try:
                await async_write_event(event, self.writer)
            except (ConnectionError, RuntimeError) as exc:
                log.info("[%s] cannot write to the client (%s)", self.id, exc)
                self._gone = True
                return

    async def run(self) -> None:
        try:
            await super().run()
        except (asyncio.IncompleteReadError, ConnectionError):
            log.warning("[%s] the client left in the middle of an event", self.id)
        except Exception:
            log.exception("[%s] connection failed", self.id)

    async def disconnect(self) -> None:
        busy = bool(self._jobs) or self._asr is not None or self._tts is not None
        if busy:
            log.warning("[%s] the client left mid-request; its work is cancelled", self.id)
        for job in list(self._jobs):
            job.cancel()
        if self._asr is not None:
            self._asr.close()
            self._asr = None
        if self._tts is not None:
            self._tts.cancel()
            self._tts = None
        # What was already queued (e.g. a last error) goes out before the socket closes.
        self._out.put_nowait(None)
        self._gone = True
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._sender, timeout=1.0)
        log.info("[%s] disconnected", self.id)

    async def handle_event(self, event: Event) -> bool:
        handler = self._handlers.get(event.type)
        try:
            if handler is None:
                raise BadRequest(f"unknown event type {event.type!r}", "unknown_event")
            result = handler(event)
            if result is not None:
                await result
        except BadRequest as exc:
            self._refuse(event.type, exc)
        except (KeyError, TypeError, ValueError) as exc:  # a field missing or of the wrong type
            self._refuse(event.type, BadRequest(f"malformed {event.type}: {exc!r}", "bad_event"))
        except Exception as exc:  # our bug: the client hears of it, the connection goes on
            log.exception("[%s] %s failed", self.id, event.type)
            self.send(Error(text=f"{event.type} failed: {exc}", code="internal_error").event())
        return True

    def _refuse(self, what: str, exc: BadRequest) -> None:
        log.warning("[%s] %s refused: %s", self.id, what, exc)
        self.send(Error(text=f"{what}: {exc}", code=exc.code).event())

    def _job(self, what: str, work: Callable[[], Awaitable[Any]]) -> None:
        """Run `work` after the connection's earlier jobs; its failures become `error`s."""

        async def job() -> None:
            async with self._busy:
                try:
                    await work()
                except BadRequest as exc:
                    self._refuse(what, exc)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("[%s] %s failed", self.id, what)
                    self.send(Error(text=f"{what} failed: {exc}", code="internal_error").event())

        task = asyncio.create_task(job(), name=f"{self.id} {what}")
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)

    def _voice(self) -> VoiceRuntime:
        voice = self.door.assistant.voice
        if voice is None:
            raise BadRequest(
                "this server runs without speech engines (voice.enabled is false)", "unavailable"
            )
        return voice

    # ---- info ----

    def _describe(self, _event: Event) -> None:
        self.send(self.door.info.event())

    def _ping(self, event: Event) -> None:
        self.send(Pong(text=Ping.from_event(event).text).event())

    def _select_program(self, event: Event) -> None:
        name = SelectProgram.from_event(event).name
        if name in (ASR_PROGRAM, TTS_PROGRAM):
            return
        persona = self.door.assistant.personas.get(name)
        if persona is None:
            raise BadRequest(f"no program named {name!r}", "unknown_program")
        self._persona = persona.name

    # ---- asr ----

    def _transcribe(self, event: Event) -> None:
        self._voice()
        language = Transcribe.from_event(event).language
        if language is not None and not isinstance(language, str):
            raise BadRequest("language must be a string", "bad_language")
        self._language = language or None

    def _audio_start(self, event: Event) -> None:
        runtime = self._voice()
        dropped = self._asr is not None
        if self._asr is not None:
            self._asr.close()
            self._asr = None
        self._asr_dropping = True  # until this stream is accepted
        self._asr = AsrStream(
            runtime, AudioStart.from_event(event), self.send, self.id, self._language
        )
        self._asr_dropping = False
        if dropped:
            raise BadRequest(
                "audio-start before the previous stream's audio-stop: that stream is dropped",
                "stream_open",
            )

    def _audio_chunk(self, event: Event) -> None:
        if self._asr is None:
            if self._asr_dropping:
                return
            self._asr_dropping = True
            raise BadRequest("audio-chunk before audio-start", "audio_not_started")
        try:
            self._asr.feed(AudioChunk.from_event(event))
        except (BadRequest, KeyError, TypeError, ValueError):
            self._asr.close()
            self._asr, self._asr_dropping = None, True
            raise

    def _audio_stop(self, _event: Event) -> None:
        stream, self._asr = self._asr, None
        if stream is None:
            if self._asr_dropping:
                self._asr_dropping = False
                return
            raise BadRequest("audio-stop without audio-start", "audio_not_started")
        self._language = None

        async def work() -> None:
            try:
                await stream.finish()
            except asyncio.CancelledError:  # the client left: end the STT stream too
                stream.close()
                raise

        self._job("audio-stop", work)

    # ---- tts ----

    def _synthesize(self, event: Event) -> None:
        if self._tts is not None or self._tts_dropping:
            return  # the streaming request's copy of its whole text, for older servers
        runtime = self._voice()
        request = Synthesize.from_event(event)
        if not isinstance(request.text, str) or not request.text.strip():
            raise BadRequest("synthesize needs non-empty text", "empty_text")
        if len(request.text) > MAX_TEXT_CHARS:
            raise BadRequest(f"text longer than {MAX_TEXT_CHARS} characters", "text_too_long")

        async def work() -> None:
            synthesis = Synthesis(runtime, self.send, self.id, request.voice)
            try:
                synthesis.feed(request.text)
                await synthesis.finish()
            finally:
                synthesis.cancel()

        self._job("synthesize", work)

    def _synthesize_start(self, event: Event) -> None:
        runtime = self._voice()
        dropped = self._tts is not None
        if self._tts is not None:
            self._tts.cancel()
        self._tts_dropping = False
        self._tts = Synthesis(
            runtime, self.send, self.id, SynthesizeStart.from_event(event).voice, streaming=True
        )
        if dropped:
            raise BadRequest(
                "synthesize-start before the previous stream's synthesize-stop: that stream "
                "is dropped",
                "stream_open",
            )

    def _synthesize_chunk(self, event: Event) -> None:
        if self._tts is None:
            if self._tts_dropping:
                return
            self._tts_dropping = True
            raise BadRequest("synthesize-chunk before synthesize-start", "synthesis_not_started")
        try:
            self._tts.feed(SynthesizeChunk.from_event(event).text)
        except (BadRequest, KeyError):
            self._tts.cancel()
            self._tts, self._tts_dropping = None, True
            raise

    def _synthesize_stop(self, _event: Event) -> None:
        synthesis, self._tts = self._tts, None
        if synthesis is None:
            if self._tts_dropping:
                self._tts_dropping = False
                return
            raise BadRequest("synthesize-stop without synthesize-start", "synthesis_not_started")

        async def work() -> None:
            try:
                await synthesis.finish()
            finally:
                synthesis.cancel()

        self._job("synthesize-stop", work)

    # ---- handle ----

    def _transcript(self, event: Event) -> None:
        request = Transcript.from_event(event)
        text = request.text
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("transcript needs non-empty text", "empty_text")
        if len(text) > MAX_TEXT_CHARS:
            raise BadRequest(f"text longer than {MAX_TEXT_CHARS} characters", "text_too_long")
        context = dict(request.context) if isinstance(request.context, dict) else {}
        conversation_id = context.get("conversation_id")
        if not isinstance(conversation_id, str) or not conversation_id:
            conversation_id = Conversations.new_id()
        elif len(conversation_id) > MAX_CONVERSATION_ID or not conversation_id.isprintable():
            # It names an OVOS session on the bus and appears in logs.
            raise BadRequest(
                f"conversation_id must be printable and at most {MAX_CONVERSATION_ID} characters",
                "bad_conversation_id",
            )
        context["conversation_id"] = conversation_id
        language = request.language if isinstance(request.language, str) else None
        persona = self._persona

        async def work() -> None:
            self.send(HandledStart(context=context).event())
            parts: list[str] = []
            try:
                async for delta in self.door.conversations.answer(
                    text.strip(), conversation_id, persona, language
                ):
                    parts.append(delta)
                    self.send(HandledChunk(text=delta).event())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("[%s] the agent failed to answer (%s)", self.id, conversation_id)
                self.send(
                    NotHandled(text="Sorry, I could not answer that.", context=context).event()
                )
                self.send(HandledStop().event())
                return
            answer = "".join(parts).strip()
            log.info("[%s] %s answered %r", self.id, conversation_id, answer[:80])
            self.send(Handled(text=answer, context=context).event())
            self.send(HandledStop().event())

        self._job("transcript", work)


class WyomingDoor:
    """The Wyoming server on the Assistant's engines; `start()`/`stop()` in a running loop."""

    def __init__(self, assistant: Assistant, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings
        self.uri = settings.wyoming.uri
        self.info = build_info(assistant, settings)
        self.conversations = Conversations(assistant, settings)
        self._server: AsyncServer | None = None
        self._zeroconf: Any = None

    def _handler(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> WyomingHandler:
        return WyomingHandler(reader, writer, self)

    async def start(self) -> None:
        self._server = AsyncServer.from_uri(self.uri)
        await self._server.start(self._handler)
        log.info(
            "wyoming on %s: asr %s, tts %s, handle %s",
            self.uri,
            "yes" if self.info.asr else "no",
            f"{len(self.info.tts[0].voices)} voices" if self.info.tts else "no",
            ", ".join(program.name for program in self.info.handle),
        )
        zeroconf = self.settings.wyoming.zeroconf
        if zeroconf is not False:
            await self._advertise(None if zeroconf is True else str(zeroconf))

    async def _advertise(self, name: str | None) -> None:
        """mDNS `_wyoming._tcp` for Home Assistant's discovery (the `zeroconf` package)."""
        parsed = urlparse(self.uri)
        if parsed.scheme != "tcp" or parsed.port is None:
            raise RuntimeError("wyoming.zeroconf needs a tcp:// uri")
        try:
            from wyoming.zeroconf import HomeAssistantZeroconf
        except ImportError:
            raise RuntimeError(
                "wyoming.zeroconf needs the zeroconf package: pip install zeroconf"
            ) from None
        host = parsed.hostname
        if host in ("0.0.0.0", "::", ""):
            host = None  # the address of the interface that reaches the multicast group
        elif host in ("127.0.0.1", "localhost", "::1"):
            log.warning("wyoming: advertising a loopback address (%s) over mDNS", host)
        try:
            self._zeroconf = HomeAssistantZeroconf(port=parsed.port, name=name, host=host)
            await self._zeroconf.register_server()
        except OSError as exc:  # no network to advertise on
            raise RuntimeError(f"wyoming.zeroconf: cannot advertise the server ({exc})") from exc
        log.info(
            "wyoming: advertised as %s._wyoming._tcp.local. at %s:%d",
            self._zeroconf.name,
            self._zeroconf.host,
            parsed.port,
        )

    async def stop(self) -> None:
        if self._zeroconf is not None:
            aiozc = getattr(self._zeroconf, "_aiozc", None)
            if aiozc is not None:
                with contextlib.suppress(Exception):
                    await aiozc.async_close()
            self._zeroconf = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        self.conversations.close()
