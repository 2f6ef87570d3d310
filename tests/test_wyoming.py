"""The Wyoming door (Home Assistant's protocol) with the `wyoming` client library against real
servers: `serve` with `wyoming.enabled` (speech engines, the scripted LLM) and the standalone
`ovos-realtime wyoming` command (no speech engines).

Covers describe/info, streaming speech-to-text on corpus speech (partials before audio-stop,
WER), format conversion, streaming text-to-speech (audio before the text is all sent; it
transcribes back), the conversation agent (follow-ups, separate conversations, ten clients at
once) and bad input (an `error` or a clean close, and the server still answers)."""

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from ovos_realtime.config import ConfigError, load_settings
from ovos_realtime.server.wyoming.audio import AudioIn, check_format, to_int16
from ovos_realtime.server.wyoming.errors import BadRequest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeVoice,
)

from tests.conftest import REPO, free_port
from tests.corpus import load_clip, speech_rows, word_error_rate

MEMORY_BACKEND = "tests.wyoming_llm:MemoryLLM"
# Short clips from four sources (LJ Speech, CMU Arctic, VCTK): ~26 s of speech in all.
WER_CLIPS = [
    "vctk_p317_166.wav",
    "cmuarctic_axb_arctic_a0004.wav",
    "cmuarctic_aew_arctic_a0003.wav",
    "vctk_p301_102.wav",
    "ljspeech_LJ001-0011.wav",
    "vctk_p238_165.wav",
    "cmuarctic_unknownspk_arctic_a0010.wav",
]
WER_MAX = 0.1  # tests/test_stt_plugin.py bounds the whole corpus at 0.072 in batch
PACED_CLIP = "jfk_inaugural_ask_not.wav"  # 11 s, streamed at real-time pace
TEXT = {row["file"]: row["text"] for row in speech_rows()}


@pytest.fixture(scope="module")
def wyoming_server(server_factory):
    """`serve` with the Wyoming door beside HTTP: speech engines and the memory LLM."""
    port = free_port()
    server = server_factory(
        {
            "llm": {"backend": MEMORY_BACKEND},
            "voice": {"max_turn_s": 30},
            "wyoming": {"enabled": True, "uri": f"tcp://127.0.0.1:{port}"},
            "log_level": "debug",
        }
    )
    server.wyoming_port = port
    return server


@contextlib.asynccontextmanager
async def connected(port: int, timeout: float = 60) -> AsyncIterator[AsyncTcpClient]:
    client = AsyncTcpClient("127.0.0.1", port, connect_timeout=10, read_timeout=timeout)
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


async def read_until(client: AsyncTcpClient, last: str) -> list[Event]:
    events = []
    while True:
        event = await client.read_event()
        assert event is not None, f"connection closed before {last}: {events}"
        events.append(event)
        if event.type == last:
            return events


async def describe(port: int) -> Info:
    async with connected(port, timeout=10) as client:
        await client.write_event(Describe().event())
        event = await client.read_event()
        assert event is not None and event.type == "info", event
        return Info.from_event(event)


async def transcribe(
    port: int,
    samples: np.ndarray,
    rate: int = 16000,
    *,
    channels: int = 1,
    pace: bool = False,
    language: str | None = "en",
) -> tuple[list[tuple[float, Event]], float]:
    """Stream int16 audio in 100 ms chunks (at real-time pace when asked) and read the answer as
    it comes: ([(arrival time, event)] up to transcript-stop, the time audio-stop was sent)."""
    async with connected(port) as client:
        received: list[tuple[float, Event]] = []

        async def read() -> None:
            while True:
                event = await client.read_event()
                assert event is not None, f"closed mid-transcription: {received}"
                received.append((time.monotonic(), event))
                if event.type in ("transcript-stop", "error"):
                    return

        reader = asyncio.create_task(read())
        await client.write_event(Transcribe(language=language).event())
        await client.write_event(AudioStart(rate, 2, channels).event())
        step = rate // 10
        frames = samples.reshape(-1, channels) if channels > 1 else samples
        for i in range(0, len(frames), step):
            chunk = frames[i : i + step].astype("<i2").tobytes()
            await client.write_event(AudioChunk(rate, 2, channels, chunk).event())
            if pace:
                await asyncio.sleep(0.1)
        await client.write_event(AudioStop().event())
        stopped = time.monotonic()
        await asyncio.wait_for(reader, 60)
        return received, stopped


def final_text(received: list[tuple[float, Event]]) -> str:
    finals = [Transcript.from_event(e).text for _, e in received if e.type == "transcript"]
    assert len(finals) == 1, [e for _, e in received]
    return finals[0]


# ---- describe ----


async def test_describe_advertises_asr_tts_and_the_agent(wyoming_server):
    info = await describe(wyoming_server.wyoming_port)
    (asr,) = info.asr
    assert asr.supports_transcript_streaming and asr.installed
    assert asr.models and "en" in asr.models[0].languages
    (tts,) = info.tts
    assert tts.supports_synthesize_streaming and tts.installed
    assert tts.voices and all(voice.languages for voice in tts.voices)
    assert info.handle and info.handle[0].name == "default"  # the default persona first
    assert all(program.supports_handled_streaming for program in info.handle)
    assert "en-US" in info.handle[0].models[0].languages


# ---- asr ----


@pytest.mark.slow
async def test_asr_on_corpus_speech_within_the_wer_bound_all_clips_at_once(wyoming_server):
    port = wyoming_server.wyoming_port
    results = await asyncio.gather(
        *(transcribe(port, load_clip(name, 16000)) for name in WER_CLIPS)
    )
    refs, hyps = [], []
    for name, (received, _) in zip(WER_CLIPS, results, strict=True):
        kinds = [e.type for _, e in received]
        assert kinds[0] == "transcript-start" and kinds[-2:] == ["transcript", "transcript-stop"]
        refs.append(TEXT[name])
        hyps.append(final_text(received))
        # Each client gets the text of its own audio, not another's.
        assert word_error_rate([refs[-1]], [hyps[-1]]) <= 0.3, (name, hyps[-1])
    wer = word_error_rate(refs, hyps)
    print(f"wyoming asr WER {wer:.4f} on {len(refs)} clips, transcribed at once")
    assert wer <= WER_MAX, list(zip(refs, hyps, strict=True))


@pytest.mark.slow
async def test_asr_streams_transcript_chunks_before_audio_stop(wyoming_server):
    # Home Assistant's own VAD sends audio-stop after most of a second of quiet.
    audio = np.concatenate([load_clip(PACED_CLIP, 16000), np.zeros(12800, np.int16)])
    received, stopped = await transcribe(wyoming_server.wyoming_port, audio, pace=True)
    early = [e for t, e in received if e.type == "transcript-chunk" and t < stopped]
    assert early, "no transcript-chunk while the audio was still coming"
    chunks = "".join(e.data["text"] for _, e in received if e.type == "transcript-chunk")
    text = final_text(received)
    # The chunks add up to (nearly) the final text: the final decode may still mend a word.
    assert word_error_rate([text], [chunks]) <= 0.1, (chunks, text)
    final_at = next(t for t, e in received if e.type == "transcript")
    print(
        f"{len(early)} chunks before audio-stop; final {final_at - stopped:.2f} s after it: {text}"
    )
    assert word_error_rate([TEXT[PACED_CLIP]], [text]) <= 0.15
    assert final_at - stopped < 5.0


@pytest.mark.slow
async def test_asr_converts_22050_hz_stereo(wyoming_server):
    name = "ljspeech_LJ001-0004.wav"
    mono = load_clip(name, 22050)
    stereo = np.stack([mono, (mono // 2).astype(np.int16)], axis=1)
    received, _ = await transcribe(wyoming_server.wyoming_port, stereo, 22050, channels=2)
    assert word_error_rate([TEXT[name]], [final_text(received)]) <= 0.15


def test_audio_conversion_of_every_width_and_split_frames():
    ramp = np.linspace(-30000, 30000, 480).astype(np.int16)
    as32 = (ramp.astype(np.int32) << 16).astype("<i4").tobytes()
    as24 = b"".join((int(v) << 8).to_bytes(3, "little", signed=True) for v in ramp)
    as8 = ((ramp >> 8) + 128).astype(np.uint8).tobytes()
    assert np.array_equal(to_int16(as32, 4), ramp)
    assert np.array_equal(to_int16(as24, 3), ramp)
    assert np.abs(to_int16(as8, 1).astype(int) - ramp).max() < 256
    stereo = np.stack([ramp, ramp], axis=1).astype("<i2").tobytes()
    converter = AudioIn(16000, 2, 2)
    out = np.concatenate([converter.convert(stereo[:7]), converter.convert(stereo[7:])])
    assert np.array_equal(out, ramp)  # a frame split over two chunks is kept whole
    resampled = AudioIn(48000, 2, 1)
    total = sum(resampled.convert(ramp.tobytes()).size for _ in range(10))
    total += resampled.flush().size
    assert abs(total - 1600) <= 2
    for bad in ((0, 2, 1), (16000, 5, 1), (16000, 2, 0), ("16000", 2, 1), (True, 2, 1)):
        with pytest.raises(BadRequest):
            check_format(*bad)


# ---- tts ----


@pytest.mark.slow
async def test_tts_streams_audio_before_the_text_is_all_sent_and_it_transcribes_back(
    wyoming_server,
):
    port = wyoming_server.wyoming_port
    pieces = [
        "The first sentence ",
        "comes early. ",
        "Then a second one follows, ",
        "and a third one ends it.",
    ]
    text = "".join(pieces)
    async with connected(port) as client:
        await client.write_event(SynthesizeStart().event())
        for piece in pieces[:-1]:
            await client.write_event(SynthesizeChunk(piece).event())
        first = await client.read_event()
        assert first is not None and first.type == "audio-start", first
        chunk = await client.read_event()
        assert chunk is not None and chunk.type == "audio-chunk", chunk
        # Audio of the first clause is out while the last text chunk is not yet sent.
        await client.write_event(SynthesizeChunk(pieces[-1]).event())
        await client.write_event(Synthesize(text).event())  # the compatibility copy: ignored
        await client.write_event(SynthesizeStop().event())
        rest = await read_until(client, "synthesize-stopped")
    kinds = [e.type for e in rest]
    assert kinds[-2:] == ["audio-stop", "synthesize-stopped"]
    assert "audio-start" not in kinds  # one audio stream, not two
    chunks = [AudioChunk.from_event(e) for e in [chunk, *rest] if e.type == "audio-chunk"]
    rate = chunks[0].rate
    assert {(c.rate, c.width, c.channels) for c in chunks} == {(rate, 2, 1)}
    audio = np.frombuffer(b"".join(c.audio for c in chunks), "<i2")
    assert audio.size > 2 * rate
    received, _ = await transcribe(port, audio, rate)  # our own asr hears it back
    heard = final_text(received)
    assert word_error_rate([text], [heard]) <= 0.2, heard


@pytest.mark.slow
async def test_tts_synthesize_with_a_named_voice(wyoming_server):
    info = await describe(wyoming_server.wyoming_port)
    voice = info.tts[0].voices[0].name
    async with connected(wyoming_server.wyoming_port) as client:
        await client.write_event(Synthesize("Hello there.", SynthesizeVoice(name=voice)).event())
        events = await read_until(client, "audio-stop")
    assert events[0].type == "audio-start"
    assert sum(len(e.payload or b"") for e in events if e.type == "audio-chunk") > 10000


# ---- handle ----


async def ask(port: int, text: str, conversation_id: str | None = None) -> list[Event]:
    context = {"conversation_id": conversation_id} if conversation_id else None
    async with connected(port, timeout=30) as client:
        await client.write_event(Transcript(text, context=context, language="en").event())
        return await read_until(client, "handled-stop")


def handled(events: list[Event]) -> tuple[str, dict]:
    final = next(e for e in events if e.type == "handled")
    return final.data["text"], final.data.get("context") or {}


async def test_handle_streams_the_answer_and_keeps_each_conversation(wyoming_server):
    port = wyoming_server.wyoming_port
    events = await ask(port, "the sky is green", "kitchen")
    kinds = [e.type for e in events]
    assert kinds[0] == "handled-start" and kinds[-2:] == ["handled", "handled-stop"]
    text, context = handled(events)
    assert text == "Hello! You said: the sky is green"
    assert context["conversation_id"] == "kitchen"
    assert "".join(e.data["text"] for e in events if e.type == "handled-chunk") == text
    await ask(port, "pears are blue", "garage")
    # A follow-up on a new connection keeps its conversation's history, and only its own.
    assert handled(await ask(port, "what did I say?", "kitchen"))[0] == (
        "Before that you said: the sky is green"
    )
    assert handled(await ask(port, "What did I say?", "garage"))[0] == (
        "Before that you said: pears are blue"
    )
    # No conversation id: a new conversation, whose id comes back for the follow-up.
    text, context = handled(await ask(port, "what did I say"))
    assert text == "Nothing before." and context["conversation_id"]


async def test_an_agent_failure_is_not_handled_and_the_conversation_goes_on(wyoming_server):
    port = wyoming_server.wyoming_port
    events = await ask(port, "please fail now", "failing")
    kinds = [e.type for e in events]
    assert kinds[0] == "handled-start" and kinds[-2:] == ["not-handled", "handled-stop"]
    assert "handled" not in kinds
    # The failed turn is not in the history: the next turn remembers only what was answered.
    assert handled(await ask(port, "all good", "failing"))[0] == "Hello! You said: all good"
    assert handled(await ask(port, "what did I say", "failing"))[0] == (
        "Before that you said: all good"
    )
    assert "the agent failed to answer (failing)" in wyoming_server.log()


async def test_ten_clients_at_once_each_get_their_own_answer(wyoming_server):
    port = wyoming_server.wyoming_port
    texts = [f"client number {i} speaking" for i in range(10)]
    answers = await asyncio.gather(*(ask(port, t, f"many-{i}") for i, t in enumerate(texts)))
    assert [handled(a)[0] for a in answers] == [f"Hello! You said: {t}" for t in texts]


# ---- bad input ----


async def expect_error(port: int, *events: Event, code: str) -> None:
    async with connected(port, timeout=30) as client:
        for event in events:
            await client.write_event(event)
        reply = await client.read_event()
        while reply is not None and reply.type == "transcript-start":  # an accepted audio-start
            reply = await client.read_event()
        assert reply is not None and reply.type == "error", reply
        assert reply.data.get("code") == code, reply
        # The connection goes on working after the error.
        await client.write_event(Describe().event())
        following = await read_until(client, "info")
        assert following[-1].type == "info"


@pytest.mark.slow
async def test_bad_input_gets_an_error_and_the_server_goes_on(wyoming_server):
    port = wyoming_server.wyoming_port
    pcm = np.zeros(1600, np.int16).tobytes()
    big = "word " * 20_000  # 100 kB
    await expect_error(port, Event("no-such-event"), code="unknown_event")
    await expect_error(port, AudioChunk(16000, 2, 1, pcm).event(), code="audio_not_started")
    await expect_error(port, AudioStop().event(), code="audio_not_started")
    await expect_error(port, AudioStart(16000, 5, 1).event(), code="bad_audio_format")
    await expect_error(port, AudioStart(0, 2, 1).event(), code="bad_audio_format")
    await expect_error(port, Event("audio-start", {"rate": 16000}), code="bad_event")
    await expect_error(
        port,
        AudioStart(16000, 2, 1).event(),
        AudioChunk(44100, 2, 2, pcm).event(),
        code="bad_audio_format",
    )
    await expect_error(
        port, AudioStart(16000, 2, 1).event(), AudioStop().event(), code="empty_audio"
    )
    await expect_error(port, Synthesize(big).event(), code="text_too_long")
    await expect_error(port, Synthesize("  ").event(), code="empty_text")
    await expect_error(
        port, SynthesizeStart().event(), SynthesizeChunk(big).event(), code="text_too_long"
    )
    await expect_error(port, SynthesizeChunk("hello").event(), code="synthesis_not_started")
    await expect_error(port, Transcript(big).event(), code="text_too_long")
    await expect_error(port, Transcript("").event(), code="empty_text")
    huge_id = {"conversation_id": "c" * 10_000}  # it names an OVOS session and a log line
    await expect_error(port, Transcript("hi", context=huge_id).event(), code="bad_conversation_id")
    await expect_error(port, Event("select-program", {"name": "nobody"}), code="unknown_program")

    # Clients that leave mid-request: audio, a long synthesis, an answer, a half-sent event.
    audio = load_clip("jfk_inaugural_ask_not.wav", 16000)
    async with connected(port) as client:
        await client.write_event(AudioStart(16000, 2, 1).event())
        for i in range(0, audio.size // 2, 1600):
            await client.write_event(AudioChunk(16000, 2, 1, audio[i : i + 1600].tobytes()).event())
    async with connected(port) as client:
        await client.write_event(Synthesize("A long story. " * 200).event())
        await client.read_event()  # audio-start: it is synthesizing
    async with connected(port) as client:
        await client.write_event(Transcript("tell me a long story").event())
        await client.read_event()
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b'{"type": "audio-chunk", "payload_length": 1000}\n' + b"\0" * 10)
    with socket.create_connection(("127.0.0.1", port)) as raw:  # not JSON, and 100 kB long
        raw.sendall(b"x" * 100_000 + b"\n")
        raw.settimeout(10)
        assert raw.recv(100) == b""  # a clean close
    assert (await describe(port)).asr  # the server is fine
    log = wyoming_server.log()
    assert "audio-chunk refused: audio-chunk before audio-start" in log
    assert "the client left mid-request" in log
    # No handler failed on any of it (each logs "] <event> failed" with a traceback).
    assert re.search(r"\] [a-z-]+ failed", log) is None, log


# ---- the standalone command and settings ----


def test_wyoming_command_runs_the_door_alone(tmp_path: Path):
    port = free_port()
    config = tmp_path / "wyoming.yaml"
    config.write_text(
        yaml.safe_dump({"llm": {"backend": MEMORY_BACKEND}, "voice": {"enabled": False}})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVOS_REALTIME_")}
    env["PYTHONPATH"] = str(REPO)
    log_file = tmp_path / "wyoming.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ovos_realtime", "wyoming"]
        + ["--uri", f"tcp://127.0.0.1:{port}", "--config", str(config)],
        stdout=log_file.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_file.read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            assert time.monotonic() < deadline, log_file.read_text()
            time.sleep(0.1)

        async def check() -> None:
            info = await describe(port)
            assert not info.asr and not info.tts and info.handle
            assert handled(await ask(port, "hi there", "solo"))[0] == "Hello! You said: hi there"
            await expect_error(port, AudioStart(16000, 2, 1).event(), code="unavailable")

        asyncio.run(check())
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0, log_file.read_text()
    assert "Traceback" not in log_file.read_text()


def test_wyoming_settings_and_bind_check():
    settings = load_settings(environ={})
    assert not settings.wyoming.enabled and settings.wyoming.uri == "tcp://127.0.0.1:10300"
    for uri in ("http://x:1", "tcp://host", "unix://"):
        with pytest.raises(ConfigError, match="wyoming.uri"):
            load_settings(environ={}, overrides={"wyoming": {"uri": uri}})
    from ovos_realtime.cli import check_wyoming_bind

    lan = load_settings(environ={}, overrides={"wyoming": {"uri": "tcp://0.0.0.0:10300"}})
    with pytest.raises(ConfigError, match="no authentication"):
        check_wyoming_bind(lan)
    check_wyoming_bind(
        load_settings(
            environ={},
            overrides={"wyoming": {"uri": "tcp://0.0.0.0:10300"}, "server": {"insecure": True}},
        )
    )
