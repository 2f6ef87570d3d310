"""The deployment files stay true to the product (no Docker engine is needed to check this)."""

import re

import yaml
from ovos_realtime.config import load_settings

from tests.conftest import REPO

DOCKER = REPO / "docker"


def test_compose_environment_is_valid_configuration():
    compose = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())
    env = compose["services"]["server"]["environment"]

    def substitute(value: str) -> str:  # ${X:-default} → default; ${X:?error} → a set value
        value = re.sub(r"\$\{[^}:]*:-([^}]*)\}", r"\1", value)
        return re.sub(r"\$\{[^}]*\}", "sk-test", value)

    resolved = {k: substitute(str(v)) for k, v in env.items()}
    settings = load_settings(None, resolved)
    assert settings.server.api_key == "sk-test"
    assert not settings.wyoming.enabled and not settings.server.insecure  # Wyoming is opt-in
    wyoming_on = {k: substitute(str(v).replace(":-false", ":-true")) for k, v in env.items()}
    settings = load_settings(None, wyoming_on)
    assert settings.wyoming.enabled and settings.wyoming.uri == "tcp://0.0.0.0:10300"


def test_dockerfile_environment_is_valid_configuration():
    text = (DOCKER / "Dockerfile").read_text()
    env = dict(re.findall(r"(OVOS_REALTIME_[A-Z_]+)=(\S+)", text))
    settings = load_settings(None, env)
    assert settings.server.host == "0.0.0.0"
    for path in re.findall(r"^COPY (\S+) ", text, re.MULTILINE):
        for name in path.split():
            assert (REPO / name).exists(), name
