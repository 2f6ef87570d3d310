"""input_audio_buffer.* and output_audio_buffer.clear

Audio needs the voice loop's engines (VAD, STT, TTS); without them these events are refused with
a clear error instead of being silently dropped.
"""

from typing import Any

from ovos_realtime.protocol.errors import ProtocolError
from ovos_realtime.session.engine import RealtimeSession
from ovos_realtime.session.router import EventRouter

router = EventRouter()


async def _no_audio(session: RealtimeSession, event: dict[str, Any]) -> None:
    raise ProtocolError(
        f"'{event['type']}' needs audio engines, and this server runs without them "
        "(text only). Configure the stt/vad/tts engines to enable audio.",
        code="audio_unavailable",
        param="type",
    )


for _event in (
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "output_audio_buffer.clear",
):
    router.on(_event)(_no_audio)
