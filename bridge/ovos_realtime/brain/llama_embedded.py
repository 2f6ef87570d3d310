"""Embedded llama.cpp backend (llama-cpp-python): the default brain.

One model per process, shared by all sessions, in `llm.slots` llama.cpp contexts (2 by default,
brain/llama_slots.py): each generates on its own thread and holds one conversation in its cache,
so two sessions answer at once. Tokens cross to the event loop through a queue. Closing the
stream sets a stop flag the thread checks per token, so an abandoned generation (a dropped
speculation) frees the slot at its next token.

Warm prompt prefix: llama.cpp keeps the last evaluation's tokens in its KV cache and
llama-cpp-python reads only what differs from them. A conversation's next prompt extends the
last one byte for byte (the history holds the model's own answer text, see brain/history.py),
so a turn reads only its new tokens, on the slot that answered its last one. More sessions than
slots share them: a session whose slot served another since keeps only the common prefix (the
system prompt). Saving the state per session was not chosen: llama-cpp-python's `save_state`
copies the logits buffer (n_batch × vocabulary floats, ~300 MB for Qwen2.5), far more than the
re-read costs. `Finished.cached_tokens` says how many prompt tokens were not read again.

Reading ahead: while the user still speaks, `prepare()` gets the request the turn would make
with the words heard so far, and the idle thread of the slot the answer will take reads that
prompt up to those words into its cache, a few tokens at a time (it yields to a real answer
between batches). When the turn ends, the answer reads only the last words and the template's
closing tokens.
"""

import asyncio
import functools
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from ovos_realtime.brain.base import (
    BrainEvent,
    BrainRequest,
    Finished,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallStarted,
)
from ovos_realtime.brain.llama_slots import LlamaSlot, choose_slot
from ovos_realtime.brain.models import resolve_gguf
from ovos_realtime.brain.tool_prompt import (
    argument_schema,
    arguments_prefix,
    call_opening,
    call_prefix,
    plain_messages,
)
from ovos_realtime.config import LLMSettings
from ovos_realtime.ids import new_id
from ovos_realtime.openmp import import_llama_cpp
from ovos_realtime.urgent import MAX_WAIT_S, URGENT

log = logging.getLogger(__name__)

_END = object()
# Tokens read ahead per llama.cpp call: an answer that comes waits at most for one such batch.
READ_AHEAD_BATCH = 4
# Reading ahead that waits for urgent work looks this often for an answer to give way to.
READ_AHEAD_POLL_S = 0.02
# Reading ahead only adds the turn's words to a cache that holds the conversation before them
# (give or take the template's tokens around the last answer). When it holds another live
# session's conversation, it waits for the answer: reading this one's history ahead would only
# evict the other's (two sessions speaking at once re-read 30-70 tokens each time, slowing
# both). An empty cache, or one whose conversation has ended, is read into at once.
READ_AHEAD_SLACK = 8


class _Stopped(Exception):
    """The consumer went away; the generation thread unwinds."""


class EmbeddedLlamaBackend:
    name = "embedded"
    side_effects = False

    def __init__(self, settings: LLMSettings) -> None:
        Llama = import_llama_cpp().Llama  # first: it loads llama.cpp's OpenMP runtime
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.settings = settings
        self.model_path: Path = resolve_gguf(settings.model)
        self._slots = [
            LlamaSlot(
                index,
                Llama(
                    model_path=str(self.model_path),
                    n_ctx=settings.context_tokens,
                    n_threads=settings.threads,
                    n_threads_batch=settings.batch_threads or settings.threads,
                    verbose=False,
                ),
                settings,
            )
            for index in range(settings.slots)
        ]
        # Tokenizing and the template are the model's, the same in every slot.
        self._llama = self._slots[0].llama
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError(f"{self.model_path} has no chat template; use a chat (instruct) model")
        eos = self._llama.token_eos()
        bos = self._llama.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self._llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token=self._llama._model.token_get_text(bos) if bos != -1 else "",
        )
        self._sampling = {
            "repeat_penalty": settings.repeat_penalty,
            "frequency_penalty": settings.frequency_penalty,
            "presence_penalty": settings.presence_penalty,
            "min_p": settings.min_p,
            "top_p": settings.top_p,
        }
        log.info(
            "embedded LLM loaded: %s (%d slots, %d threads each)",
            self.model_path.name,
            settings.slots,
            settings.threads,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_path.name,
            "threads": self.settings.threads,
            "slots": self.settings.slots,
        }

    async def aclose(self) -> None:
        for slot in self._slots:
            slot.executor.shutdown(wait=False, cancel_futures=True)

    # ---- the async side ----

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def push(event: object) -> None:
            if stop.is_set():
                raise _Stopped
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # the loop is closed: nobody is listening
                raise _Stopped from None

        slot = choose_slot(self._slots, request).take(request)
        slot.answering += 1
        with slot.read_ahead_lock:
            slot.answers_waiting += 1
            slot.to_read = None  # what it would have read, the answer reads now
        loop.run_in_executor(slot.executor, self._generate_safely, slot, request, push, stop)
        try:
            while (event := await queue.get()) is not _END:
                if isinstance(event, BaseException):
                    raise event
                yield event
        finally:
            stop.set()
            slot.answering -= 1  # (its thread stops at its next token)

    def prepare(self, request: BrainRequest) -> None:
        """Read `request`'s prompt up to its last user words into the cache of the slot its
        answer will take, when that slot's thread is idle (the user is still speaking them:
        nothing is generated)."""
        slot = choose_slot(self._slots, request).take(request)
        with slot.read_ahead_lock:
            idle = slot.to_read is None
            slot.to_read = request
        if idle:
            slot.executor.submit(self._read_ahead, slot)

    def forget(self, conversation: str) -> None:
        for slot in self._slots:
            slot.forget(conversation)

    def _generate_safely(
        self,
        slot: LlamaSlot,
        request: BrainRequest,
        push: Callable[[object], None],
        stop: threading.Event,
    ) -> None:
        with slot.read_ahead_lock:
            slot.answers_waiting -= 1
        try:
            if not stop.is_set():
                self._generate(slot, request, push, stop)
        except _Stopped:
            return
        except Exception as exc:
            log.exception("embedded LLM generation failed")
            try:
                push(exc)
            except _Stopped:
                return
        try:
            push(_END)
        except _Stopped:
            pass

    # ---- the generation thread ----

    def _generate(
        self,
        slot: LlamaSlot,
        request: BrainRequest,
        push: Callable[[object], None],
        stop: threading.Event,
    ) -> None:
        # Another slot generating holds a core: no sprint beside it (two sprints at once would
        # put four threads on two cores).
        slot.threads.for_answer(alone=not any(s.answering for s in self._slots if s is not slot))
        use_tools = bool(request.tools) and request.tool_choice != "none"
        messages = plain_messages(request.messages, request.tools if use_tools else [])
        budget = request.max_output_tokens or self.settings.max_output_tokens
        prompt, stops, prompt_tokens = self._fit_prompt(messages, budget)
        cached = self._cached_tokens(slot, self._tokens(prompt))
        slot.fill_for(request)
        log.debug(
            "[slot %d] prompt: %d tokens, %d of them cached", slot.index, prompt_tokens, cached
        )
        counter = _Counter()
        forced = request.forced_tool()
        try:
            if use_tools and (request.tool_choice == "required" or forced):
                reason = self._tool_call(slot, request, prompt, forced, budget, push, stop, counter)
            else:
                reason = self._free_text(
                    slot, request, prompt, stops, budget, use_tools, push, stop, counter
                )
        except _Stopped:
            log.debug("generation stopped by its consumer after %d tokens", counter.tokens)
            raise
        push(
            Finished(
                reason,
                input_tokens=prompt_tokens,
                output_tokens=counter.tokens,
                cached_tokens=cached,
            )
        )

    def _tokens(self, prompt: str) -> list[int]:
        """The prompt's tokens as llama-cpp-python's create_completion makes them from text."""
        tokens = self._llama.tokenize(prompt.encode(), add_bos=False, special=True)
        bos = self._llama.token_bos()
        if self._llama._model.add_bos_token() and bos != -1:
            tokens = [bos, *tokens]
        return tokens

    @staticmethod
    def _cached_tokens(slot: LlamaSlot, tokens: list[int]) -> int:
        """How many of `tokens` the slot's context holds already (what llama-cpp-python will not
        read again; it re-reads the last one when the whole prompt matches)."""
        held = slot.llama._input_ids.tolist()
        same = slot.llama.longest_token_prefix(held, tokens)
        return min(same, len(tokens) - 1) if tokens else 0

    # ---- reading ahead (the generation thread) ----

    def _read_ahead(self, slot: LlamaSlot) -> None:
        while True:
            with slot.read_ahead_lock:
                request, slot.to_read = slot.to_read, None
                if request is None or slot.answers_waiting:
                    return
            try:
                self._read_prefix(slot, request)
            except Exception:  # only a cache warm-up: the answer reads the prompt itself
                log.exception("reading ahead failed")

    def _read_prefix(self, slot: LlamaSlot, request: BrainRequest) -> None:
        use_tools = bool(request.tools) and request.tool_choice != "none"
        messages = plain_messages(request.messages, request.tools if use_tools else [])
        words = str(messages[-1].get("content") or "") if messages else ""
        if not words or messages[-1].get("role") != "user":
            return
        prompt, _, _ = self._fit_prompt(
            messages, request.max_output_tokens or self.settings.max_output_tokens
        )
        end = prompt.rfind(words)
        if end < 0:
            return
        # Its last token may merge with the words that follow: not read.
        tokens = self._tokens(prompt[: end + len(words)])[:-1]
        llama = slot.llama
        start = llama.longest_token_prefix(llama._input_ids.tolist(), tokens)
        if start >= len(tokens):
            return
        foreign = slot.cache_owner not in (None, request.conversation)
        if foreign and start + READ_AHEAD_SLACK < len(self._tokens(prompt[:end])):
            log.debug("[slot %d] not read ahead: it holds another conversation", slot.index)
            return
        slot.fill_for(request)
        slot.threads.for_reading_ahead()
        began = time.perf_counter()
        llama.n_tokens = start  # eval() drops the cache from here on
        for at in range(start, len(tokens), READ_AHEAD_BATCH):
            # A pause's decode, a first clause: they are waited on, this is not (an answer
            # that comes meanwhile is, and takes the thread at once).
            waited = 0.0
            while URGENT.running and not slot.answers_waiting and waited < MAX_WAIT_S:
                waited += URGENT.wait(READ_AHEAD_POLL_S)
            if slot.answers_waiting:
                break
            llama.eval(tokens[at : at + READ_AHEAD_BATCH])
        log.debug(
            "[slot %d] read ahead %d tokens in %.0f ms (%d cached before)",
            slot.index,
            llama.n_tokens - start,
            (time.perf_counter() - began) * 1000,
            start,
        )

    def _fit_prompt(self, messages: list[dict], budget: int) -> tuple[str, list[str], int]:
        """Render the chat template, dropping the oldest turns until prompt + answer fit."""
        limit = self.settings.context_tokens - budget
        while True:
            rendered = self._formatter(messages=messages)
            prompt = rendered.prompt
            stops = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop]
            tokens = len(self._llama.tokenize(prompt.encode(), add_bos=False, special=True))
            first_turn = 1 if messages and messages[0]["role"] == "system" else 0
            if tokens <= limit or len(messages) - first_turn <= 1:
                return prompt, [s for s in stops if s], tokens
            messages = messages[:first_turn] + messages[first_turn + 1 :]

    def _temperature(self, request: BrainRequest) -> float:
        return self.settings.temperature if request.temperature is None else request.temperature

    def _completion(
        self, slot: LlamaSlot, prompt: str, **kwargs: Any
    ) -> Iterator[tuple[str, str | None]]:
        # Tokens, not text: the cached-prefix count above sees exactly what llama.cpp reads.
        tokens = self._tokens(prompt)
        for chunk in slot.llama.create_completion(prompt=tokens, stream=True, **kwargs):
            choice = chunk["choices"][0]
            yield choice["text"], choice.get("finish_reason")

    def _free_text(
        self,
        slot: LlamaSlot,
        request: BrainRequest,
        prompt: str,
        stops: list[str],
        budget: int,
        tools_offered: bool,
        push: Callable[[object], None],
        stop: threading.Event,
        counter: "_Counter",
    ) -> str:
        held = ""  # text held back while it may still become a <tool_call> tag
        deciding = tools_offered
        started = False
        reason = "stop"
        began = time.perf_counter()
        waited = 0.0
        owner = request.conversation
        stepping_aside = owner is None  # a conversation's answer: once its first clause is out
        for text, finish in self._completion(
            slot,
            prompt,
            max_tokens=budget,
            temperature=self._temperature(request),
            stop=stops,
            **self._sampling,
        ):
            if stop.is_set():
                raise _Stopped
            counter.tokens += 1
            slot.threads.token()
            if counter.tokens == 1:
                log.debug(
                    "[slot %d] first token in %.0f ms (prompt read with %d threads, %d generating)",
                    slot.index,
                    (time.perf_counter() - began) * 1000,
                    slot.threads.batch_threads,
                    slot.threads.threads,
                )
            if not started:
                text = text.lstrip()
                started = bool(text)
            if deciding:
                held += text
                calls = call_opening(held)
                if calls:
                    return self._tool_call(slot, request, prompt, None, budget, push, stop, counter)
                if calls is None:
                    continue
                deciding, text, held = False, held, ""
            if text:
                push(TextDelta(text))
            if finish == "length":
                reason = "length"
            # The first clause may be going to the TTS now: its audio first, then another
            # session's urgent work; not before this answer's own first clause (urgent.py).
            stepping_aside = stepping_aside or URGENT.running_for(owner)
            if stepping_aside and waited < MAX_WAIT_S:
                waited += URGENT.wait(MAX_WAIT_S - waited)
        if waited:
            log.debug("[slot %d] waited %.0f ms for urgent work", slot.index, waited * 1000)
        if held:
            push(TextDelta(held))
        return reason

    def _tool_call(
        self,
        slot: LlamaSlot,
        request: BrainRequest,
        prompt: str,
        name: str | None,
        budget: int,
        push: Callable[[object], None],
        stop: threading.Event,
        counter: "_Counter",
    ) -> str:
        tools = {tool.name: tool for tool in request.tools}
        if name is None:
            name = self._choose_tool(slot, prompt, list(tools), counter)
        call_id = new_id("call")
        push(ToolCallStarted(call_id=call_id, name=name))
        grammar = self._grammar(json.dumps(argument_schema(tools[name]), sort_keys=True))
        reason = "tool_calls"
        for text, finish in self._completion(
            slot,
            prompt + arguments_prefix(name),
            max_tokens=budget,
            temperature=min(self._temperature(request), 0.3),
            grammar=grammar,
        ):
            if stop.is_set():
                raise _Stopped
            counter.tokens += 1
            slot.threads.token()
            if text:
                push(ToolArgumentsDelta(call_id=call_id, delta=text))
            if finish == "length":
                reason = "length"
        return reason

    def _choose_tool(
        self, slot: LlamaSlot, prompt: str, names: list[str], counter: "_Counter"
    ) -> str:
        if len(names) == 1:
            return names[0]
        from llama_cpp import LlamaGrammar

        rule = " | ".join(json.dumps(json.dumps(name)) for name in names)
        grammar = LlamaGrammar.from_string(f"root ::= {rule}", verbose=False)
        out = "".join(
            text
            for text, _ in self._completion(
                slot, prompt + call_prefix(), max_tokens=32, temperature=0.0, grammar=grammar
            )
        )
        counter.tokens += 1
        try:
            chosen = json.loads(out)
        except ValueError:
            chosen = None
        return chosen if chosen in names else names[0]

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one backend per process; schemas repeat
    def _grammar(self, schema_json: str) -> Any:
        from llama_cpp import LlamaGrammar
        from llama_cpp.llama_grammar import JSON_GBNF

        try:
            return LlamaGrammar.from_json_schema(schema_json, verbose=False)
        except Exception:
            log.warning("tool schema not expressible as a grammar; generating plain JSON instead")
            return LlamaGrammar.from_string(JSON_GBNF, verbose=False)


class _Counter:
    def __init__(self) -> None:
        self.tokens = 0
