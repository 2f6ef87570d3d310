"""Personas: who answers a Realtime session. A persona is a JSON file naming its instructions,
its brain (`persona`: an LLM with tools; `ovos`: the OVOS intent pipeline first, the LLM when no
skill can answer), optional LLM overrides, voice, speed, and the server tool sets it may use.

Built-in personas ship in the `ovos_realtime_personas` package; files in the user folder
(`personas.folder`) add to them and override them by name. Clients pick one with
`?model=<persona name>`; an unknown model name gets the default persona (OpenAI clients send
their own model names, and refusing those would break drop-in use).

Files in ovos-persona's format load too: `name`, and from an `ovos-solver-openai-plugin` block
the endpoint (`api_url`, `key`, `model`) and the system prompt (`system_prompt` or `persona`).
Other solvers and their blocks have no meaning here and are ignored, with a log line.
"""

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ovos_realtime.brain.base import Brain
from ovos_realtime.config import ConfigError, LLMSettings, Settings

log = logging.getLogger(__name__)

BUILTIN_PACKAGE = "ovos_realtime_personas"
TOOL_SETS = ("ask_ovos", "skills")  # and "skill:<skill_id>" for one skill's API
# ovos-persona's solver for OpenAI-compatible endpoints: the one solver block we can map.
OPENAI_SOLVERS = ("ovos-solver-openai-plugin", "ovos-solver-openai-persona-plugin")
# LLM keys that need a backend of their own; temperature and output limits go per session.
_BACKEND_KEYS = ("backend", "model", "url", "api_key", "context_tokens", "threads", "timeout_s")


class PersonaFile(BaseModel):
    """The JSON format. Unknown keys are an error, except ovos-persona's (see module doc)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=64)
    description: str = ""
    instructions: str | None = None
    brain: Literal["persona", "ovos"] = "persona"
    llm: dict[str, Any] = Field(default_factory=dict)
    voice: str | None = None
    speed: float | None = Field(None, ge=0.25, le=4.0)
    tools: list[str] = Field(default_factory=lambda: list(TOOL_SETS))
    # ovos-persona compatibility
    solvers: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Persona:
    name: str
    description: str = ""
    instructions: str | None = None  # None: the `session.instructions` setting
    brain: str = "persona"
    llm: dict[str, Any] = field(default_factory=dict)  # overrides of the `llm` settings
    voice: str | None = None
    speed: float | None = None
    tools: tuple[str, ...] = TOOL_SETS
    source: str = "built-in"

    def allows(self, tool_set: str) -> bool:
        return tool_set in self.tools

    def allows_skill(self, skill_id: str) -> bool:
        return "skills" in self.tools or f"skill:{skill_id}" in self.tools

    def llm_settings(self, base: LLMSettings) -> LLMSettings:
        return LLMSettings.model_validate({**base.model_dump(), **self.llm})


def _from_ovos_persona(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Map what overlaps with ovos-persona's format; name what is ignored."""
    out = dict(data)
    solvers = [s for s in out.get("solvers") or [] if isinstance(s, str)]
    for solver in solvers:
        block = out.pop(solver, None)
        if solver in OPENAI_SOLVERS and isinstance(block, dict):
            llm = out.setdefault("llm", {})
            if isinstance(llm, dict):
                for theirs, ours in (("api_url", "url"), ("key", "api_key"), ("model", "model")):
                    if block.get(theirs) and ours not in llm:
                        llm[ours] = block[theirs]
                if llm.get("url") and "backend" not in llm:
                    llm["backend"] = "openai"
            prompt = block.get("system_prompt") or block.get("persona")
            if prompt and not out.get("instructions"):
                out["instructions"] = prompt
        else:
            log.info("persona file %s: solver %r has no meaning here; ignored", path, solver)
    for key in ("memory_module", "handle_fallback"):
        if key in out:
            log.info("persona file %s: ovos-persona key %r ignored", path, key)
            out.pop(key)
    return out


def parse_persona(data: Any, path: Path, source: str) -> Persona:
    """A Persona from parsed JSON, or ConfigError naming the file and the key."""
    if not isinstance(data, dict):
        raise ConfigError(f"persona file {path}: the top level must be a JSON object")
    data = _from_ovos_persona(data, path)
    data.setdefault("name", path.stem)
    try:
        parsed = PersonaFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"persona file {path}: {key}: {err['msg']}") from None
    unknown = sorted(set(parsed.model_extra or {}))
    if unknown:
        raise ConfigError(
            f"persona file {path}: {unknown[0]}: unknown key (known: "
            f"{', '.join(k for k in PersonaFile.model_fields if k != 'solvers')})"
        )
    for index, tool_set in enumerate(parsed.tools):
        if tool_set not in TOOL_SETS and not (tool_set.startswith("skill:") and len(tool_set) > 6):
            raise ConfigError(
                f"persona file {path}: tools.{index}: {tool_set!r} is not a tool set "
                f"({', '.join(TOOL_SETS)} or skill:<skill_id>)"
            )
    persona = Persona(
        name=parsed.name,
        description=parsed.description,
        instructions=parsed.instructions or None,
        brain=parsed.brain,
        llm=dict(parsed.llm),
        voice=parsed.voice,
        speed=parsed.speed,
        tools=tuple(parsed.tools),
        source=source,
    )
    try:
        persona.llm_settings(LLMSettings())
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in err["loc"])
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"persona file {path}: llm.{key}: {message}") from None
    return persona


def _read(path: Path, source: str) -> Persona:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"persona file {path}: cannot read it ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"persona file {path}: not valid JSON ({exc})") from None
    return parse_persona(data, path, source)


def _builtin_files() -> Iterator[Path]:
    try:
        root = resources.files(BUILTIN_PACKAGE)
    except ModuleNotFoundError:
        return
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            yield Path(str(entry))


class PersonaRegistry:
    """Every persona by name; `resolve(model)` picks one for a session."""

    def __init__(self, personas: dict[str, Persona], default: str, alias: str) -> None:
        if default not in personas:
            raise ConfigError(
                f"personas.default: no persona named {default!r} (have: {', '.join(personas)})"
            )
        self.personas = personas
        self.default = default
        self.alias = alias  # the `session.model` name means the default persona

    @classmethod
    def load(cls, settings: Settings) -> "PersonaRegistry":
        personas: dict[str, Persona] = {}
        for path in _builtin_files():
            persona = _read(path, "built-in")
            personas[persona.name] = persona
        folder = Path(settings.personas.folder).expanduser()
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                persona = _read(path, str(path))
                if persona.name in personas:
                    log.info("persona %r from %s overrides the built-in one", persona.name, path)
                personas[persona.name] = persona
        elif "folder" in settings.personas.model_fields_set:
            raise ConfigError(f"personas.folder: {folder} is not a folder")
        log.info("personas: %s (default %s)", ", ".join(personas), settings.personas.default)
        return cls(personas, settings.personas.default, settings.session.model)

    def names(self) -> list[str]:
        return list(self.personas)

    def get(self, name: str | None) -> Persona | None:
        if not name:
            return None
        if name in self.personas:
            return self.personas[name]
        folded = name.casefold()
        for persona in self.personas.values():
            if persona.name.casefold() == folded:
                return persona
        return None

    def resolve(self, model: str | None, session_id: str = "-") -> Persona:
        """The persona for `?model=`; unknown names (e.g. gpt-realtime) get the default."""
        persona = self.get(model)
        if persona is None:
            if model and model != self.alias:
                log.info(
                    "[%s] model %r is no persona; using the default persona %r",
                    session_id,
                    model,
                    self.default,
                )
            persona = self.personas[self.default]
        return persona


class PersonaBrains:
    """The LLM of each persona: the server's own, or one made from the persona's overrides."""

    def __init__(self, default: Brain, base: LLMSettings) -> None:
        self.default = default
        self.base = base
        self._own: dict[str, Brain] = {}

    def for_persona(self, persona: Persona) -> Brain:
        if not any(key in persona.llm for key in _BACKEND_KEYS):
            return self.default
        if persona.name not in self._own:
            from ovos_realtime.brain.factory import create_backend

            self._own[persona.name] = create_backend(persona.llm_settings(self.base))
            log.info("persona %r has its own LLM backend", persona.name)
        return self._own[persona.name]

    async def aclose(self) -> None:
        for backend in [*self._own.values(), self.default]:
            await backend.aclose()
