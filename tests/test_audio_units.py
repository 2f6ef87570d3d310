"""Audio plumbing and turn detection, unit by unit (no server)."""

import warnings

import numpy as np
import pytest
from ovos_realtime.audio import g711
from ovos_realtime.audio.files import SPEECH_FORMATS, AudioDecodeError, decode_file, encode_file
from ovos_realtime.audio.formats import WireDecoder, WireFormat
from ovos_realtime.voice.turns import TurnDetector, semantic_silence_ms

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    audioop = pytest.importorskip("audioop")

ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)


def test_g711_encoders_match_the_reference_on_every_sample():
    assert g711.pcm_to_ulaw(ALL_SAMPLES) == audioop.lin2ulaw(ALL_SAMPLES.tobytes(), 2)
    assert g711.pcm_to_alaw(ALL_SAMPLES) == audioop.lin2alaw(ALL_SAMPLES.tobytes(), 2)


def test_g711_decoders_match_the_reference_on_every_code():
    codes = bytes(range(256))
    assert g711.ulaw_to_pcm(codes).tobytes() == audioop.ulaw2lin(codes, 2)
    assert g711.alaw_to_pcm(codes).tobytes() == audioop.alaw2lin(codes, 2)


@pytest.mark.parametrize(
    ("fmt", "encoding", "rate"),
    [
        ({"type": "audio/pcm", "rate": 24000}, "pcm16", 24000),
        ({"type": "audio/pcmu"}, "pcmu", 8000),
        ({"type": "audio/pcma"}, "pcma", 8000),
        (None, "pcm16", 24000),
    ],
)
def test_wire_formats(fmt, encoding, rate):
    wire = WireFormat.from_session(fmt)
    assert (wire.encoding, wire.rate) == (encoding, rate)
    tone = (np.sin(np.arange(800) / 5) * 8000).astype(np.int16)
    back = wire.decode(wire.encode(tone))
    assert np.abs(back.astype(int) - tone).max() < 8000 * 0.05  # G.711 is lossy, within 5%


def test_odd_pcm_bytes_do_not_break_decoding():
    assert WireFormat("pcm16", 24000).decode(b"\x01\x02\x03").size == 1


@pytest.mark.parametrize("fmt", [f for f in SPEECH_FORMATS if f != "pcm"])
def test_speech_file_formats_round_trip(fmt):
    tone = (np.sin(2 * np.pi * 440 * np.arange(24000) / 24000) * 8000).astype(np.int16)
    decoded = decode_file(encode_file(tone, 24000, fmt), rate=24000)
    assert decoded.size >= 24000 * 0.95  # nothing of the end is lost
    assert np.abs(decoded[4000:20000]).max() > 6000


@pytest.mark.parametrize("data", [b"", b"not audio at all" * 100, b"RIFF\x00\x00\x00\x00WAVE"])
def test_undecodable_files_raise_a_clear_error(data):
    with pytest.raises(AudioDecodeError):
        decode_file(data)


def frames(*runs: tuple[float, int]) -> list[float]:
    """Probabilities for runs of (probability, milliseconds) in 32 ms frames."""
    out: list[float] = []
    for probability, ms in runs:
        out += [probability] * (ms // 32)
    return out


def server_vad(**config) -> TurnDetector:
    return TurnDetector(
        32,
        {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 500,
            **config,
        },
    )


def test_server_vad_start_pause_stop():
    turns = server_vad()
    events = turns.feed(frames((0.0, 640), (0.9, 1600), (0.0, 800)))
    kinds = [(e.kind, e.audio_ms) for e in events]
    assert kinds[0] == ("started", 640 - 300)
    assert kinds[1][0] == "paused" and kinds[1][1] == 640 + 1600
    assert kinds[2][0] == "stopped" and 640 + 1600 + 500 <= kinds[2][1] <= 640 + 1600 + 532


def test_short_blips_do_not_start_a_turn_and_one_quiet_frame_opens_a_pause():
    """The voice loop speculates from the first quiet frame (turns._PAUSE_MS); speech that
    comes back resumes the turn, which goes on."""
    turns = server_vad()
    assert turns.feed(frames((0.9, 32), (0.0, 500))) == []
    events = turns.feed(frames((0.9, 500), (0.0, 32), (0.9, 500)))
    assert [e.kind for e in events] == ["started", "paused", "resumed"]
    assert events[2].audio_ms - events[1].audio_ms == 32


def test_speech_inside_the_window_resumes_the_turn():
    turns = server_vad(silence_duration_ms=800)
    events = turns.feed(frames((0.9, 640), (0.0, 320), (0.9, 640), (0.0, 1000)))
    assert [e.kind for e in events] == ["started", "paused", "resumed", "paused", "stopped"]


def test_idle_timeout_fires_once_after_the_last_turn():
    turns = server_vad(idle_timeout_ms=1000)
    events = turns.feed(frames((0.9, 320), (0.0, 3000)))
    assert [e.kind for e in events] == ["started", "paused", "stopped", "idle"]


def test_semantic_window_follows_the_transcript():
    assert semantic_silence_ms("What time is it?", "high") < semantic_silence_ms(
        "What time is it", "high"
    )
    assert semantic_silence_ms("Turn on the lights and", "low") == 8000
    assert semantic_silence_ms("Turn on the lights and", "medium") == 4000
    assert semantic_silence_ms("Turn on the lights and", "high") == 2000
    assert semantic_silence_ms("I think, ", "auto") == 4000


def test_semantic_vad_waits_for_the_final_transcript_then_ends_quickly():
    turns = TurnDetector(32, {"type": "semantic_vad", "eagerness": "high"})
    turns.feed(frames((0.9, 640)))
    events = turns.feed(frames((0.0, 192)))
    assert [e.kind for e in events] == ["paused"]
    turns.expect_transcript()
    assert turns.feed(frames((0.0, 1000))) == []  # still waiting for the transcript
    turns.use_transcript("What time is it?", final=True)
    stop = turns.check_window()
    assert stop is not None and stop.kind == "stopped"


def test_a_sample_split_across_appends_is_joined_not_dropped():
    tone = (np.arange(1000) * 7).astype(np.int16).tobytes()
    decoder = WireDecoder(WireFormat("pcm16", 16000))
    parts = [decoder.decode(tone[a:b]) for a, b in ((0, 301), (301, 1001), (1001, len(tone)))]
    assert np.array_equal(np.concatenate(parts), np.frombuffer(tone, np.int16))
