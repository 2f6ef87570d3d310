"""Which llama.cpp slot answers a request (brain/llama_slots.py): the rules, without a model."""

from types import SimpleNamespace

from ovos_realtime.brain.base import BrainRequest
from ovos_realtime.brain.llama_slots import LlamaSlot, choose_slot
from ovos_realtime.config import LLMSettings

SYSTEM = {"role": "system", "content": "Be brief."}


def slots(count: int = 2) -> list[LlamaSlot]:
    llama = SimpleNamespace(_ctx=SimpleNamespace(set_n_threads=lambda *_: None))
    made = [LlamaSlot(index, llama, LLMSettings()) for index in range(count)]
    for slot in made:
        slot.executor.shutdown()
    return made


def asked(words: str, conversation: str | None = None, *history: dict) -> BrainRequest:
    messages = [SYSTEM, *history, {"role": "user", "content": words}]
    return BrainRequest(messages=messages, conversation=conversation)


def test_each_conversation_keeps_its_slot_while_its_words_change():
    pool = slots()
    a = choose_slot(pool, asked("could you", "A")).take(asked("could you", "A"))
    b = choose_slot(pool, asked("what is", "B")).take(asked("what is", "B"))
    assert a is not b
    for words in ("could you tell", "could you tell me"):
        assert choose_slot(pool, asked(words, "A")).take(asked(words, "A")) is a
        assert choose_slot(pool, asked(words + "?", "B")).take(asked(words + "?", "B")) is b


def test_a_new_conversation_takes_an_unused_slot_then_the_least_recently_used():
    pool = slots(3)
    first = choose_slot(pool, asked("hi", "A")).take(asked("hi", "A"))
    second = choose_slot(pool, asked("hi", "B")).take(asked("hi", "B"))
    third = choose_slot(pool, asked("hi", "C")).take(asked("hi", "C"))
    assert len({first.index, second.index, third.index}) == 3
    choose_slot(pool, asked("again", "A")).take(asked("again", "A"))
    assert choose_slot(pool, asked("hi", "D")) is second  # B's was used least recently


def test_an_idle_slot_answers_before_a_busy_one_even_its_own():
    pool = slots()
    own = choose_slot(pool, asked("hi", "A")).take(asked("hi", "A"))
    own.answering = 1  # another answer of A's is still being read
    assert choose_slot(pool, asked("hello", "A")) is not own
    own.answering = 0  # its consumer closed it (a dropped speculation): A's slot again
    assert choose_slot(pool, asked("hello", "A")) is own


def test_without_a_conversation_the_longest_history_past_the_system_prompt_wins():
    pool = slots()
    history = ({"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"})
    held = choose_slot(pool, asked("hi")).take(asked("hi"))
    other = choose_slot(pool, asked("other")).take(asked("other"))
    assert held is not other
    # Both share the system prompt with the next turn; only one holds its history.
    assert choose_slot(pool, asked("and now?", None, *history)) is held


def test_a_new_conversation_takes_the_slot_of_one_that_ended_before_a_live_ones():
    pool = slots()
    for name in ("A", "B"):  # both answered: their caches hold them
        slot = choose_slot(pool, asked("hi", name)).take(asked("hi", name))
        slot.fill_for(asked("hi", name))
    ended = next(slot for slot in pool if slot.conversation == "B")  # used most recently
    for slot in pool:
        slot.forget("B")
    assert ended.cache_owner is None and ended.conversation is None
    assert choose_slot(pool, asked("hello", "C")) is ended  # not A's, though used earlier
