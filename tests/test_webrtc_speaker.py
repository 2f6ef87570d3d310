"""The call's speaker track (server/webrtc/tracks.py), as aiortc's sender reads it: every sample
of a response's audio goes out once and in order, whether it came in one burst (a speculative
response adopted: all its deltas and its end at once) or in pieces with silence between, and
`started`/`stopped` come once per response."""

import numpy as np
from ovos_realtime.server.webrtc.tracks import FRAME_SAMPLES, SpeakerTrack


def _speech(rng: np.random.Generator, samples: int) -> bytes:
    # Never zero, so what the track played is told apart from the silence it fills in with.
    return rng.integers(1, 1000, samples, dtype=np.int16).tobytes()


async def test_each_delta_is_played_once_in_order():
    rng = np.random.default_rng(7)
    events: list[tuple[str, str]] = []
    track = SpeakerTrack(
        lambda rid: events.append(("started", rid)), lambda rid: events.append(("stopped", rid))
    )
    played: list[np.ndarray] = []

    async def pull(frames: int) -> None:
        for _ in range(frames):
            frame = await track.recv()
            assert frame.samples == FRAME_SAMPLES
            played.append(frame.to_ndarray().reshape(-1))

    # Adopted from the speculation: the whole answer and its end in one go.
    first = [_speech(rng, n) for n in (350, 1200, 77, 960)]
    for delta in first:
        track.play(delta, "resp_a", "item_a")
    track.finish("resp_a")
    await pull(8)
    # Streamed: pieces that do not fill a frame, a gap the track fills with silence, the end.
    second = [_speech(rng, n) for n in (100, 700, 1500)]
    track.play(second[0], "resp_b", "item_b")
    await pull(2)
    track.play(second[1], "resp_b", "item_b")
    await pull(3)
    track.play(second[2], "resp_b", "item_b")
    track.finish("resp_b")
    await pull(8)
    track.stop()

    out = np.concatenate(played)
    expected = np.frombuffer(b"".join(first + second), np.int16)
    np.testing.assert_array_equal(out[out != 0], expected)
    assert events == [
        ("started", "resp_a"),
        ("stopped", "resp_a"),
        ("started", "resp_b"),
        ("stopped", "resp_b"),
    ]
    assert track.playing is None
