"""Persona files: the built-ins, the user folder, ovos-persona's format, clear errors; and how a
client picks one (`?model=`, `GET /v1/models`, `--persona`). No OVOS bus needed."""

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from ovos_realtime.config import ConfigError, load_settings
from ovos_realtime.core.personas import PersonaRegistry

from tests.conftest import REPO, SCRIPTED_BACKEND

PIRATE = {
    "name": "pirate",
    "description": "Talks like a pirate.",
    "instructions": "Arr! Answer like a pirate.",
    "voice": "alloy",
    "speed": 1.2,
    "llm": {"temperature": 0.3},
    "tools": ["ask_ovos"],
}


def registry(folder: Path, **personas_settings) -> PersonaRegistry:
    return PersonaRegistry.load(
        load_settings(
            environ={}, overrides={"personas": {"folder": str(folder), **personas_settings}}
        )
    )


def write(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_builtin_personas_ship_with_the_package(tmp_path):
    personas = registry(tmp_path)  # an empty user folder
    assert {"default", "ovos"} <= set(personas.names())
    default = personas.resolve(None)
    assert (default.name, default.brain, default.tools) == (
        "default",
        "persona",
        ("ask_ovos", "skills"),
    )
    assert personas.get("ovos").brain == "ovos"
    # unknown model names (what OpenAI clients send) get the default persona
    assert personas.resolve("gpt-realtime").name == "default"
    assert personas.resolve("OVOS").name == "ovos"  # names match without case


def test_user_folder_adds_and_overrides(tmp_path):
    write(tmp_path, "pirate.json", PIRATE)
    write(tmp_path, "mine.json", {"name": "default", "instructions": "Mine now."})
    personas = registry(tmp_path, default="pirate")
    pirate = personas.resolve(None)
    assert (pirate.name, pirate.voice, pirate.speed, pirate.tools) == (
        "pirate",
        "alloy",
        1.2,
        ("ask_ovos",),
    )
    assert personas.get("default").instructions == "Mine now."
    assert personas.get("default").source.endswith("mine.json")


def test_ovos_persona_format_maps_what_overlaps(tmp_path):
    write(
        tmp_path,
        "llm.json",
        {
            "name": "My Local LLM",
            "solvers": ["ovos-solver-openai-plugin", "ovos-solver-failure-plugin"],
            "ovos-solver-openai-plugin": {
                "api_url": "http://127.0.0.1:9/v1",
                "key": "sk-xxxx",
                "model": "llama",
                "persona": "helpful, creative, clever, and very friendly.",
            },
            "ovos-solver-failure-plugin": {},
        },
    )
    persona = registry(tmp_path).get("my local llm")
    assert persona.instructions == "helpful, creative, clever, and very friendly."
    assert persona.llm == {
        "url": "http://127.0.0.1:9/v1",
        "api_key": "sk-xxxx",
        "model": "llama",
        "backend": "openai",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "the top level must be a JSON object"),
        ({"name": "x", "instruction": "typo"}, "instruction: unknown key"),
        ({"name": "x", "brain": "magic"}, "brain: Input should be 'persona' or 'ovos'"),
        ({"name": "x", "tools": ["ask_ovos", "everything"]}, "tools.1: 'everything' is not"),
        ({"name": "x", "speed": 9}, "speed: Input should be less than or equal to 4"),
        ({"name": "x", "llm": {"backend": "nope"}}, "llm.backend must be"),
        ({"name": "x", "llm": {"modle": "y"}}, "llm.modle: unknown key"),
        ({"name": ""}, "name: String should have at least 1 character"),
    ],
)
def test_invalid_persona_files_name_the_file_and_key(tmp_path, content, message):
    path = write(tmp_path, "broken.json", content)
    with pytest.raises(ConfigError) as error:
        registry(tmp_path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_missing_default_persona_and_folder_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="personas.default: no persona named 'nobody'"):
        registry(tmp_path, default="nobody")
    with pytest.raises(ConfigError, match="personas.folder: .* is not a folder"):
        registry(tmp_path / "missing")


def test_serve_refuses_an_invalid_persona_at_start(tmp_path):
    write(tmp_path, "broken.json", {"name": "broken", "brain": "magic"})
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "llm": {"backend": SCRIPTED_BACKEND},
                "voice": {"enabled": False},
                "personas": {"folder": str(tmp_path)},
            }
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "ovos_realtime", "serve", "--config", str(config), "--port", "0"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode == 2
    assert f"persona file {tmp_path / 'broken.json'}: brain:" in result.stderr


@pytest.fixture(scope="module")
def persona_server(server_factory, tmp_path_factory):
    folder = tmp_path_factory.mktemp("personas")
    write(folder, "pirate.json", PIRATE)
    config = {
        "llm": {"backend": SCRIPTED_BACKEND},
        "voice": {"enabled": False},
        "personas": {"folder": str(folder)},
    }
    return server_factory(config, "--persona", "pirate")


def test_models_lists_personas(persona_server):
    models = httpx.get(f"{persona_server.http_url}/v1/models").json()
    ids = [m["id"] for m in models["data"]]
    assert ids[0] == "ovos-realtime"
    assert {"default", "ovos", "pirate"} <= set(ids)
    assert httpx.get(f"{persona_server.http_url}/v1/models/pirate").status_code == 200
    health = httpx.get(f"{persona_server.http_url}/health").json()
    assert health["ovos"] == {"bus_url": None, "connected": False}


async def test_model_query_selects_the_persona(realtime, persona_server):
    default = (await realtime(persona_server, model="default")).created["session"]
    pirate = (await realtime(persona_server, model="pirate")).created["session"]
    assert pirate["model"] == "pirate"
    assert pirate["instructions"] == PIRATE["instructions"]
    assert pirate["audio"]["output"]["voice"] == "alloy"
    assert pirate["audio"]["output"]["speed"] == 1.2
    assert pirate["temperature"] == 0.3
    assert default["instructions"] != PIRATE["instructions"]  # the `session` settings' own
    # --persona pirate made it the default: other model names get it
    other = (await realtime(persona_server, model="gpt-realtime")).created["session"]
    assert (other["model"], other["instructions"]) == ("gpt-realtime", PIRATE["instructions"])
