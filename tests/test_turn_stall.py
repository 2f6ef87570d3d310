"""A client that stops sending mid-turn (a file streamed with no quiet after it, a microphone
gated by the client's own VAD, a network stall): through a live server with the real voice loop
(dual VAD, streaming Whisper) and corpus speech, the turn ends on the stall fallback
(`voice/pipeline.STALL_S`), a shorter gap in sending does not split it, and a cleared or closed
turn ends no more."""

import asyncio

import numpy as np
import pytest
from ovos_realtime.voice.pipeline import STALL_S
from ovos_stt_plugin_whisper_streaming.evaluation import word_error_rate

from tests.realtime_helpers import Realtime, text_of, types
from tests.voice_helpers import load_clip, manifest, silence, stream_audio

pytestmark = pytest.mark.slow

CLIP = next(m for m in manifest() if m["file"] == "cmuarctic_aew_arctic_a0003.wav")
RATE = 24000
# Handling a chunk, the event loop's turn, the server→client hop on a loaded 2-core machine.
SLACK_S = 1.5
DECODE_S = 8.0


def to_last_word(clip: np.ndarray) -> np.ndarray:
    """The clip cut after its last loud 10 ms: no quiet after the last word."""
    frames = clip[: clip.size // 240 * 240].reshape(-1, 240).astype(np.float64)
    rms = np.sqrt((frames**2).mean(axis=1))
    last = int(np.nonzero(rms > 0.05 * rms.max())[0][-1])
    return clip[: (last + 1) * 240]


async def configure(rt: Realtime, turn_detection: dict) -> None:
    await rt.conn.session.update(
        session={
            "type": "realtime",
            "output_modalities": ["text"],
            "audio": {"input": {"turn_detection": turn_detection}},
        }
    )
    await rt.reader.until("session.updated")


@pytest.mark.parametrize(
    ("turn_detection", "window_ms"),
    [
        ({"type": "server_vad"}, 500),
        # The transcript rule: the pause's decode decides (high: 200 ms after a full stop, 600
        # otherwise, 2 s after a trailing word).
        ({"type": "semantic_vad", "eagerness": "high"}, 2000),
    ],
    ids=["server_vad", "semantic_vad"],
)
async def test_a_turn_ends_when_the_client_stops_at_its_last_word(
    realtime, voice_server, turn_detection, window_ms
):
    rt = await realtime(voice_server)
    await configure(rt, turn_detection)
    audio = np.concatenate([silence(0.3), to_last_word(load_clip(CLIP["file"]))])
    loop = asyncio.get_running_loop()
    await stream_audio(rt.conn, audio, pace=2.0)  # then nothing at all
    sent = loop.time()
    events = await rt.reader.until("input_audio_buffer.speech_stopped", timeout=30)
    stopped_after = loop.time() - sent
    events += await rt.reader.until("conversation.item.input_audio_transcription.completed")
    transcribed_after = loop.time() - sent
    events += await rt.reader.until("response.done", timeout=30)
    kinds = types(events)
    assert kinds.count("input_audio_buffer.speech_started") == 1, kinds
    # Not before the stall (stream_audio returns one paced chunk, 20 ms, after its last append),
    # and not long after it: the window ran out inside the assumed quiet, or on the pause's
    # decode.
    assert STALL_S - 0.03 <= stopped_after <= max(STALL_S, window_ms / 1000) + SLACK_S, (
        stopped_after
    )
    end_ms = audio.size * 1000 // RATE
    stopped = events[kinds.index("input_audio_buffer.speech_stopped")]
    # Where the window would have run out in the quiet after the audio: past its end.
    assert end_ms < stopped["audio_end_ms"] <= end_ms + window_ms, (stopped, end_ms)
    # The final transcript follows as after any turn: one decode of a 3.5 s turn (a few seconds
    # at most on a loaded 2-core machine), not whenever the next chunk would have come.
    assert transcribed_after <= stopped_after + DECODE_S, (stopped_after, transcribed_after)
    transcript = events[kinds.index("conversation.item.input_audio_transcription.completed")][
        "transcript"
    ]
    assert word_error_rate([CLIP["text"]], [transcript]) <= 0.35, transcript
    assert text_of(events) == f"Hello! You said: {transcript}"
    assert events[-1]["response"]["status"] == "completed"
    session_id = rt.created["session"]["id"]
    assert f"[{session_id}] turn ended on quiet assumed after the last chunk" in voice_server.log()
    print(f"speech_stopped {stopped_after:.2f} s, transcript {transcribed_after:.2f} s after")


async def test_a_gap_in_sending_shorter_than_the_stall_keeps_one_turn(realtime, voice_server):
    rt = await realtime(voice_server)
    await configure(rt, {"type": "server_vad"})
    clip = load_clip(CLIP["file"])
    cut = int(1.5 * RATE)  # inside "twentieth": speech on both sides of the gap
    await stream_audio(rt.conn, np.concatenate([silence(0.3), clip[:cut]]), pace=2.0)
    await asyncio.sleep(STALL_S * 0.7)  # nothing sent: longer than the 500 ms window
    await stream_audio(rt.conn, np.concatenate([clip[cut:], silence(1.0)]), pace=2.0)
    events = await rt.reader.until("response.done", timeout=60)
    events += await rt.reader.drain(quiet=0.5)
    kinds = types(events)
    assert kinds.count("input_audio_buffer.speech_started") == 1, kinds
    assert kinds.count("input_audio_buffer.speech_stopped") == 1, kinds
    transcript = events[kinds.index("conversation.item.input_audio_transcription.completed")][
        "transcript"
    ]
    assert word_error_rate([CLIP["text"]], [transcript]) <= 0.35, transcript


async def test_clear_or_close_while_the_stall_is_timed_ends_nothing(realtime, voice_server):
    audio = np.concatenate([silence(0.3), to_last_word(load_clip(CLIP["file"]))])
    cleared = await realtime(voice_server)
    await configure(cleared, {"type": "server_vad"})
    await stream_audio(cleared.conn, audio, pace=0)
    await cleared.conn.input_audio_buffer.clear()
    closed = await realtime(voice_server)
    await configure(closed, {"type": "server_vad"})
    await stream_audio(closed.conn, audio, pace=0)
    await closed.reader.until("input_audio_buffer.speech_started", timeout=30)
    await closed.conn.close()
    events = await cleared.reader.until("input_audio_buffer.cleared", timeout=30)
    events += await cleared.reader.drain(quiet=STALL_S + 1.0)
    kinds = types(events)
    assert "input_audio_buffer.speech_started" in kinds  # the turn had started
    after = kinds[kinds.index("input_audio_buffer.cleared") + 1 :]
    assert "input_audio_buffer.speech_stopped" not in after, kinds
    assert "input_audio_buffer.committed" not in kinds, kinds
    log = voice_server.log()
    for rt in (cleared, closed):
        assert f"[{rt.created['session']['id']}] turn ended on quiet" not in log
    assert "ending the turn failed" not in log
    # The cleared session goes on: a turn with quiet after it is heard and answered.
    await stream_audio(cleared.conn, np.concatenate([audio, silence(1.0)]), pace=0)
    events = await cleared.reader.until("response.done", timeout=60)
    assert events[-1]["response"]["status"] == "completed"
