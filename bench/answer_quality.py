"""Answer quality of the embedded brain: everyday voice-assistant requests, scored automatically.

Runs each case of bench/answer_scoring.py (30+ requests: facts, arithmetic, greetings, short
how-tos, another language when asked, a long answer when asked, tool calls where tools are
offered) through the product's embedded backend (llama.cpp, with its loop guard and tool
grammar), once per model and per setting, and prints JSON: the pass rate and each check's rate
(keyword, no_loop, length, language), how many answers the loop guard ended, first-token latency
(median, p95) and tokens per second (median, p95), and the failed cases with their answers.

    .venv/bin/python bench/answer_quality.py                       # default model, all settings
    .venv/bin/python bench/answer_quality.py --model small=smollm2-135m-instruct --model x=/a.gguf
    .venv/bin/python bench/answer_quality.py --cases capital_france,add --settings default,t0

A setting is a system prompt and sampling overrides (SETTINGS below); `default` is the
product's defaults as `ovos-realtime serve` runs them.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bridge"), str(REPO)]

from ovos_realtime.brain.base import (  # noqa: E402
    BrainRequest,
    Finished,
    TextDelta,
    ToolArgumentsDelta,
    ToolCallStarted,
    ToolSpec,
)
from ovos_realtime.brain.tool_rounds import answer_with_server_tools  # noqa: E402
from ovos_realtime.config import LLMSettings, SessionSettings  # noqa: E402

from bench._stats import summary  # noqa: E402
from bench.answer_scoring import BY_ID, CASES, Case, score  # noqa: E402

DEFAULT = SessionSettings().instructions
OLD_INSTRUCTIONS = (
    "You are a helpful, friendly voice assistant. Answer briefly and clearly, "
    "in one or two short sentences."
)
OLD_SAMPLING = {"temperature": 0.7, "repeat_penalty": 1.0, "min_p": 0.05, "top_p": 0.95}

VOICE = (
    "You are a voice assistant. Answer in English with one short, direct sentence. "
    "No lists, no markdown."
)
FEWSHOT = (
    VOICE + " Examples:\n"
    "User: What is the capital of Spain?\nAssistant: The capital of Spain is Madrid.\n"
    "User: What is 3 plus 4?\nAssistant: 3 plus 4 is 7.\n"
    "User: Say hi to Sam.\nAssistant: Hi Sam!"
)
FEWSHOT2 = (
    "You are a voice assistant. Answer in English in one short sentence, then stop. "
    "No lists, no markdown.\n"
    "User: What is the capital of Spain?\nAssistant: Madrid is the capital of Spain.\n"
    "User: What is 5 plus 3?\nAssistant: 5 plus 3 is 8.\n"
    "User: Say hi to Sam.\nAssistant: Hi Sam!"
)

# name -> (system prompt, LLMSettings overrides). `default`: what the product runs today.
SETTINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "default": (DEFAULT, {}),
    "old": (OLD_INSTRUCTIONS, OLD_SAMPLING),
    "old_t0": (OLD_INSTRUCTIONS, {**OLD_SAMPLING, "temperature": 0.0}),
    "old_rp": (OLD_INSTRUCTIONS, {**OLD_SAMPLING, "temperature": 0.2, "repeat_penalty": 1.15}),
    "voice_t0": (VOICE, {"temperature": 0.0}),
    "fewshot_t0": (FEWSHOT, {"temperature": 0.0}),
    "fewshot_t0_rp": (FEWSHOT, {"temperature": 0.0, "repeat_penalty": 1.15}),
    "fewshot_t02_rp": (FEWSHOT, {"temperature": 0.2, "repeat_penalty": 1.15}),
    "fewshot_t07": (FEWSHOT, {"temperature": 0.7}),
    "fewshot2_t0_rp": (FEWSHOT2, {"temperature": 0.0, "repeat_penalty": 1.15}),
    "fewshot2_t0_rp11": (FEWSHOT2, {"temperature": 0.0, "repeat_penalty": 1.1}),
    "fewshot2_t02_rp": (FEWSHOT2, {"temperature": 0.2, "repeat_penalty": 1.15}),
    "fewshot2_t0_fp": (FEWSHOT2, {"temperature": 0.0, "frequency_penalty": 0.5}),
    "default_t0": (DEFAULT, {"temperature": 0.0}),
}


def _tools(case: Case) -> list[ToolSpec]:
    return [ToolSpec.from_realtime(tool) for tool in case.tools]


async def run_case(brain: Any, case: Case, system: str, temperature: float) -> dict[str, Any]:
    request = BrainRequest(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": case.prompt}],
        tools=_tools(case),
        tool_choice="auto",
        temperature=temperature,
    )
    text, call, reason, tokens = "", None, "stop", 0
    began = time.perf_counter()
    first = None
    # Through the brain layer's text stream, where the loop guard reads every backend's answer.
    async for event in answer_with_server_tools(brain, request, {}):
        if first is None and not isinstance(event, Finished):
            first = time.perf_counter()
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, ToolCallStarted):
            call = {"name": event.name, "arguments": ""}
        elif isinstance(event, ToolArgumentsDelta) and call is not None:
            call["arguments"] += event.delta
        elif isinstance(event, Finished):
            reason, tokens = event.reason, event.output_tokens
    ended = time.perf_counter()
    first = first or ended
    result = score(case, text, call)
    generating = ended - first
    return {
        "id": case.id,
        "answer": text.strip() if call is None else f"{call['name']}({call['arguments']})",
        "reason": reason,
        "first_token_ms": (first - began) * 1000,
        "tokens_per_s": (tokens - 1) / generating if tokens > 1 and generating > 0 else None,
        **result,
    }


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(results)
    return {
        "cases": n,
        "passed": sum(r["pass"] for r in results),
        "score": round(sum(r["pass"] for r in results) / n, 3),
        **{
            f"{check}_rate": round(sum(r[check] for r in results) / n, 3)
            for check in ("keyword", "no_loop", "length", "language")
        },
        "loop_guard_ended": sum(r["reason"] == "repetition" for r in results),
        "first_token_ms": summary([r["first_token_ms"] for r in results], count=False),
        "tokens_per_s": summary([r["tokens_per_s"] for r in results], count=False),
        "failed": {
            r["id"]: {
                "answer": r["answer"][:300],
                "checks": [c for c in ("keyword", "no_loop", "length", "language") if not r[c]],
            }
            for r in results
            if not r["pass"]
        },
    }


async def run(model: str | None, setting: str, cases: list[Case], threads: int) -> dict:
    from ovos_realtime.brain.llama_embedded import EmbeddedLlamaBackend

    system, overrides = SETTINGS[setting]
    settings = LLMSettings(model=model, threads=threads, **overrides)
    brain = EmbeddedLlamaBackend(settings)
    try:
        results = [await run_case(brain, case, system, settings.temperature) for case in cases]
    finally:
        await brain.aclose()
    return {
        "model": brain.model_path.name,
        "sampling": {
            key: getattr(settings, key)
            for key in ("temperature", "repeat_penalty", "frequency_penalty", "min_p", "top_p")
        },
        **summarize(results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        help="NAME=GGUF path or packaged model name (repeatable); default: the default model",
    )
    parser.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated")
    parser.add_argument("--cases", default="", help="comma-separated case ids (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    models = dict(item.split("=", 1) for item in args.model) or {"default": None}
    cases = [BY_ID[c] for c in args.cases.split(",")] if args.cases else list(CASES)
    out: dict[str, Any] = {}
    for name, path in models.items():
        for setting in args.settings.split(","):
            result = asyncio.run(run(path, setting, cases, args.threads))
            out[f"{name}/{setting}"] = result
            print(f"{name}/{setting}: {result['passed']}/{result['cases']}", file=sys.stderr)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
