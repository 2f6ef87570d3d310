"""GA ⇄ beta translation.

The session engine speaks one vocabulary: GA event names and GA shapes (nested `audio.input` /
`audio.output`, `output_modalities`, `output_text`/`output_audio` content). This module turns that
into the beta dialect for clients that asked for it, and beta client events back into GA shapes.
"""

import copy
from enum import Enum
from typing import Any


class Dialect(str, Enum):
    GA = "ga"
    BETA = "beta"


# GA server event name -> beta name. `None` means the event does not exist in beta.
_BETA_EVENT_NAMES: dict[str, str | None] = {
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
    "conversation.item.added": "conversation.item.created",
    "conversation.item.done": None,
}

_GA_TO_BETA_FORMAT = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}
_BETA_TO_GA_FORMAT = {beta: ga for ga, beta in _GA_TO_BETA_FORMAT.items()}
_GA_TO_BETA_CONTENT = {"output_text": "text", "output_audio": "audio"}
_BETA_TO_GA_CONTENT = {"text": "output_text", "audio": "output_audio"}


def format_to_beta(fmt: dict[str, Any] | None) -> str | None:
    return None if fmt is None else _GA_TO_BETA_FORMAT.get(fmt.get("type", ""), "pcm16")


def format_from_beta(name: str) -> dict[str, Any]:
    fmt: dict[str, Any] = {"type": _BETA_TO_GA_FORMAT[name]}
    if name == "pcm16":
        fmt["rate"] = 24000
    return fmt


def tool_choice_from_beta(choice: Any) -> Any:
    """Beta takes a plain string; anything but the three keywords names a function."""
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return {"type": "function", "name": choice}
    return choice


def tool_choice_to_beta(choice: Any) -> Any:
    return choice.get("name") if isinstance(choice, dict) else choice


def modalities_to_beta(output_modalities: list[str] | None) -> list[str]:
    # Beta's "audio" modality always carries its transcript text too.
    return ["text", "audio"] if output_modalities and "audio" in output_modalities else ["text"]


def modalities_from_beta(modalities: list[str]) -> list[str]:
    return ["audio"] if "audio" in modalities else ["text"]


# ---- items --------------------------------------------------------------------------------


def _map_content_types(item: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    if item.get("type") != "message" or item.get("role") != "assistant":
        return item
    out = dict(item)
    out["content"] = [
        {**part, "type": mapping.get(part.get("type", ""), part.get("type"))}
        for part in item.get("content") or []
    ]
    return out


def item_to_beta(item: dict[str, Any]) -> dict[str, Any]:
    return _map_content_types(item, _GA_TO_BETA_CONTENT)


def item_from_beta(item: dict[str, Any]) -> dict[str, Any]:
    return _map_content_types(item, _BETA_TO_GA_CONTENT)


# ---- sessions -----------------------------------------------------------------------------


def session_to_beta(session: dict[str, Any]) -> dict[str, Any]:
    audio = session.get("audio") or {}
    audio_in = audio.get("input") or {}
    audio_out = audio.get("output") or {}
    beta = {
        "id": session.get("id"),
        "object": "realtime.session",
        "modalities": modalities_to_beta(session.get("output_modalities")),
        "instructions": session.get("instructions"),
        "voice": audio_out.get("voice"),
        "speed": audio_out.get("speed"),
        "input_audio_format": format_to_beta(audio_in.get("format")),
        "output_audio_format": format_to_beta(audio_out.get("format")),
        "input_audio_transcription": audio_in.get("transcription"),
        "input_audio_noise_reduction": audio_in.get("noise_reduction"),
        "turn_detection": audio_in.get("turn_detection"),
        "tools": session.get("tools") or [],
        "tool_choice": tool_choice_to_beta(session.get("tool_choice")),
        "temperature": session.get("temperature"),
        "max_response_output_tokens": session.get("max_output_tokens"),
        "tracing": session.get("tracing"),
    }
    # Beta's `model` is a closed list of OpenAI model names: ours is not one of them, so leave it out.
    return beta


def _shared_from_beta(beta: dict[str, Any], copied: tuple[str, ...]) -> dict[str, Any]:
    """What beta sessions and beta responses spell alike: copied keys, tool choice, token limit,
    modalities, and the output voice and format."""
    ga = {key: beta[key] for key in copied if key in beta}
    if "tool_choice" in beta:
        ga["tool_choice"] = tool_choice_from_beta(beta["tool_choice"])
    if "max_response_output_tokens" in beta:
        ga["max_output_tokens"] = beta["max_response_output_tokens"]
    if beta.get("modalities") is not None:
        ga["output_modalities"] = modalities_from_beta(beta["modalities"])
    audio_out: dict[str, Any] = {}
    if beta.get("output_audio_format") is not None:
        audio_out["format"] = format_from_beta(beta["output_audio_format"])
    for key in ("voice", "speed"):
        if beta.get(key) is not None:
            audio_out[key] = beta[key]
    if audio_out:
        ga["audio"] = {"output": audio_out}
    return ga


def session_update_from_beta(beta: dict[str, Any]) -> dict[str, Any]:
    """A partial beta session (as sent in session.update) as a partial GA session."""
    ga = _shared_from_beta(beta, ("instructions", "tools", "tracing", "temperature"))
    audio_in: dict[str, Any] = {}
    if beta.get("input_audio_format") is not None:
        audio_in["format"] = format_from_beta(beta["input_audio_format"])
    for beta_key, ga_key in (
        ("input_audio_transcription", "transcription"),
        ("input_audio_noise_reduction", "noise_reduction"),
        ("turn_detection", "turn_detection"),
    ):
        if beta_key in beta:
            audio_in[ga_key] = beta[beta_key]
    if audio_in:
        ga.setdefault("audio", {})["input"] = audio_in
    return ga


def transcription_update_from_beta(beta: dict[str, Any]) -> dict[str, Any]:
    """A beta `transcription_session.update` session as a GA transcription session update."""
    ga = session_update_from_beta(beta)
    out: dict[str, Any] = {"type": "transcription"}
    if "audio" in ga and "input" in ga["audio"]:
        out["audio"] = {"input": ga["audio"]["input"]}
    if beta.get("include") is not None:
        out["include"] = beta["include"]
    return out


def transcription_session_to_beta(session: dict[str, Any]) -> dict[str, Any]:
    """A GA transcription session as beta's TranscriptionSession. Beta puts the session's
    client secret in it; a session opened with a key has none, so it is empty."""
    audio_in = (session.get("audio") or {}).get("input") or {}
    return {
        "client_secret": {"value": "", "expires_at": 0},
        "modalities": ["text"],
        "input_audio_format": format_to_beta(audio_in.get("format")),
        "input_audio_transcription": _beta_transcription(audio_in.get("transcription")),
        "turn_detection": audio_in.get("turn_detection"),
    }


# Beta's TranscriptionSession names a closed list of models; ours (an STT plugin) is none.
_BETA_TRANSCRIBE_MODELS = ("gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper-1")


def _beta_transcription(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if config is None:
        return None
    return {
        k: v
        for k, v in config.items()
        if k in ("language", "prompt") or (k == "model" and v in _BETA_TRANSCRIBE_MODELS)
    }


# ---- responses ----------------------------------------------------------------------------


def response_to_beta(response: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in response.items() if k not in ("output_modalities", "audio")}
    out["modalities"] = modalities_to_beta(response.get("output_modalities"))
    audio_out = (response.get("audio") or {}).get("output") or {}
    if audio_out.get("voice") is not None:
        out["voice"] = audio_out["voice"]
    if audio_out.get("format") is not None:
        out["output_audio_format"] = format_to_beta(audio_out["format"])
    out["output"] = [item_to_beta(i) for i in response.get("output") or [] if not _is_mcp(i)]
    return out


def response_params_from_beta(beta: dict[str, Any]) -> dict[str, Any]:
    """The `response` of a beta response.create, as GA response parameters."""
    copied = (
        "instructions",
        "tools",
        "conversation",
        "metadata",
        "temperature",
        "max_output_tokens",
    )
    ga = _shared_from_beta(beta, copied)
    if beta.get("input") is not None:
        ga["input"] = [item_from_beta(item) for item in beta["input"]]
    return ga


# ---- whole events -------------------------------------------------------------------------


def _is_mcp(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type", "").startswith("mcp_")


def server_event_to_beta(event: dict[str, Any]) -> dict[str, Any] | None:
    """A GA server event in beta form, or None when beta has no such event.

    Beta has no server-side (mcp) tool items: those stay invisible to beta clients."""
    kind = event["type"]
    if kind.startswith("response.mcp_call") or _is_mcp(event.get("item")):
        return None
    if kind in _BETA_EVENT_NAMES:
        renamed = _BETA_EVENT_NAMES[kind]
        if renamed is None:
            return None
        event = {**event, "type": renamed}
    if kind == "session.updated" and event["session"].get("type") == "transcription":
        return {
            **event,
            "type": "transcription_session.updated",
            "session": transcription_session_to_beta(event["session"]),
        }
    if "session" in event:
        event = {**event, "session": session_to_beta(event["session"])}
    if "response" in event:
        event = {**event, "response": response_to_beta(event["response"])}
    if "item" in event:
        event = {**event, "item": item_to_beta(event["item"])}
    return event


def client_event_from_beta(event: dict[str, Any]) -> dict[str, Any]:
    """A beta client event in GA form (names are shared; shapes differ)."""
    kind = event["type"]
    event = copy.copy(event)
    if kind == "session.update":
        event["session"] = {"type": "realtime", **session_update_from_beta(event["session"])}
    elif kind == "transcription_session.update":
        event = {
            "type": "session.update",
            "event_id": event.get("event_id"),
            "session": transcription_update_from_beta(event["session"]),
        }
    elif kind == "response.create" and event.get("response") is not None:
        event["response"] = response_params_from_beta(event["response"])
    elif kind == "conversation.item.create":
        event["item"] = item_from_beta(event["item"])
    return event
