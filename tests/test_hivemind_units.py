"""The HiveMind plugins' pure parts: clause splitting, settings, WAV framing."""

from __future__ import annotations

import io
import wave

import pytest
from hivemind_realtime_agent_plugin.audio import wav_file
from hivemind_realtime_agent_plugin.clauses import ClauseSplitter
from hivemind_realtime_agent_plugin.settings import AgentSettings, ConfigError


def split(deltas: list[str]) -> list[str]:
    splitter = ClauseSplitter()
    out = [clause for delta in deltas for clause in splitter.feed(delta)]
    return out + splitter.flush()


def test_clauses_come_out_as_the_text_streams():
    splitter = ClauseSplitter()
    assert splitter.feed("Hello! You") == ["Hello!"]
    assert splitter.feed(" said: what is the capital of France,") == []
    assert splitter.feed(" and") == ["You said: what is the capital of France,"]
    assert splitter.flush() == ["and"]


def test_short_clause_breaks_wait_and_unpunctuated_text_is_cut():
    assert split(["Yes, ", "it is. ", "Fine"]) == ["Yes, it is.", "Fine"]
    words = [f"w{i} " for i in range(31)]
    assert [len(c.split()) for c in split(words)] == [15, 15, 1]


def test_settings_defaults_and_errors():
    settings = AgentSettings.from_config({"url": "wss://hub.lan:9000/v1/", "unknown": 1})
    assert settings.http_url == "https://hub.lan:9000/v1"
    assert settings.persona_for("kitchen") == "ovos-realtime"
    kitchen = AgentSettings.from_config({"client_personas": {"kitchen": "chef"}})
    assert kitchen.persona_for("kitchen") == "chef"
    with pytest.raises(ConfigError, match="url"):
        AgentSettings.from_config({"url": "http://127.0.0.1:8000/v1"})


def test_tts_wav_has_its_sizes_filled_in():
    pcm = b"\x01\x00" * 2400
    with wave.open(io.BytesIO(wav_file(pcm, 24000))) as wav:
        assert (wav.getframerate(), wav.getnframes(), wav.getsampwidth()) == (24000, 2400, 2)
