"""The embedded LLM's thread plan: the first tokens sprint on the idle cores until a token comes
slower (another thread took a core), the prompt is read with the idle cores, and reading ahead
uses one thread."""

import pytest
from ovos_realtime.brain import llama_threads
from ovos_realtime.brain.llama_threads import ThreadPlan
from ovos_realtime.config import LLMSettings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(llama_threads.time, "perf_counter", clock)
    return clock


def plan_with(monkeypatch, idle: int | None, **settings) -> tuple[ThreadPlan, list]:
    monkeypatch.setattr(llama_threads, "idle_cores", lambda: idle)
    calls: list[tuple[int, int]] = []
    return ThreadPlan(LLMSettings(**settings), lambda n, b: calls.append((n, b))), calls


def tokens(plan: ThreadPlan, clock: Clock, gaps_ms: list[float]) -> None:
    for gap in gaps_ms:
        clock.now += gap / 1000
        plan.token()


def test_the_sprint_runs_on_the_idle_cores_until_a_token_comes_slower(monkeypatch, clock):
    plan, calls = plan_with(monkeypatch, idle=2)
    plan.for_answer()
    assert calls == [(2, 2)] and plan.sprinting
    tokens(plan, clock, [400, 40, 38, 45, 50])  # prompt read, then steady tokens
    assert plan.sprinting, "a token within 1.6x of the fastest keeps the sprint"
    tokens(plan, clock, [90])  # the TTS took a core
    assert not plan.sprinting and calls[-1] == (1, 2)
    tokens(plan, clock, [40, 200])
    assert calls[-1] == (1, 2) and len(calls) == 2, "once over, the sprint does not come back"


def test_the_first_token_reading_the_prompt_does_not_end_the_sprint(monkeypatch, clock):
    plan, _ = plan_with(monkeypatch, idle=2)
    plan.for_answer()
    tokens(plan, clock, [900, 40])
    assert plan.sprinting


def test_a_busy_machine_answers_on_one_thread(monkeypatch, clock):
    plan, calls = plan_with(monkeypatch, idle=1)
    plan.for_answer()
    assert calls == [] and not plan.sprinting  # (1, 1) is where it started
    plan, calls = plan_with(monkeypatch, idle=None)  # the system does not say
    plan.for_answer()
    assert not plan.sprinting


def test_beside_another_answer_there_is_no_sprint(monkeypatch, clock):
    """Two slots answering at once on two cores: one thread each (two sprints would put four
    threads on two cores, each waiting at its barrier every token)."""
    plan, calls = plan_with(monkeypatch, idle=2)
    plan.for_answer(alone=False)
    assert calls == [] and not plan.sprinting


def test_sprint_threads_1_turns_the_sprint_off_and_a_number_fixes_it(monkeypatch, clock):
    plan, calls = plan_with(monkeypatch, idle=2, sprint_threads=1)
    plan.for_answer()
    assert calls == [(1, 2)] and not plan.sprinting
    plan, calls = plan_with(monkeypatch, idle=1, sprint_threads=2, batch_threads=1)
    plan.for_answer()
    assert calls == [(2, 1)] and plan.sprinting


def test_reading_ahead_uses_one_thread_and_the_next_answer_sprints_again(monkeypatch, clock):
    plan, calls = plan_with(monkeypatch, idle=2)
    plan.for_answer()
    tokens(plan, clock, [300, 40, 100])
    plan.for_reading_ahead()
    assert calls[-1] == (1, 1)
    plan.for_answer()
    assert calls[-1] == (2, 2) and plan.sprinting
    tokens(plan, clock, [300, 40, 45])
    assert plan.sprinting, "the fastest token is the new answer's, not the last one's"
