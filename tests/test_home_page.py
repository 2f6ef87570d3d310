"""The home page at `/`: the page and its static files are public, `/status` (what it shows)
needs the API key when one is set, door URLs follow the address the client used."""

import re
import socket

import httpx
import pytest
from ovos_realtime.server.home import STATIC

from tests.conftest import REPO, free_port, text_server_config

KEY = "sk-home-page-test"


@pytest.fixture(scope="module")
def keyed_server(server_factory):
    """An API key, and the Wyoming door beside the HTTP one."""
    return server_factory(
        text_server_config(
            server={"api_key": KEY},
            wyoming={"enabled": True, "uri": f"tcp://127.0.0.1:{free_port()}"},
        )
    )


def static_references(html: str) -> list[str]:
    """The page's own files: every src= and href= that is not a fragment."""
    return [ref for ref in re.findall(r'(?:src|href)="([^"]+)"', html) if not ref.startswith("#")]


@pytest.mark.parametrize("keyed", [False, True], ids=["no-key", "api-key"])
def test_the_page_and_its_files_need_no_key(scripted_server, keyed_server, keyed):
    server = keyed_server if keyed else scripted_server
    page = httpx.get(f"{server.http_url}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    refs = static_references(page.text)
    assert "/static/home.js" in refs and "/static/home.css" in refs
    imported = re.findall(r'from "([^"]+)"', httpx.get(f"{server.http_url}/static/home.js").text)
    assert imported == ["/static/api.js"]
    for ref in refs + imported:
        response = httpx.get(f"{server.http_url}{ref}")
        assert response.status_code == 200, ref
        kind = "text/css" if ref.endswith(".css") else "javascript"
        assert kind in response.headers["content-type"], ref


def test_the_page_loads_nothing_from_elsewhere():
    """No CDN, no external font or script: every file the page is made of is served from here."""
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text), path.name
        assert "@import" not in text and "url(" not in text, path.name
        assert "innerHTML" not in text, path.name  # server data goes in as text only
        for ref in static_references(text):
            assert ref.startswith("/static/"), (path.name, ref)


def test_status_needs_the_key_when_one_is_set(keyed_server):
    url = f"{keyed_server.http_url}/status"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        refused = httpx.get(url, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json()["error"]["code"] == "invalid_api_key"
    status = httpx.get(url, headers={"Authorization": f"Bearer {KEY}"}).json()
    assert status["api_key_required"] is True
    doors = {door["name"]: door for door in status["doors"]}
    assert doors["Realtime WebSocket"]["url"] == f"{keyed_server.ws_base}/realtime"
    assert doors["Realtime WebSocket"]["auth"] == "API key"
    wyoming_uri = keyed_server.config_file.read_text().split("uri: ")[1].split()[0]
    assert doors["Wyoming"]["url"] == wyoming_uri
    assert "no authentication" in doors["Wyoming"]["auth"]
    readme = (REPO / "README.md").read_text()
    for door in doors.values():  # the page links each door to its README section
        assert f"\n## {door['docs']}\n" in readme, door
    # /health stays open (probes), and carries no door addresses.
    assert httpx.get(f"{keyed_server.http_url}/health").status_code == 200


def test_health_names_the_engines_only_to_the_key_holder(keyed_server):
    """A probe learns that the server is up; what it runs (the LLM's URL among it) is for the
    key holder only, as /status is."""
    url = f"{keyed_server.http_url}/health"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        health = httpx.get(url, headers=headers).json()
        assert health["status"] == "ok" and "sessions" in health, headers
        assert "engines" not in health and "ovos" not in health, health
    health = httpx.get(url, headers={"Authorization": f"Bearer {KEY}"}).json()
    assert health["engines"]["llm"]["backend"] == "scripted"
    assert "ovos" in health


def test_status_says_what_runs_and_where(scripted_server):
    status = httpx.get(f"{scripted_server.http_url}/status").json()
    health = httpx.get(f"{scripted_server.http_url}/health").json()
    assert status["version"] == health["version"]
    assert status["api_key_required"] is False
    assert status["brain"]["backend"] == "scripted"
    assert status["brain"]["brain"].startswith("custom backend scripted")
    assert status["engines"] is None  # voice.enabled is false in this server
    assert {"default", "ovos"} <= set(status["personas"]["names"])
    assert status["personas"]["default"] == "default"
    assert "ovos" in status["extensions"]
    doors = {door["name"]: door for door in status["doors"]}
    assert set(doors) == {"Realtime WebSocket", "REST"}  # no Wyoming: not enabled
    assert doors["REST"]["url"] == f"{scripted_server.http_url}/v1"
    endpoints = {e["path"]: e["methods"] for e in doors["REST"]["endpoints"]}
    assert endpoints["/v1/audio/speech"] == ["POST"]
    assert "GET" in endpoints["/v1/models"]


def test_door_urls_follow_the_address_the_client_used(scripted_server):
    """Bound to 0.0.0.0, the server is reached by a name: the page shows that name."""
    status = httpx.get(
        f"{scripted_server.http_url}/status", headers={"Host": "voice.example:8443"}
    ).json()
    doors = {door["name"]: door["url"] for door in status["doors"]}
    assert doors["Realtime WebSocket"] == "ws://voice.example:8443/v1/realtime"
    assert doors["REST"] == "http://voice.example:8443/v1"


def test_the_readme_is_served_with_its_sections(keyed_server):
    readme = httpx.get(f"{keyed_server.http_url}/readme.md")  # public: documentation
    assert readme.status_code == 200
    assert readme.headers["content-type"].startswith("text/markdown")
    assert "## Quick start" in readme.text and "## Troubleshooting" in readme.text


def raw_get(server, path: str, key: str | None = None) -> str:
    """The status line of a GET sent byte for byte (httpx would tidy `..` out of the path)."""
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request.encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply.decode(errors="replace")


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../../setup.py",
        "/static/%2e%2e/%2e%2e/%2e%2e/setup.py",
        "/static/..%2f..%2f..%2fsetup.py",
        "/static/home.js/../../server/home.py",
        "/static/nope.js",
        "/static/" + "a" * 8000,
        "/static/%00",
    ],
)
def test_hostile_paths_get_nothing_and_the_server_survives(keyed_server, path):
    without_key = raw_get(keyed_server, path)
    assert without_key.split()[1] in ("400", "401", "404"), without_key[:200]
    with_key = raw_get(keyed_server, path, KEY)
    assert with_key.split()[1] in ("400", "404"), with_key[:200]
    assert "setup(" not in with_key and "PUBLIC_PATHS" not in with_key
    assert httpx.get(f"{keyed_server.http_url}/health").status_code == 200


def test_only_get_on_the_page(keyed_server):
    assert httpx.post(f"{keyed_server.http_url}/", content=b"x" * 100_000).status_code == 405
    assert httpx.post(f"{keyed_server.http_url}/status").status_code == 401  # key first
    assert httpx.get(f"{keyed_server.http_url}/").status_code == 200


def test_status_names_the_speech_engines(voice_server):
    status = httpx.get(f"{voice_server.http_url}/status").json()
    health = httpx.get(f"{voice_server.http_url}/health").json()
    assert status["engines"] == {kind: health["engines"][kind] for kind in ("stt", "tts", "vad")}
    assert status["engines"]["stt"]["module"] == "ovos-stt-plugin-whisper-streaming"
    doors = {door["name"]: door["url"] for door in status["doors"]}
    assert doors["WebRTC calls"] == f"{voice_server.http_url}/v1/realtime/calls"
