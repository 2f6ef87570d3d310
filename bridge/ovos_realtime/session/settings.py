"""Session configuration: defaults, partial merges, and per-response resolution."""

import copy
from dataclasses import dataclass
from typing import Any

from ovos_realtime.config import Settings
from ovos_realtime.core.assistant import AssistantSession
from ovos_realtime.core.personas import Persona
from ovos_realtime.protocol.errors import ProtocolError


@dataclass(frozen=True)
class SessionDefaults:
    model: str
    instructions: str
    voice: str = "default"
    speed: float = 1.0
    temperature: float = 0.7
    max_output_tokens: int | str = "inf"

    @classmethod
    def for_conversation(
        cls, conversation: AssistantSession, settings: Settings, model: str | None
    ) -> "SessionDefaults":
        """A session's starting config: the persona's choices, else the settings."""
        return cls.for_persona(conversation.persona, conversation.instructions, settings, model)

    @classmethod
    def for_persona(
        cls, persona: Persona, instructions: str, settings: Settings, model: str | None
    ) -> "SessionDefaults":
        """The same before any conversation exists (e.g. a client secret's session)."""
        llm = persona.llm
        return cls(
            model=model or settings.session.model,
            instructions=instructions,
            voice=persona.voice or settings.session.voice,
            speed=persona.speed or 1.0,
            temperature=llm.get("temperature", settings.llm.temperature),
            max_output_tokens=llm.get("max_output_tokens", settings.llm.max_output_tokens),
        )


def default_session(session_id: str, defaults: SessionDefaults, voice: bool) -> dict:
    """The full effective GA session, as `session.created` reports it. Without speech engines
    (`voice` false) it promises no audio: text out, no turn detection."""
    pcm24k = {"type": "audio/pcm", "rate": 24000}
    turn_detection = (
        {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 500,
            "create_response": True,
            "interrupt_response": True,
            "idle_timeout_ms": None,
        }
        if voice
        else None
    )
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": defaults.model,
        "output_modalities": ["audio"] if voice else ["text"],
        "instructions": defaults.instructions,
        "audio": {
            "input": {
                "format": pcm24k,
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": turn_detection,
            },
            "output": {"format": dict(pcm24k), "voice": defaults.voice, "speed": defaults.speed},
        },
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": defaults.max_output_tokens,
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "include": None,
        "temperature": defaults.temperature,
    }


def deep_merge(base: dict, update: dict) -> dict:
    """`update` merged into a copy of `base`: objects merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def check_tools(
    tools: list[dict], tool_choice: Any, param: str, server_tool_names: frozenset[str] = frozenset()
) -> None:
    names = [tool.get("name") for tool in tools if tool.get("type", "function") == "function"]
    if len(set(names)) != len(names):
        raise ProtocolError("Tool names must be unique.", param=f"{param}.tools")
    for tool in tools:
        if tool.get("type", "function") != "function":
            raise ProtocolError(
                f"Tool type '{tool.get('type')}' is not supported by this server; "
                "only 'function' tools are.",
                param=f"{param}.tools",
            )
    if isinstance(tool_choice, dict):
        name = tool_choice.get("name")
        if tool_choice.get("type") != "function" or name not in {*names, *server_tool_names}:
            raise ProtocolError(
                f"tool_choice names function '{name}', which is not among the tools.",
                param=f"{param}.tool_choice",
            )


def merge_session_update(session: dict, update: dict) -> dict:
    """The session after a partial `session.update`, or ProtocolError naming the bad param."""
    update = {k: v for k, v in update.items() if k not in ("type", "id", "object")}
    merged = deep_merge(session, update)
    modalities = merged.get("output_modalities") or ["text"]
    if len(modalities) != 1:
        raise ProtocolError(
            "output_modalities takes one of ['text'] or ['audio'].",
            param="session.output_modalities",
        )
    check_tools(merged.get("tools") or [], merged.get("tool_choice"), "session")
    return merged


TRANSCRIPTION = "transcription"
# A transcription session hears and transcribes; it never answers nor stops an answer.
_NO_ANSWER = {"create_response": False, "interrupt_response": False}


def update_session(session: dict, update: dict, stt_model: str | None = None) -> dict:
    """The session after a `session.update` of either type. `type: "transcription"` turns it
    into a transcription session (and `"realtime"` back); the full realtime config is kept
    inside either way, and `public_session` shows what the type shows."""
    kind = update.get("type") or session.get("type") or "realtime"
    merged = merge_session_update(session, update)
    audio_in = merged["audio"]["input"]
    turn_detection = audio_in.get("turn_detection")
    if kind == TRANSCRIPTION:
        if audio_in.get("transcription") is None and stt_model is not None:
            audio_in["transcription"] = {"model": stt_model}
        if turn_detection:
            turn_detection.update(_NO_ANSWER)
    elif session.get("type") == TRANSCRIPTION and turn_detection:
        asked = ((update.get("audio") or {}).get("input") or {}).get("turn_detection") or {}
        for key in _NO_ANSWER:
            turn_detection[key] = asked.get(key, True)
    merged["type"] = kind
    return merged


def public_session(session: dict) -> dict:
    """The session as `session.created` / `.updated` report it for its type."""
    if session.get("type") != TRANSCRIPTION:
        return dict(session)
    audio_in = session["audio"]["input"]
    turn_detection = audio_in.get("turn_detection")
    if turn_detection:
        turn_detection = {k: v for k, v in turn_detection.items() if k not in _NO_ANSWER}
    return {
        "type": TRANSCRIPTION,
        "object": "realtime.transcription_session",
        "id": session["id"],
        "audio": {
            "input": {
                "format": audio_in.get("format"),
                "transcription": audio_in.get("transcription"),
                "noise_reduction": audio_in.get("noise_reduction"),
                "turn_detection": turn_detection,
            }
        },
        "include": session.get("include"),
    }


@dataclass
class ResponseSettings:
    """Everything one response needs, after per-response overrides are applied."""

    instructions: str
    tools: list[dict]
    tool_choice: Any
    output_modalities: list[str]
    max_output_tokens: int | None
    temperature: float
    voice: str
    speed: float
    output_format: dict
    metadata: dict | None
    in_conversation: bool
    input_items: list[dict] | None


def resolve_response(
    session: dict, params: dict | None, server_tool_names: frozenset[str] = frozenset()
) -> ResponseSettings:
    """Per-response overrides (from `response.create`) on top of the session config."""
    params = params or {}
    tools = params["tools"] if params.get("tools") is not None else session.get("tools") or []
    tool_choice = params.get("tool_choice") or session.get("tool_choice") or "auto"
    check_tools(tools, tool_choice, "response", server_tool_names)
    conversation = params.get("conversation") or "auto"
    if conversation not in ("auto", "none"):
        raise ProtocolError("conversation must be 'auto' or 'none'.", param="response.conversation")
    modalities = params.get("output_modalities") or session.get("output_modalities") or ["text"]
    if len(modalities) != 1:
        raise ProtocolError(
            "output_modalities takes one of ['text'] or ['audio'].",
            param="response.output_modalities",
        )
    limit = params.get("max_output_tokens", session.get("max_output_tokens"))
    audio_out = deep_merge(
        session["audio"]["output"], (params.get("audio") or {}).get("output") or {}
    )
    metadata = params.get("metadata")
    if metadata is not None and (
        len(metadata) > 16 or any(len(k) > 64 or len(str(v)) > 512 for k, v in metadata.items())
    ):
        raise ProtocolError(
            "metadata takes at most 16 pairs, keys up to 64 and values up to 512 characters.",
            param="response.metadata",
        )
    return ResponseSettings(
        instructions=params.get("instructions") or session.get("instructions") or "",
        tools=tools,
        tool_choice=tool_choice,
        output_modalities=list(modalities),
        max_output_tokens=None if limit in (None, "inf") else int(limit),
        # `is not None`, not `or`: a temperature of 0 (greedy) is a choice, not a gap.
        temperature=float(
            next(
                t
                for t in (params.get("temperature"), session.get("temperature"), 0.7)
                if t is not None
            )
        ),
        voice=audio_out.get("voice"),
        speed=float(audio_out.get("speed") or 1.0),
        output_format=audio_out.get("format"),
        metadata=metadata,
        in_conversation=conversation == "auto",
        input_items=params.get("input"),
    )
