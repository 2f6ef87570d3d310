"""Without an API key, no web page from another origin may drive the agent: a foreign Origin is
refused on the WebSocket (403 at the handshake) and on REST; no Origin (a non-browser client)
and the server's own origin go on, and server.allowed_origins lets more in."""

import json

import httpx
import pytest
import websockets

from tests.conftest import text_server_config

EVIL = "https://evil.example"
FRIEND = "http://localhost:5173"


@pytest.fixture(scope="module")
def open_server(server_factory):
    return server_factory(text_server_config(server={"allowed_origins": [FRIEND]}))


async def test_foreign_origin_is_refused_on_the_websocket(open_server):
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(f"{open_server.ws_base}/realtime", origin=EVIL):
            pass
    assert refused.value.response.status_code == 403


async def test_no_origin_own_origin_and_allowed_origin_connect(open_server):
    own = f"http://127.0.0.1:{open_server.port}"
    for origin in (None, own, FRIEND):
        async with websockets.connect(f"{open_server.ws_base}/realtime", origin=origin) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"


def test_foreign_origin_is_refused_on_rest(open_server):
    url = f"{open_server.http_url}/v1/models"
    refused = httpx.get(url, headers={"Origin": EVIL})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    minting = httpx.post(
        f"{open_server.http_url}/v1/realtime/client_secrets", headers={"Origin": "null"}, json={}
    )
    assert minting.status_code == 403
    assert httpx.get(url).status_code == 200
    assert (
        httpx.get(url, headers={"Origin": f"http://127.0.0.1:{open_server.port}"}).status_code
        == 200
    )
    assert httpx.get(url, headers={"Origin": FRIEND}).status_code == 200
    # A look-alike host is not the server's own.
    fake = httpx.get(url, headers={"Origin": f"http://127.0.0.1.evil.example:{open_server.port}"})
    assert fake.status_code == 403


def test_cors_preflight_for_allowed_origins_only(open_server):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    url = f"{open_server.http_url}/v1/realtime/calls"
    allowed = httpx.options(url, headers={"Origin": FRIEND, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == FRIEND
    assert httpx.options(url, headers={"Origin": EVIL, **preflight}).status_code >= 400
    # An allowed page can read the answer of a plain request too.
    models = httpx.get(f"{open_server.http_url}/v1/models", headers={"Origin": FRIEND})
    assert models.headers["access-control-allow-origin"] == FRIEND
