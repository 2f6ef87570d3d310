"""input_audio_buffer.append / commit / clear, and output_audio_buffer.clear"""

from typing import Any

from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.session.realtime_session import RealtimeSession
from ovos_realtime.session.router import EventRouter
from ovos_realtime.session.turn_controller import TurnController

router = EventRouter()


def _input(session: RealtimeSession, event: dict[str, Any]) -> TurnController:
    if session.turns is None:
        raise ProtocolError(
            f"'{event['type']}' needs audio engines, and this server runs without them "
            "(text only). Enable voice in the configuration to use audio.",
            code="audio_unavailable",
            param="type",
        )
    return session.turns


@router.on("input_audio_buffer.append")
async def append(session: RealtimeSession, event: dict[str, Any]) -> None:
    await _input(session, event).append(event["audio"])


@router.on("input_audio_buffer.commit")
async def commit(session: RealtimeSession, event: dict[str, Any]) -> None:
    await _input(session, event).commit()


@router.on("input_audio_buffer.clear")
async def clear(session: RealtimeSession, event: dict[str, Any]) -> None:
    _input(session, event).clear()


@router.on("output_audio_buffer.clear")
async def output_clear(session: RealtimeSession, event: dict[str, Any]) -> None:
    # Over WebSocket the client holds the output buffer; OpenAI accepts this only for WebRTC/SIP.
    raise ProtocolError(
        "output_audio_buffer.clear is only for WebRTC/SIP; over WebSocket, stop playback on the "
        "client and send conversation.item.truncate.",
        code="unsupported_event",
        param="type",
    )
