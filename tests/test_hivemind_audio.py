"""Audio satellites: RAW_AUDIO through a real hivemind-core hub into the server's voice loop
(dual VAD, streaming STT, barge-in), answers as `speak`, and `speak:synth` as TTS_AUDIO."""

from __future__ import annotations

import io
import time
import wave

import numpy as np
import pytest
import soxr

from tests.corpus import load_clip, wer
from tests.hivemind_fixtures import Hub, Satellite, spoken
from tests.voice_helpers import transcribe, tts_clip

pytestmark = pytest.mark.timeout(240)

RATE = 16000
CHUNK = 1024  # samples per RAW_AUDIO message, as hivemind-mic-satellite reads them
CLIP = "vctk_p317_166.wav"
CLIP_TEXT = "That is a lot of writing."


@pytest.fixture(scope="module")
def hub(tmp_path_factory, voice_server):
    tmp = tmp_path_factory.mktemp("hub-audio")
    config = {"url": voice_server.ws_base}
    hub = Hub(
        tmp,
        ("hivemind-realtime-agent-plugin", config),
        ("hivemind-realtime-audio-plugin", {}),
    )
    hub.creds = hub.add_clients(("mic",), ("mycroft.stop", "speak:synth"))
    hub.start()
    yield hub
    hub.stop()
    assert "Traceback" not in hub.log(), hub.log()[-4000:]


@pytest.fixture(scope="module")
def mic(hub):
    sat = Satellite(hub, "mic", *hub.creds["mic"])
    yield sat
    sat.close()


def stream(sat: Satellite, samples: np.ndarray) -> float:
    """Send 16 kHz PCM in real time; returns when the last chunk went (monotonic)."""
    start = time.monotonic()
    for index, offset in enumerate(range(0, samples.size, CHUNK)):
        sat.send_audio(samples[offset : offset + CHUNK].astype("<i2").tobytes(), RATE)
        delay = start + (index + 1) * CHUNK / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return time.monotonic()


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


def wav_pcm24k(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getsampwidth(), wav.getnchannels()) == (2, 1)
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
        return soxr.resample(pcm, wav.getframerate(), 24000).astype("<i2").tobytes()


def test_speech_is_heard_as_it_arrives_answered_and_synthesized(mic, voice_server):
    mic.drain()
    clip = load_clip(CLIP, RATE)
    started = time.monotonic()
    clip_sent = stream(mic, clip)
    stream(mic, quiet(1.5))
    # The server's VAD heard the speech while the clip was still streaming (not after it).
    began = mic.first_arrival("recognizer_loop:record_begin", after=started)
    assert began is not None and began < clip_sent, (began, clip_sent)
    messages = mic.turn(timeout=30)
    heard = [m for m in messages if m.msg_type == "recognizer_loop:utterance"]
    assert heard, [m.msg_type for m in messages]
    transcript = heard[0].data["utterances"][0]
    assert wer(CLIP_TEXT, transcript) < 0.35, transcript
    answer = spoken(messages)
    assert answer.startswith("Hello! You said:") and wer(CLIP_TEXT, answer[17:]) < 0.35, answer

    # The satellite asks for speech (hivemind-mic-satellite does, per speak): TTS_AUDIO back.
    mic.emit("speak:synth", {"utterance": answer, "lang": "en-US"})
    audio, utterance, lang, file_name = mic.tts.audio.get(timeout=30)
    assert (utterance, lang) == (answer, "en-US") and file_name.endswith(".wav")
    heard_back = transcribe(voice_server.http_url, wav_pcm24k(audio))
    assert wer(answer, heard_back) < 0.35, (answer, heard_back)


def test_speech_during_an_answer_cancels_it(mic, voice_server):
    mic.drain()
    ask = soxr.resample(
        tts_clip(voice_server.http_url, "Please tell me a long story."), 24000, RATE
    )
    stream(mic, np.concatenate([ask.astype(np.int16), quiet(1.0)]))
    first = mic.next("speak", timeout=30)
    assert first.data["utterance"].startswith("word0")  # the scripted story
    interrupt = soxr.resample(
        tts_clip(voice_server.http_url, "Stop, what time is it?"), 24000, RATE
    )
    stream(mic, np.concatenate([interrupt.astype(np.int16), quiet(1.2)]))
    first_turn = [first, *mic.turn(timeout=30)]
    types = [m.msg_type for m in first_turn]
    assert "mycroft.audio.speech.stop" in types, types  # the satellite stops playing
    assert len(spoken(first_turn).split()) < 300  # the story was cut short
    second = mic.turn(timeout=30)
    assert "time" in spoken(second).lower(), spoken(second)


def test_audio_in_the_wrong_format_is_dropped_with_a_log_line(mic, hub):
    mic.drain()
    mic.send_audio(b"\x01\x02\x03", RATE)  # odd length: no 16-bit PCM
    mic.send_audio(b"\x00\x00" * 512, 12345)  # a rate nobody records at
    mic.send_audio(b"\x00" * 512, RATE, width=1)  # 8-bit
    time.sleep(1.0)
    log = hub.log()
    for what in ("no 16-bit PCM", "sample_rate 12345", "sample_width 1"):
        assert what in log, what
    mic.say("are you still there?")  # the satellite's session goes on
    assert spoken(mic.turn()) == "Hello! You said: are you still there?"
