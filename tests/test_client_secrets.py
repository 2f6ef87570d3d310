"""Ephemeral client secrets: minted with the server's key (GA and beta endpoints, the openai
SDK's own calls), accepted on the Realtime WebSocket with the config they were minted with,
refused when expired, forged, or used to mint."""

import asyncio
import json
import time

import httpx
import openai
import pytest
import websockets
from openai import AsyncOpenAI
from openai.types.beta.realtime.session_create_response import SessionCreateResponse
from openai.types.realtime.client_secret_create_response import ClientSecretCreateResponse

from tests.conftest import SCRIPTED_BACKEND
from tests.realtime_helpers import mint_secret

KEY = "sk-secrets-test-key"


@pytest.fixture(scope="module")
def keyed_server(server_factory):
    return server_factory(
        {"llm": {"backend": SCRIPTED_BACKEND}, "voice": {"enabled": False}}, "--api-key", KEY
    )


def sdk(server, key: str = KEY) -> AsyncOpenAI:
    return AsyncOpenAI(
        api_key=key, base_url=f"{server.http_url}/v1", websocket_base_url=server.ws_base
    )


async def test_minted_secret_opens_a_session_with_its_config(keyed_server):
    minted = await sdk(keyed_server).realtime.client_secrets.create(
        expires_after={"anchor": "created_at", "seconds": 60},
        session={
            "type": "realtime",
            "instructions": "Speak like a pirate.",
            "output_modalities": ["text"],
        },
    )
    assert isinstance(minted, ClientSecretCreateResponse)
    assert minted.value.startswith("ek_")
    assert 55 <= minted.expires_at - time.time() <= 61
    assert minted.session.instructions == "Speak like a pirate."

    # The stock client, holding only the ephemeral secret, as a browser would.
    async with sdk(keyed_server, minted.value).realtime.connect(model="ovos-realtime") as conn:
        created = json.loads(await conn.recv_bytes())
        assert created["type"] == "session.created"
        assert created["session"]["instructions"] == "Speak like a pirate."
        assert created["session"]["output_modalities"] == ["text"]
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hi"}],
            }
        )
        await conn.response.create()
        async for event in conn:
            if event.type == "response.done":
                assert event.response.status == "completed"
                break
    # A secret opens as many sessions as asked until it expires.
    async with websockets.connect(
        f"{keyed_server.ws_base}/realtime",
        subprotocols=["realtime", f"openai-insecure-api-key.{minted.value}"],
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "session.created"


async def refused_on_ws(server, token: str) -> dict:
    async with websockets.connect(
        f"{server.ws_base}/realtime", additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        error = json.loads(await ws.recv())
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 1008
        return error["error"]


async def test_expired_secret_is_refused(keyed_server):
    expiry = {"expires_after": {"anchor": "created_at", "seconds": 10}}
    minted = mint_secret(keyed_server, expiry, KEY).json()
    await asyncio.sleep(max(0.0, minted["expires_at"] - time.time()) + 0.1)
    error = await refused_on_ws(keyed_server, minted["value"])
    assert error["code"] == "invalid_api_key"
    assert "expired" in error["message"]


async def test_forged_secret_is_refused(keyed_server):
    error = await refused_on_ws(keyed_server, "ek_" + "A" * 32)
    assert error["code"] == "invalid_api_key"
    assert "Unknown client secret" in error["message"]


def test_secret_is_checked_on_the_webrtc_door(keyed_server):
    def offer(token: str) -> httpx.Response:
        return httpx.post(
            f"{keyed_server.http_url}/v1/realtime/calls",
            content="v=0\r\n",
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
        )

    assert offer("ek_forged").status_code == 401
    minted = mint_secret(keyed_server, {}, KEY).json()["value"]
    # Past the door's auth: this text-only server has no call to offer.
    let_in = offer(minted)
    assert let_in.status_code == 400
    assert let_in.json()["error"]["code"] == "audio_unavailable"


async def test_secret_cannot_mint_nor_use_rest(keyed_server):
    minted = await sdk(keyed_server).realtime.client_secrets.create()
    with pytest.raises(openai.AuthenticationError, match="only opens Realtime sessions"):
        await sdk(keyed_server, minted.value).realtime.client_secrets.create()
    with pytest.raises(openai.AuthenticationError):
        await sdk(keyed_server, minted.value).beta.realtime.sessions.create()
    with pytest.raises(openai.AuthenticationError):
        await sdk(keyed_server, minted.value).models.list()
    # Nor does minting work without the key.
    with pytest.raises(openai.AuthenticationError):
        await sdk(keyed_server, "wrong").realtime.client_secrets.create()


async def test_beta_endpoints_mint_secrets(keyed_server):
    session = await sdk(keyed_server).beta.realtime.sessions.create(
        modalities=["text"], instructions="Be brief.", voice="alloy"
    )
    assert isinstance(session, SessionCreateResponse)
    assert session.client_secret.value.startswith("ek_")
    assert session.modalities == ["text"] and session.instructions == "Be brief."
    async with websockets.connect(
        f"{keyed_server.ws_base}/realtime",
        additional_headers={
            "Authorization": f"Bearer {session.client_secret.value}",
            "OpenAI-Beta": "realtime=v1",
        },
    ) as ws:
        created = json.loads(await ws.recv())
        assert created["session"]["modalities"] == ["text"]
        assert created["session"]["instructions"] == "Be brief."


def test_transcription_secret_needs_audio_engines(keyed_server):
    # This server is text only: the secret would open a session that cannot work.
    refused = httpx.post(
        f"{keyed_server.http_url}/v1/realtime/transcription_sessions",
        headers={"Authorization": f"Bearer {KEY}"},
        json={},
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "audio_unavailable"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"expires_after": {"seconds": 5}}, "expires_after.seconds"),
        ({"expires_after": {"anchor": "now"}}, "expires_after.anchor"),
        ({"expires_after": {"seconds": "ten"}}, "expires_after.seconds"),
        (
            {"session": {"type": "realtime", "output_modalities": "text"}},
            "session.output_modalities",
        ),
        ({"session": {"type": "video"}}, "session.type"),
        ({"session": []}, "session"),
        ([1, 2], "body"),
    ],
)
def test_bad_mint_requests_get_400_naming_the_param(keyed_server, body, param):
    refused = mint_secret(keyed_server, body, KEY)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["param"] == param


def test_mint_body_not_json_or_too_big(keyed_server):
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    url = f"{keyed_server.http_url}/v1/realtime/client_secrets"
    assert httpx.post(url, headers=headers, content=b"{nope").json()["error"]["code"] == (
        "invalid_json"
    )
    big = httpx.post(url, headers=headers, content=b" " * (2 * 1024 * 1024))
    assert big.status_code == 400
    assert httpx.get(f"{keyed_server.http_url}/health").json()["status"] == "ok"
