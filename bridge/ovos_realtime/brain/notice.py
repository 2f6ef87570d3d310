"""What the brain is, in plain words: which model runs, what it can do, and how to change it.

`serve` prints it once at start and the home page shows it, so that a new user learns from the
first screen that the embedded default is a demo model and how to point the server at a real one.
"""

import re
from typing import Any

import httpx

from ovos_realtime.config import LLMSettings

# The one line in the README's Quick start: an Ollama model over its OpenAI-compatible API.
REAL_BRAIN_COMMAND = (
    'make serve SERVE_ARGS="--llm-url http://127.0.0.1:11434/v1 --llm-model qwen2.5:3b"'
)

# "SmolLM2-135M-Instruct.Q4_1.gguf", "qwen2.5:3b", "Llama-3.1-8B-Instruct": the size in the name.
_SIZE = re.compile(r"(?<![\d.a-z])(\d+(?:\.\d+)?)([mb])(?![a-z0-9])", re.IGNORECASE)


def parameters(model: str | None) -> float | None:
    """The parameter count a model's name states (135M, 1.5B, 3b), or None."""
    found = _SIZE.findall(model or "")
    if not found:
        return None
    number, unit = found[-1]
    return float(number) * (1e6 if unit.lower() == "m" else 1e9)


def _size_text(count: float) -> str:
    return f"{count / 1e9:g}B" if count >= 1e9 else f"{count / 1e6:g}M"


def limits(model: str | None) -> str:
    count = parameters(model)
    if count is None:
        return "answers are as good as this model; its size is not in its name"
    if count < 1e9:
        return (
            f"tiny ({_size_text(count)} parameters), for demos and trying the protocol: "
            "it gets facts wrong, cannot reason and may ramble"
        )
    if count < 5e9:
        return (
            f"small ({_size_text(count)} parameters): everyday questions and simple tool calls; "
            "check facts that matter"
        )
    return f"{_size_text(count)} parameters: as good as the model, as fast as the machine"


def summary(described: dict[str, Any]) -> dict[str, str]:
    """For a brain's describe() (any backend): `brain` (what runs), `limits`, `change` (how to
    change it, in words) and `command` (the command that does it, or "")."""
    backend = str(described.get("backend", "?"))
    model = described.get("model")
    if backend == "embedded":
        return {
            "brain": f"embedded llama.cpp, {model}",
            "limits": limits(model),
            "change": "for better answers, run a bigger model in Ollama or llama.cpp's server "
            "(README: Quick start)",
            "command": REAL_BRAIN_COMMAND,
        }
    if backend == "openai":
        return {
            "brain": f"OpenAI-compatible endpoint {described.get('url')}, model {model}",
            "limits": limits(model),
            "change": "another model there: --llm-model NAME; the embedded one: leave out "
            "--llm-url (README: Quick start)",
            "command": "",
        }
    return {
        "brain": f"custom backend {backend}" + (f", model {model}" if model else ""),
        "limits": "as its author made it",
        "change": "llm.backend: embedded | openai | package.module:Class (README: Configuration)",
        "command": "",
    }


def probe(settings: LLMSettings, timeout_s: float = 3.0) -> str | None:
    """For the `openai` backend: a warning if its endpoint cannot be reached or lacks the model,
    so the first request does not fail in silence. None when all is well (or not applicable)."""
    if settings.backend != "openai" or not settings.url:
        return None
    url = settings.url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    try:
        response = httpx.get(url, headers=headers, timeout=timeout_s)
        response.raise_for_status()
        listed = [str(m.get("id")) for m in response.json().get("data", [])]
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return (
            f"cannot reach {url} ({type(exc).__name__}: {exc}). Is the server running "
            "(`ollama serve`, or llama.cpp's `llama-server --jinja -m MODEL.gguf`)?"
        )
    # Ollama answers for "qwen2.5" with "qwen2.5:latest".
    if settings.model and listed and not {settings.model, f"{settings.model}:latest"} & set(listed):
        shown = ", ".join(listed[:8]) + (", …" if len(listed) > 8 else "")
        return (
            f"model {settings.model!r} is not among the endpoint's models ({shown}); "
            f"for Ollama: `ollama pull {settings.model}`"
        )
    return None
