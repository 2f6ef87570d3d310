"""The assistant core as a door without a WebSocket uses it: personas resolved once, the
extension port, answers as cancellable streams with server tools run in between."""

import asyncio
import contextlib

from ovos_realtime.brain.base import TextDelta, ToolSpec
from ovos_realtime.brain.tool_rounds import ServerToolDone
from ovos_realtime.brain.tools import ServerTool
from ovos_realtime.config import load_settings
from ovos_realtime.core.assistant import Assistant
from ovos_realtime.core.extensions import ConversationInfo, Extension, SessionParts
from ovos_realtime.core.observer import AssistantObserver
from ovos_realtime.core.personas import PersonaBrains, PersonaRegistry

from tests.scripted_llm import ScriptedLLM

SPEC = ToolSpec("get_time", "the time", {"type": "object", "properties": {}})


class Watcher(AssistantObserver):
    def __init__(self) -> None:
        self.hooks: list[str] = []

    def opened(self, conversation) -> None:
        self.hooks.append("opened")

    def closed(self, conversation) -> None:
        self.hooks.append("closed")


class ClockExtension:
    """A minimal adapter: one server tool and an observer for every conversation."""

    name = "clock"

    def __init__(self) -> None:
        self.seen: list[ConversationInfo] = []
        self.watchers: list[Watcher] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def describe(self) -> dict:
        return {"conversations": len(self.seen)}

    def session_parts(self, info: ConversationInfo) -> SessionParts:
        self.seen.append(info)

        async def now(arguments: dict) -> str:
            return "ten past four"

        async def tools() -> list[ServerTool]:
            return [ServerTool(SPEC, now, server_label="clock")]

        self.watchers.append(Watcher())
        return SessionParts(tools=tools, observers=[self.watchers[-1]])


def _assistant(tmp_path) -> tuple[Assistant, ClockExtension]:
    settings = load_settings(environ={"OVOS_REALTIME_PERSONAS__FOLDER": str(tmp_path)})
    clock = ClockExtension()
    assert isinstance(clock, Extension)
    personas = PersonaRegistry.load(settings)
    return Assistant(personas, PersonaBrains(ScriptedLLM(), settings.llm), [clock]), clock


async def _texts(stream) -> tuple[str, list]:
    events = []
    async with contextlib.aclosing(stream) as answer:
        async for event in answer:
            events.append(event)
    return "".join(e.text for e in events if isinstance(e, TextDelta)), events


async def test_a_conversation_answers_with_its_persona_and_extensions(tmp_path):
    assistant, clock = _assistant(tmp_path)
    conversation = assistant.open("conv_1", "gpt-realtime", {"lang": "pt-PT"})
    assert conversation.persona.name == "default"  # an unknown model: the default persona
    (info,) = clock.seen
    assert (info.conversation_id, info.params["lang"]) == ("conv_1", "pt-PT")
    assert clock.watchers[0].hooks == ["opened"]

    history = [{"role": "user", "content": "please call a tool"}]
    text, events = await _texts(conversation.reply(history))
    assert text == "The tool said: ten past four"
    assert any(isinstance(e, ServerToolDone) and e.output == "ten past four" for e in events)
    assert history[-1] == {"role": "assistant", "content": text}

    history.append({"role": "user", "content": "thanks"})
    text, _ = await _texts(conversation.reply(history))
    assert text == "Hello! You said: thanks"
    conversation.close()
    assert clock.watchers[0].hooks == ["opened", "closed"]


async def test_an_answer_is_cancelled_by_closing_its_stream(tmp_path):
    assistant, _ = _assistant(tmp_path)
    conversation = assistant.open("conv_2")
    history = [{"role": "user", "content": "tell me a long story"}]
    received, three = [], asyncio.Event()

    async def listen() -> None:
        async for event in conversation.reply(history):
            received.append(event)
            if len(received) == 3:
                three.set()

    task = asyncio.create_task(listen())
    await asyncio.wait_for(three.wait(), 5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    count = len(received)
    await asyncio.sleep(0.1)
    assert len(received) == count < 50  # nothing after the cancel; the story had 400 words
    assert history[-1]["role"] == "user"  # an unfinished answer is not history


async def test_a_persona_named_by_the_door_is_used(tmp_path):
    (tmp_path / "pirate.json").write_text('{"name": "pirate", "instructions": "Arr."}')
    assistant, _ = _assistant(tmp_path)
    conversation = assistant.open("conv_3", "Pirate")
    assert conversation.persona.name == "pirate"
