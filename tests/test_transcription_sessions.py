"""Transcription sessions: GA `session.type: "transcription"` (here opened with a client secret
minted for one) and beta `transcription_session.update`. Real speech from the corpus goes in at
real-time pace through the real VAD and STT; out come input_audio_buffer.* and transcription
events (validated by the SDK types), and never a response."""

import asyncio

import numpy as np
import pytest
from openai import AsyncOpenAI
from ovos_stt_plugin_whisper_streaming.evaluation import word_error_rate

from tests.realtime_helpers import EventReader, mint_secret, types
from tests.voice_helpers import load_clip, manifest, silence, stream_audio

pytestmark = pytest.mark.slow

CLIP = next(m for m in manifest() if m["file"] == "cmuarctic_aew_arctic_a0003.wav")
TURN = {"type": "server_vad", "silence_duration_ms": 500}


def spoken_clip() -> np.ndarray:
    return np.concatenate([silence(0.3), load_clip(CLIP["file"]), silence(1.2)])


async def transcribe_turn(conn, reader: EventReader) -> list[dict]:
    feeding = asyncio.create_task(stream_audio(conn, spoken_clip()))
    events = await reader.until("conversation.item.input_audio_transcription.completed", 90)
    await feeding
    events += await reader.drain(quiet=1.5)  # nothing answers
    return events


def check_turn(events: list[dict]) -> str:
    kinds = types(events)
    order = [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.input_audio_transcription.completed",
    ]
    assert [kinds.index(k) for k in order] == sorted(kinds.index(k) for k in order), kinds
    assert not [k for k in kinds if k.startswith("response.")], kinds
    completed = events[kinds.index("conversation.item.input_audio_transcription.completed")]
    assert word_error_rate([CLIP["text"]], [completed["transcript"]]) <= 0.35, completed
    return completed["transcript"]


async def test_ga_transcription_session_from_a_client_secret(voice_server):
    audio = {"input": {"transcription": {"language": "en"}, "turn_detection": TURN}}
    minted = mint_secret(
        voice_server, {"session": {"type": "transcription", "audio": audio}}
    ).json()
    assert minted["session"]["type"] == "transcription", minted
    client = AsyncOpenAI(api_key=minted["value"], websocket_base_url=voice_server.ws_base)
    async with client.realtime.connect(model="ovos-realtime") as conn:
        reader = EventReader(conn)
        created = await reader.next()
        assert created["type"] == "session.created"
        assert created["session"]["type"] == "transcription"
        assert created["session"]["audio"]["input"]["transcription"]["language"] == "en"
        assert created["session"]["audio"]["input"]["turn_detection"]["type"] == "server_vad"
        check_turn(await transcribe_turn(conn, reader))
        # A transcription session does not answer, even when asked.
        await conn.response.create()
        error = await reader.until("error")
        assert error[-1]["error"]["code"] == "invalid_session_type"


async def test_beta_transcription_session_update(realtime, voice_server):
    rt = await realtime(voice_server, beta=True)
    await rt.conn.send(
        {
            "type": "transcription_session.update",
            "session": {
                "input_audio_format": "pcm16",
                "input_audio_transcription": {"model": "whisper-1", "language": "en"},
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
            },
        }
    )
    updated = (await rt.reader.until("transcription_session.updated"))[-1]
    assert updated["session"]["input_audio_transcription"]["language"] == "en"
    check_turn(await transcribe_turn(rt.conn, rt.reader))
