"""bench/voice_latency.py --conversation reads each stage's time from the server's DEBUG lines
(bench/_stage_log.py) and plays answers back as a real-time player would (bench/_conversation.py).
The TTS plugin's line is checked here against a real synthesis, so that a reworded log line
shows up as a failing test, not as a null in the benchmark."""

from __future__ import annotations

import logging
import sys

import pytest

from tests.corpus import REPO

sys.path.insert(0, str(REPO / "bench"))

from _conversation import playback
from _stage_log import read_marks, turn_stages


def test_the_tts_line_is_read(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    from ovos_tts_plugin_onnx_stream import PhoonnxStreamTTS

    tts = PhoonnxStreamTTS({})
    with caplog.at_level(logging.DEBUG, logger="ovos_tts_plugin_onnx_stream"):
        assert list(tts.synth_stream("Hello there, friend."))
    lines = [
        f"{r.created:.3f} {r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.records
        if "synthesized" in r.getMessage()
    ]
    log = tmp_path / "server.log"
    log.write_text("\n".join(lines) + "\n")
    marks = read_marks(log)["tts"]
    assert len(marks) == 1 and marks[0].detail == 3  # one piece of three words
    assert marks[0].ms > 0 and marks[0].t == pytest.approx(float(lines[0].split()[0]))


def test_stages_are_walked_back_from_the_first_audio(tmp_path) -> None:
    log = tmp_path / "server.log"
    log.write_text(
        "100.000 DEBUG ovos_realtime.voice.pipeline: [s] transcript of 3.0 s audio in 900 ms\n"
        "101.000 DEBUG ovos_stt_plugin_whisper_streaming.streaming: peek: waited 5 ms, "
        "decoded 1.5 s (0 committed words in it, text) in 190 ms (encoder 120 ms), 0 partial "
        "decodes abandoned\n"
        "101.001 DEBUG ovos_realtime.voice.pipeline: [s] transcript of 3.4 s audio in 200 ms\n"
        "101.150 DEBUG ovos_realtime.brain.llama_embedded: first token in 120 ms (prompt read)\n"
        "101.500 DEBUG ovos_tts_plugin_onnx_stream.plugin: KokoroStreamTTS synthesized 5 words: "
        "1.40 s audio in 250 ms\n"
        "103.000 DEBUG ovos_tts_plugin_onnx_stream.plugin: KokoroStreamTTS synthesized 7 words: "
        "2.00 s audio in 900 ms\n"
    )
    stages = turn_stages(read_marks(log), speech_end=100.5, first_audio=101.52)
    assert stages["tts_first_chunk_ms"] == 250
    assert stages["llm_first_token_ms"] == 120
    assert stages["first_clause_ms"] == 100.0  # 101.150 → 101.250, when the clause went to TTS
    assert (stages["stt_final_ms"], stages["stt_final_audio_s"]) == (200, 3.4)
    assert (stages["stt_peek_wait_ms"], stages["stt_peek_decoded_s"]) == (5, 1.5)
    assert stages["stt_encoder_ms"] == 120


def test_playback_counts_a_player_running_dry() -> None:
    # 1 s of audio at t=0, the next 1 s arrives at t=1.5: the player waited 0.5 s once.
    result = playback([(0.0, 1.0), (1.5, 1.0), (2.0, 1.0)])
    assert (result["underruns"], result["stall_ms"], result["audio_s"]) == (1, 500.0, 3.0)
    assert playback([(0.0, 1.0), (0.9, 1.0)])["underruns"] == 0
