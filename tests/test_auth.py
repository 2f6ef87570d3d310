"""API keys: WebSocket (Bearer header or browser subprotocol) and REST."""

import json

import httpx
import pytest
import websockets
from openai import AsyncOpenAI

from tests.conftest import SCRIPTED_BACKEND

KEY = "sk-local-test-key"


@pytest.fixture(scope="module")
def keyed_server(server_factory):
    return server_factory(
        {"llm": {"backend": SCRIPTED_BACKEND}, "voice": {"enabled": False}}, "--api-key", KEY
    )


async def test_ws_without_key_gets_error_then_close_1008(keyed_server):
    async with websockets.connect(f"{keyed_server.ws_base}/realtime") as ws:
        error = json.loads(await ws.recv())
        assert error["type"] == "error"
        assert error["error"]["code"] == "invalid_api_key"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 1008


async def test_ws_with_wrong_key_is_refused(keyed_server):
    async with websockets.connect(
        f"{keyed_server.ws_base}/realtime", additional_headers={"Authorization": "Bearer wrong"}
    ) as ws:
        assert json.loads(await ws.recv())["error"]["code"] == "invalid_api_key"


async def test_sdk_with_key_connects(realtime, keyed_server):
    rt = await realtime(keyed_server, api_key=KEY)
    assert rt.created["type"] == "session.created"


async def test_browser_subprotocol_key_is_accepted(keyed_server):
    async with websockets.connect(
        f"{keyed_server.ws_base}/realtime",
        subprotocols=["realtime", f"openai-insecure-api-key.{KEY}"],
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "session.created"


def test_rest_needs_the_key_but_health_is_open(keyed_server):
    assert httpx.get(f"{keyed_server.http_url}/health").status_code == 200
    refused = httpx.get(f"{keyed_server.http_url}/v1/models")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    ok = httpx.get(f"{keyed_server.http_url}/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200


async def test_openai_sdk_rest_sees_401_as_authentication_error(keyed_server):
    import openai

    client = AsyncOpenAI(api_key="wrong", base_url=f"{keyed_server.http_url}/v1")
    with pytest.raises(openai.AuthenticationError):
        await client.models.list()
    good = AsyncOpenAI(api_key=KEY, base_url=f"{keyed_server.http_url}/v1")
    assert [m.id async for m in good.models.list()][0] == "ovos-realtime"  # then the personas
