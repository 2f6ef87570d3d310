"""Configuration: defaults < YAML file < OVOS_REALTIME_* environment < command-line flags.

Environment variables name a key path with double underscores: `OVOS_REALTIME_LLM__URL` sets
`llm.url`, `OVOS_REALTIME_SERVER__PORT` sets `server.port`. Values are read as YAML scalars, so
`8000` is a number and `true` a boolean. An invalid value fails at start, naming the key and
where it came from.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

ENV_PREFIX = "OVOS_REALTIME_"
MiB = 1024 * 1024


class ConfigError(ValueError):
    """A configuration a user must fix; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _list_from_text(value: Any) -> Any:
    """A list setting given as text (the environment gives only text): YAML/JSON, e.g.
    OVOS_REALTIME_WEBRTC__HOST_ADDRESSES='["127.0.0.1"]'."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    api_key: str | None = None
    insecure: bool = False
    max_event_bytes: int = Field(15 * MiB, ge=1024)
    max_sessions: int = Field(64, ge=1)
    # Without an api_key, browser requests from other origins are refused; these are let in
    # too (e.g. "http://localhost:3000"; "*" lets every page drive the agent).
    allowed_origins: list[str] = Field(default_factory=list)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins_from_text(cls, value: Any) -> Any:
        return _list_from_text(value)


class LLMSettings(_Section):
    backend: str = "embedded"  # embedded | openai | "package.module:Class"
    model: str | None = (
        None  # embedded: GGUF path or packaged model name (brain/models.py); openai: model name
    )
    url: str | None = None  # openai: base URL, e.g. http://127.0.0.1:11434/v1
    api_key: str | None = None
    context_tokens: int = Field(4096, ge=512)
    # embedded: llama.cpp contexts, each answering one session at a time with its conversation
    # cached (brain/llama_slots.py); the weights are shared, a slot costs ~130 MB (Qwen2.5-0.5B).
    slots: int = Field(2, ge=1, le=16)
    # One thread: llama.cpp's threads spin at a barrier per token, and on 2 shared cores (STT
    # and TTS run beside it) two threads fell to ~1 token/s where one keeps 60-70.
    threads: int = Field(1, ge=1)
    # Prompt reading is one batch, not a barrier per token: it may use every core that is idle
    # when a response starts (~2x faster on 2 cores). A number fixes it; 0 = auto.
    batch_threads: int = Field(0, ge=0)
    # An answer's first tokens (the first clause, which the user waits for) with the cores idle
    # when it starts, until a token comes slower (brain/llama_threads.py). 0 = auto; 1 = off.
    sprint_threads: int = Field(0, ge=0)
    # Greedy, and a repeat penalty: with these SmolLM2 answered 24 of 35 everyday requests with
    # no loop, against 16 with loops at 0.7 and no penalty (bench/answer_quality.py;
    # Qwen2.5-Coder-0.5B, the default model: 30). The
    # embedded backend uses every key below; the openai one the temperature and the two
    # frequency/presence penalties. repeat_penalty 1.0 = off.
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    repeat_penalty: float = Field(1.15, ge=1.0, le=2.0)
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    min_p: float = Field(0.05, ge=0.0, le=1.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_output_tokens: int = Field(512, ge=1, le=32768)
    timeout_s: float = Field(60.0, gt=0)

    @model_validator(mode="after")
    def _backend_needs(self) -> "LLMSettings":
        if self.backend == "openai" and not self.url:
            raise ValueError("llm.backend 'openai' needs llm.url (the endpoint's base URL)")
        if self.backend not in ("embedded", "openai") and ":" not in self.backend:
            raise ValueError(
                f"llm.backend must be 'embedded', 'openai' or 'package.module:Class', "
                f"not {self.backend!r}"
            )
        return self


class SessionSettings(_Section):
    model: str = "ovos-realtime"  # the model name sessions report
    # Voice length, and three worked examples: a small model copies their shape (a direct,
    # one-sentence answer) far better than it follows a description of it.
    instructions: str = (
        "You are a voice assistant. Answer in English with one short, direct sentence. "
        "No lists, no markdown. Examples:\n"
        "User: What is the capital of Spain?\nAssistant: The capital of Spain is Madrid.\n"
        "User: What is 3 plus 4?\nAssistant: 3 plus 4 is 7.\n"
        "User: Say hi to Sam.\nAssistant: Hi Sam!"
    )
    voice: str = "default"


def _engine_block(module: str) -> Any:
    return Field(default_factory=lambda: {"module": module})


class VoiceSettings(_Section):
    """Speech engines, loaded through ovos-plugin-manager from mycroft.conf-style blocks:
    `{"module": NAME, NAME: {plugin config}, "fallback_module": OTHER}`."""

    enabled: bool = True
    stt: dict[str, Any] = _engine_block("ovos-stt-plugin-whisper-streaming")
    tts: dict[str, Any] = _engine_block("ovos-tts-plugin-phoonnx-stream")
    vad: dict[str, Any] = _engine_block("ovos-vad-plugin-dual")
    # Worker threads for speech synthesis (STT and the LLM have their own budgets).
    tts_workers: int = Field(1, ge=1, le=8)
    # Longest user turn kept in memory; past it, appends are refused until a commit or clear.
    max_turn_s: float = Field(600.0, gt=0, le=3600)
    # semantic_vad hears the end of a turn in the audio (Smart Turn v3) and reads it in the
    # pause's words with a small chat LLM (voice/text_turn.py); the turn ends soon only when
    # both say it is over. On the corpus: 1 of 39 inserted hesitations cut inside the pause,
    # where the word list alone cut 18, and complete turns end sooner (268 vs 428 ms median);
    # the price is ~0.2 s more from the end of speech to the first audio (their CPU time, on
    # cores the pause's decode and the answer use). Both off: the word list decides (README,
    # "Turn detection"). server_vad never uses them.
    turn_model: bool = True
    turn_text_model: bool = True
    # ...with this model: a packaged name (as llm.model) or a GGUF file; the thresholds were
    # measured with the default. SmolLM2-135M reads a pause in ~50 ms instead of ~160 but
    # separated ends from mid-phrase pauses less well on the corpus' live transcripts.
    turn_text_llm: str = "qwen2.5-coder-0.5b-instruct"

    @model_validator(mode="after")
    def _modules_named(self) -> "VoiceSettings":
        for kind in ("stt", "tts", "vad"):
            block = getattr(self, kind)
            if not isinstance(block.get("module"), str) or not block["module"]:
                raise ValueError(f"voice.{kind}.module must name an OVOS plugin")
        return self


class HiveMindSettings(_Section):
    """An OVOS device reached through a HiveMind hub (hivemind-bus-client) instead of the raw
    messagebus: credentials from `hivemind-core add-client` on the hub."""

    host: str = "127.0.0.1"
    port: int = Field(5678, ge=1, le=65535)
    access_key: SecretStr
    password: SecretStr
    site_id: str = "unknown"  # this bridge's site, as the hub reports it to OVOS
    ssl: bool = False  # wss:// (the hub's `ssl: true`)
    self_signed: bool = True  # accept the hub's self-signed certificate

    @field_serializer("access_key", "password")
    def _masked(self, value: SecretStr) -> str:  # `ovos-realtime config` prints settings
        return "***"


class OvosSettings(_Section):
    """The OVOS messagebus: each Realtime session becomes an OVOS Session on it. No bus_url, no
    bus: the server runs standalone."""

    bus_url: str | None = None  # e.g. ws://127.0.0.1:8181/core
    lang: str = "en-US"  # a session's language, unless the client sends ?lang=
    site_id: str = "unknown"  # a session's site, unless the client sends ?site_id=
    utterance_timeout_s: float = Field(20.0, gt=0)  # for skills to finish answering
    tool_timeout_s: float = Field(8.0, gt=0)  # for a skill API method to answer
    discovery_timeout_s: float = Field(2.0, gt=0)  # for skills to answer `<skill>.public_api`
    skills: list[str] | None = None  # skill ids whose APIs are tools; None: ask ovos-core
    reconnect_max_s: float = Field(5.0, gt=0)  # longest wait between reconnection attempts
    hivemind: HiveMindSettings | None = None  # reach OVOS through a HiveMind hub instead

    @model_validator(mode="after")
    def _websocket_url(self) -> "OvosSettings":
        if self.bus_url and not self.bus_url.startswith(("ws://", "wss://")):
            raise ValueError(f"ovos.bus_url must be a ws:// or wss:// URL, not {self.bus_url!r}")
        if self.bus_url and self.hivemind:
            raise ValueError("set ovos.bus_url or ovos.hivemind, not both")
        return self


class PersonasSettings(_Section):
    folder: str = "~/.config/ovos-realtime/personas"  # the user's persona files (*.json)
    default: str = "default"  # the persona of sessions whose model names none


class WyomingSettings(_Section):
    """The Wyoming door (Home Assistant's protocol): speech-to-text, text-to-speech and the
    persona agent as a conversation agent, beside the HTTP server (`serve`) when enabled, or
    alone (`ovos-realtime wyoming`)."""

    enabled: bool = False  # run it beside the HTTP server in `serve`
    uri: str = "tcp://127.0.0.1:10300"  # tcp://HOST:PORT or unix://PATH
    # Advertise it to Home Assistant over mDNS: true (the default name) or a service name.
    zeroconf: bool | str = False
    max_conversations: int = Field(64, ge=1)  # conversation agent histories kept, oldest dropped

    @model_validator(mode="after")
    def _uri(self) -> "WyomingSettings":
        from urllib.parse import urlparse

        parsed = urlparse(self.uri)
        if parsed.scheme == "tcp":
            try:
                port = parsed.port
            except ValueError:
                port = None
            if not parsed.hostname or port is None:
                raise ValueError(f"wyoming.uri must be tcp://HOST:PORT, not {self.uri!r}")
        elif parsed.scheme != "unix" or not parsed.path:
            raise ValueError(
                f"wyoming.uri must be tcp://HOST:PORT or unix://PATH, not {self.uri!r}"
            )
        return self


class WebRTCSettings(_Section):
    """The WebRTC door (`POST /v1/realtime/calls`)."""

    # The ICE host candidates the server offers; None: aioice's own (every interface but
    # loopback). ["127.0.0.1"] for calls on this machine.
    host_addresses: list[str] | None = None
    # STUN/TURN servers for other networks, e.g. [{"urls": "stun:stun.l.google.com:19302"}]
    # or [{"urls": "turn:turn.example.org:3478", "username": "u", "credential": "p"}].
    ice_servers: list[dict[str, Any]] = Field(default_factory=list)
    max_calls: int = Field(16, ge=1)
    connect_timeout_s: float = Field(20.0, gt=0)  # offer answered → media flowing

    @field_validator("host_addresses", mode="before")
    @classmethod
    def _addresses_from_text(cls, value: Any) -> Any:
        return _list_from_text(value)


class Settings(_Section):
    server: ServerSettings = ServerSettings()
    llm: LLMSettings = LLMSettings()
    session: SessionSettings = SessionSettings()
    voice: VoiceSettings = VoiceSettings()
    ovos: OvosSettings = OvosSettings()
    personas: PersonasSettings = PersonasSettings()
    wyoming: WyomingSettings = WyomingSettings()
    webrtc: WebRTCSettings = WebRTCSettings()
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def _set_path(target: dict, path: list[str], value: Any) -> None:
    for key in path[:-1]:
        node = target.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(path)}: '{key}' is not a section")
        target = node
    target[path[-1]] = value


def _merge(base: dict, update: Mapping) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_file(path: str | Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping of sections")
    return data


def read_env(environ: Mapping[str, str]) -> dict:
    data: dict = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part]
        if not path:
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        if isinstance(value, dict | list):
            value = raw  # only scalars come from the environment
        _set_path(data, path, value)
    return data


def _describe(error: dict, sources: dict[str, str]) -> str:
    key = ".".join(str(part) for part in error["loc"])
    origin = sources.get(key, "")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{key}: {message}{f' (from {origin})' if origin else ''}"


def _origins(data: dict, origin: str, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_origins(value, origin, f"{path}."))
        out[path] = origin
    return out


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: dict | None = None,
) -> Settings:
    """Build the effective settings, or raise ConfigError naming the offending key."""
    environ = os.environ if environ is None else environ
    layers = []
    if config_file:
        layers.append((read_file(config_file), f"config file {config_file}"))
    layers.append((read_env(environ), "environment"))
    layers.append((overrides or {}, "command line"))
    data: dict = {}
    sources: dict[str, str] = {}
    for layer, origin in layers:
        data = _merge(data, layer)
        sources.update(_origins(layer, origin))
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            "invalid configuration:\n  "
            + "\n  ".join(_describe(err, sources) for err in exc.errors(include_url=False))
        ) from None
