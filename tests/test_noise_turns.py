"""Issue 11 item 4: a turn that is not speech ends with an empty transcript (no response), heard
through the real voice pipeline (dual VAD, streaming Whisper) on real audio; a real turn keeps
its words. The VAD's verdict is `voice.turns.is_speech` (enough speech frames, densely enough)."""

from __future__ import annotations

import numpy as np
from ovos_realtime.voice.pipeline import VoicePipeline
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_realtime.voice.turns import MIN_SPEECH_RATIO, MIN_VOICED_MS, is_speech

from tests.corpus import read_wav, wer

RATE = 16000
CHUNK = 512 * 2  # 32 ms of PCM16


def room_tone(pcm: np.ndarray, seconds: float) -> np.ndarray:
    """The clip's own background: its quietest 128 ms, forwards then backwards (no clicks)."""
    frames = pcm[: pcm.size // 2048 * 2048].astype(np.float64).reshape(-1, 2048)
    quiet = pcm[int(np.argmin((frames**2).mean(axis=1))) * 2048 :][:2048]
    loop = np.concatenate([quiet, quiet[::-1]])
    return np.tile(loop, int(np.ceil(seconds * RATE / loop.size)))[: int(seconds * RATE)]


async def turns_of(runtime: VoiceRuntime, audio: np.ndarray) -> list[tuple[str, bool]]:
    """(final transcript, heard as speech) of each turn server_vad finds in the audio."""
    pipeline = VoicePipeline(runtime, "noise-test")
    pipeline.configure({"type": "audio/pcm", "rate": RATE}, {"type": "server_vad"})
    wire = audio.astype("<i2").tobytes()
    turns = []
    for offset in range(0, len(wire), CHUNK):
        async for event in pipeline.feed(wire[offset : offset + CHUNK]):
            if event.kind == "stopped":
                heard = pipeline.heard_speech
                turns.append((await pipeline.finish(), heard))
    return turns


async def test_a_spoken_turn_keeps_its_words_and_clicks_get_no_answer(listening_runtime):
    """A sentence is one turn with its words; a run of short bursts (64 ms of the same voice
    every quarter second: what a click, a breath or a knock passes for) starts a turn: Whisper
    hears "Thank you for watching." in it, but judges it likely not speech (no_speech_prob
    ~0.67, avg_logprob ~-0.99), and the dual VAD's speech frames fill only ~56 % of its span
    (read speech: 81-98 %): the transcript is empty, so the session makes no response."""
    speech, _ = read_wav("vctk_p301_102.wav")
    room = room_tone(speech, 1.0)
    bursts = [room]
    for k in range(8):
        start = 8000 + k * 4000
        bursts += [speech[start : start + 1024], room_tone(speech, 0.2)]
    audio = np.concatenate([room, speech, room, *bursts, room])
    turns = await turns_of(listening_runtime, audio)
    assert len(turns) == 2, turns
    (text, heard), (noise_text, noise_heard) = turns
    assert heard and wer("I am sure all schools would accept that.", text) <= 0.2, text
    assert noise_text == "", turns


def test_the_vads_verdict():
    assert is_speech(MIN_VOICED_MS, MIN_VOICED_MS)
    assert not is_speech(MIN_VOICED_MS - 32, MIN_VOICED_MS - 32)  # too little: a click
    assert not is_speech(320, int(320 / MIN_SPEECH_RATIO) + 32)  # too sparse: flicker
    assert is_speech(2720, 3200)  # read speech: 0.81-0.98 of its span
