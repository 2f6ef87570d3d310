"""REST audio endpoints with the official openai SDK: speech (whole, streamed, SSE), transcriptions
(every format, streaming), voices; and bad uploads get OpenAI-shaped 4xx errors."""

import base64
import io
import json
import wave

import httpx
import numpy as np
import openai
import pytest
from openai import OpenAI
from ovos_realtime.audio.files import decode_file
from ovos_stt_plugin_whisper_streaming.evaluation import word_error_rate

from tests.voice_helpers import SPEECH, manifest, transcribe

pytestmark = pytest.mark.slow

SENTENCE = "The quick brown fox jumps over the lazy dog."
CLIP = next(m for m in manifest() if m["file"] == "jfk_inaugural_ask_not.wav")


@pytest.fixture(scope="module")
def client(voice_server) -> OpenAI:
    return OpenAI(api_key="unused", base_url=f"{voice_server.http_url}/v1")


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_speech_in_every_format_says_the_text(client, voice_server, fmt):
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input=SENTENCE, response_format=fmt
    ).content
    if fmt == "pcm":
        pcm24k = audio
    else:
        pcm24k = decode_file(audio, rate=24000).tobytes()
    assert len(pcm24k) > 24000 * 2  # more than a second of speech
    heard = transcribe(voice_server.http_url, pcm24k)
    assert word_error_rate([SENTENCE], [heard]) <= 0.15, heard


def test_speech_streams_in_chunks(client):
    text = "First sentence comes early. Then a second one. And a third, for good measure."
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text, response_format="pcm"
    ) as response:
        chunks = [chunk for chunk in response.iter_bytes() if chunk]
    assert len(chunks) >= 2


def test_speech_sse_events(voice_server):
    response = httpx.post(
        f"{voice_server.http_url}/v1/audio/speech",
        json={
            "model": "tts-1",
            "input": "Hello. Goodbye.",
            "voice": "alloy",
            "response_format": "pcm",
            "stream_format": "sse",
        },
        timeout=60,
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]
    assert [e["type"] for e in events][-1] == "speech.audio.done"
    audio = b"".join(
        base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta"
    )
    assert len(audio) > 24000  # half a second of 24 kHz PCM


def test_speech_speed_changes_duration(client):
    slow = client.audio.speech.create(
        model="tts-1", voice="alloy", input=SENTENCE, response_format="pcm", speed=0.5
    )
    fast = client.audio.speech.create(
        model="tts-1", voice="alloy", input=SENTENCE, response_format="pcm", speed=2.0
    )
    assert len(slow.content) > 1.5 * len(fast.content)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "tts-1", "input": "", "voice": "alloy"}, "input"),
        ({"model": "tts-1", "voice": "alloy"}, "input"),
        ({"model": "tts-1", "input": "x" * 5000, "voice": "alloy"}, "input"),
        (
            {"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": "ogg"},
            "response_format",
        ),
        ({"model": "tts-1", "input": "hi", "voice": "alloy", "speed": 9}, "speed"),
        (
            {"model": "tts-1", "input": "hi", "voice": "alloy", "stream_format": "rtp"},
            "stream_format",
        ),
    ],
)
def test_bad_speech_requests_are_400_with_the_param(voice_server, body, param):
    response = httpx.post(f"{voice_server.http_url}/v1/audio/speech", json=body, timeout=30)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_speech_with_invalid_json_is_400(voice_server):
    response = httpx.post(
        f"{voice_server.http_url}/v1/audio/speech",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


def test_transcription_formats(client):
    path = SPEECH / CLIP["file"]
    result = client.audio.transcriptions.create(model="whisper-1", file=path.open("rb"))
    assert word_error_rate([CLIP["text"]], [result.text]) <= 0.2
    assert result.usage.seconds > 1
    text = client.audio.transcriptions.create(
        model="whisper-1", file=path.open("rb"), response_format="text"
    )
    assert text.strip() == result.text
    srt = client.audio.transcriptions.create(
        model="whisper-1", file=path.open("rb"), response_format="srt"
    )
    assert srt.startswith("1\n00:00:") and "-->" in srt
    vtt = client.audio.transcriptions.create(
        model="whisper-1", file=path.open("rb"), response_format="vtt"
    )
    assert vtt.startswith("WEBVTT")
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=path.open("rb"),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert verbose.segments and verbose.segments[0].end > verbose.segments[0].start
    assert len(verbose.words) >= 10
    assert all(w.end >= w.start for w in verbose.words)
    assert verbose.duration == pytest.approx(CLIP["duration_s"], abs=0.2)


def test_transcription_stream(client):
    stream = client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=(SPEECH / CLIP["file"]).open("rb"), stream=True
    )
    events = list(stream)
    assert events[-1].type == "transcript.text.done"
    deltas = "".join(e.delta for e in events if e.type == "transcript.text.delta")
    assert deltas == events[-1].text
    assert word_error_rate([CLIP["text"]], [events[-1].text]) <= 0.2


def _wav(samples: np.ndarray, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("notes.txt", b"this is plainly not audio, just text" * 10, 400, "invalid_file_format"),
        ("empty.wav", b"", 400, "invalid_value"),
        ("cut.wav", _wav(np.zeros(16000, np.int16))[:30], 400, "invalid_file_format"),
        ("huge.wav", b"\x00" * (26 * 1024 * 1024), 413, "file_too_large"),
    ],
)
def test_bad_uploads_get_openai_shaped_errors(client, name, data, status, code):
    with pytest.raises(openai.APIStatusError) as raised:
        client.audio.transcriptions.create(model="whisper-1", file=(name, data))
    assert raised.value.status_code == status
    assert raised.value.body["code"] == code


def test_upload_without_a_file_part_is_400(voice_server):
    response = httpx.post(
        f"{voice_server.http_url}/v1/audio/transcriptions",
        data={"model": "whisper-1"},
        files={"x": ("a", b"b")},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "file"


def test_silence_transcribes_to_nothing_much(client):
    result = client.audio.transcriptions.create(
        model="whisper-1", file=("silence.wav", _wav(np.zeros(32000, np.int16)))
    )
    assert len(result.text.split()) <= 2


def test_voices_listing_and_alias(voice_server):
    for path in ("/v1/audio/voices", "/v1/tts/voices"):
        voices = httpx.get(f"{voice_server.http_url}{path}").json()["data"]
        assert voices and {"id", "name", "language"} <= set(voices[0])


def test_audio_endpoints_without_voice_engines_say_so(scripted_server):
    response = httpx.post(
        f"{scripted_server.http_url}/v1/audio/speech", json={"input": "hi", "voice": "alloy"}
    )
    assert response.status_code == 503 and response.json()["error"]["code"] == "audio_unavailable"


def test_a_sentence_cut_for_early_audio_has_no_pause_at_the_cut(client):
    """The first piece is cut after a few words for latency; the join must not sound (or look,
    to a VAD) like the speaker paused there."""
    text = "Turn on the lights in the kitchen and"
    pcm = client.audio.speech.create(
        model="tts-1", voice="alloy", input=text, response_format="pcm"
    )
    samples = np.frombuffer(pcm.content, "<i2")
    loud = np.nonzero(np.abs(samples.astype(np.int32)) >= 300)[0]
    gaps = np.diff(loud)  # distance between loud samples: the longest is the longest pause
    assert gaps.max() / 24 < 160, f"a {gaps.max() / 24:.0f} ms pause inside one sentence"
