"""The WebRTC door with a Python WebRTC client (aiortc), on loopback only: a real speech clip
from the corpus goes into a call over RTP; the spoken answer comes back over RTP and
transcribes to what the server says it said; the events arrive on `oai-events` (validated
against the SDK's types). A sideband WebSocket joins the call; the output buffer is cleared on
request; bad offers get 4xx; hangups and vanished peers leave no call behind."""

import asyncio
import json
import time

import httpx
import numpy as np
import pytest
from openai import AsyncOpenAI
from ovos_stt_plugin_whisper_streaming.evaluation import word_error_rate

from tests.voice_helpers import load_clip, manifest, silence, transcribe
from tests.webrtc_client import RATE, WebRTCClient

pytestmark = pytest.mark.slow

CLIP = next(m for m in manifest() if m["file"] == "cmuarctic_aew_arctic_a0003.wav")
STARTED = "output_audio_buffer.started"


async def health(http_url: str) -> dict:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{http_url}/health")).json()


async def no_call_left(http_url: str, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await health(http_url)
        if state["calls"] == 0 and state["sessions"] == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.2)


async def test_spoken_call_sideband_clear_and_hangup(voice_server):
    client = WebRTCClient()
    try:
        answered = await client.call(voice_server.http_url)
        assert answered.status_code == 201, answered.text
        assert answered.headers["content-type"].startswith("application/sdp")
        assert answered.headers["location"] == f"/v1/realtime/calls/{client.call_id}"
        created = await client.until("session.created")
        assert created["session"]["audio"]["input"]["turn_detection"]["type"] == "server_vad"

        # Not JSON on the data channel: an error event, and the call goes on.
        client.send("this is not json")
        assert (await client.until("error"))["error"]["code"] == "invalid_json"

        # A backend joins with the SDK's sideband connection and sets the instructions.
        backend = AsyncOpenAI(api_key="unused", websocket_base_url=voice_server.ws_base)
        async with backend.realtime.connect(call_id=client.call_id) as sideband:
            await sideband.session.update(
                session={"type": "realtime", "instructions": "Answer briefly."}
            )
            updated = await client.until("session.updated")
            assert updated["session"]["instructions"] == "Answer briefly."
            async for event in sideband:  # the backend sees the call's events too
                if event.type == "session.updated":
                    break

        # The caller speaks; the answer comes back as audio over RTP.
        client.listen_from()
        client.mic.say(np.concatenate([silence(0.3), load_clip(CLIP["file"]), silence(1.0)]))
        completed = await client.until("conversation.item.input_audio_transcription.completed", 90)
        assert word_error_rate([CLIP["text"]], [completed["transcript"]]) <= 0.35, completed
        done = await client.until("response.done", 90)
        assert done["response"]["status"] == "completed"
        started = await client.until("output_audio_buffer.started", 30)
        stopped = await client.until("output_audio_buffer.stopped", 60)
        assert started["response_id"] == stopped["response_id"] == done["response"]["id"]
        kinds = client.types()
        assert "response.output_audio.delta" not in kinds  # audio goes over RTP only
        said = next(
            e["transcript"]
            for e in client.events
            if e["type"] == "response.output_audio_transcript.done"
        )
        await asyncio.sleep(0.3)  # the answer's last frames, still in the client's jitter buffer
        listened_s = time.monotonic() - client.listening_since
        span = client.loud_span()
        report = {
            "samples by track": dict(client.heard_by_track),
            "listened s": round(listened_s, 2),
            "loud from/to s": span,
            "played s": round(client.arrived_at(stopped) - client.arrived_at(started), 2),
            "audio of": [e["response_id"] for e in client.events if e["type"] == STARTED],
        }
        # One speaker track, recorded once: no more audio than the time spent listening.
        assert len(client.heard_by_track) == 1, report
        assert sum(client.heard_by_track.values()) / RATE < 1.5 * listened_s, report
        assert span is not None, report
        # What was heard is what the server said it said (an answer played twice fails here).
        # Whisper gets it from just before its first sound: with the caller's turn (~5 s of
        # quiet) before it, the batch path drops the answer's last words.
        answer = bytes(client.heard)[round(max(0.0, span[0] - 0.3) * RATE) * 2 :]
        heard = await asyncio.to_thread(transcribe, voice_server.http_url, answer)
        assert word_error_rate([said], [heard]) <= 0.35, (said, heard, report)

        # Barge-in: the caller speaks over a long answer, and stops hearing it at once; the
        # assistant item is cut to what was heard.
        mark = len(client.events)
        client.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Tell me a long story."}],
                },
            }
        )
        client.send({"type": "response.create"})
        story = (await client.until("output_audio_buffer.started", 60, start=mark))["response_id"]
        await asyncio.sleep(0.5)
        client.mic.say(np.concatenate([load_clip(CLIP["file"]), silence(1.0)]))
        await client.until("input_audio_buffer.speech_started", 30, start=mark)
        cleared = await client.until("output_audio_buffer.cleared", 10, start=mark)
        assert cleared["response_id"] == story
        truncated = await client.until("conversation.item.truncated", 10, start=mark)
        assert 0 < truncated["audio_end_ms"] < 10000
        # The clip gets its own answer; this time the client clears the output buffer itself.
        answer = await client.until(
            "output_audio_buffer.started", 90, start=mark, where=lambda e: e["response_id"] != story
        )
        mark = len(client.events)
        client.send({"type": "output_audio_buffer.clear"})
        cleared = await client.until("output_audio_buffer.cleared", 10, start=mark)
        assert cleared["response_id"] == answer["response_id"]

        async with httpx.AsyncClient(base_url=voice_server.http_url) as http:
            assert (
                await http.post(f"/v1/realtime/calls/{client.call_id}/hangup")
            ).status_code == 200
            gone = await http.post(f"/v1/realtime/calls/{client.call_id}/hangup")
            assert gone.status_code == 404
    finally:
        await client.close()
    await no_call_left(voice_server.http_url)


async def test_transcription_call_with_a_client_secret_then_the_peer_vanishes(voice_server):
    turn = {"type": "server_vad"}
    async with httpx.AsyncClient(base_url=voice_server.http_url) as http:
        minted = await http.post(
            "/v1/realtime/client_secrets",
            json={
                "session": {"type": "transcription", "audio": {"input": {"turn_detection": turn}}}
            },
        )
    client = WebRTCClient()
    answered = await client.call(
        voice_server.http_url, headers={"Authorization": f"Bearer {minted.json()['value']}"}
    )
    assert answered.status_code == 201, answered.text
    created = await client.until("session.created")
    assert created["session"]["type"] == "transcription"
    client.mic.say(np.concatenate([silence(0.3), load_clip(CLIP["file"]), silence(1.0)]))
    completed = await client.until("conversation.item.input_audio_transcription.completed", 90)
    assert word_error_rate([CLIP["text"]], [completed["transcript"]]) <= 0.35, completed
    await asyncio.sleep(1.0)
    assert not [k for k in client.types() if k.startswith(("response.", "output_audio"))]
    assert (await health(voice_server.http_url))["calls"] == 1
    # Another client secret, however valid, may not hang up this call.
    async with httpx.AsyncClient(base_url=voice_server.http_url) as http:
        other = (await http.post("/v1/realtime/client_secrets", json={})).json()["value"]
        refused = await http.post(
            f"/v1/realtime/calls/{client.call_id}/hangup",
            headers={"Authorization": f"Bearer {other}"},
        )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "call_not_yours"
    assert (await health(voice_server.http_url))["calls"] == 1
    # The caller goes away without hanging up.
    await client.close()
    await no_call_left(voice_server.http_url)


async def test_sdk_call_that_never_connects_ends(voice_server):
    silent = WebRTCClient()
    try:
        backend = AsyncOpenAI(api_key="unused", base_url=f"{voice_server.http_url}/v1")
        answer = await backend.realtime.calls.create(
            sdp=await silent.offer(), session={"type": "realtime", "instructions": "Be brief."}
        )
        assert answer.text.startswith("v=0")
        assert (await health(voice_server.http_url))["calls"] == 1
        await no_call_left(voice_server.http_url, timeout=20)  # webrtc.connect_timeout_s is 5
    finally:
        await silent.close()


async def test_beta_call_speaks_beta(voice_server):
    client = WebRTCClient(beta=True)
    try:
        answered = await client.call(voice_server.http_url, path="/v1/realtime?model=ovos-realtime")
        assert answered.status_code == 201, answered.text
        created = await client.until("session.created")
        assert created["session"]["modalities"] == ["text", "audio"]

        # The answer states the message size the server takes on oai-events (aiortc's 256 KiB,
        # under server.max_event_bytes); a peer that ignores it and sends more gets
        # event_too_large, and the call goes on.
        limit = 256 * 1024
        assert f"a=max-message-size:{limit}\r\n" in answered.text
        client.pc.sctp._remote_max_message_size = 0  # a hostile peer: no limit of its own
        too_big = {"type": "session.update", "event_id": "evt_big", "session": {}}
        client.send(json.dumps(too_big)[:-1] + ', "x": "' + "x" * limit + '"}')
        refused = await client.until("error", 60)
        assert refused["error"]["code"] == "event_too_large", refused
        assert refused["error"]["event_id"] == "evt_big"
        client.send({"type": "session.update", "session": {"instructions": "Be brief."}})
        assert (await client.until("session.updated", 30))["session"]["instructions"] == "Be brief."
        backend = AsyncOpenAI(api_key="unused", base_url=f"{voice_server.http_url}/v1")
        await backend.realtime.calls.hangup(client.call_id)
    finally:
        await client.close()
    await no_call_left(voice_server.http_url)


async def test_bad_offers_get_4xx(voice_server):
    url = f"{voice_server.http_url}/v1/realtime/calls"
    no_audio = WebRTCClient()
    try:
        sdp = (await no_audio.offer()).replace("m=audio", "m=video")  # no microphone
    finally:
        await no_audio.close()
    cases = [
        ("hello", "application/sdp", 400),
        ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", "application/sdp", 400),
        (sdp, "application/sdp", 400),
        ("v=0\r\n" + "a=x\r\n" * 20000, "application/sdp", 400),
        ("{}", "application/json", 400),
        ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "application/sdp", 400),
    ]
    async with httpx.AsyncClient() as http:
        for body, content_type, status in cases:
            response = await http.post(url, content=body, headers={"Content-Type": content_type})
            assert response.status_code == status, (body[:40], response.text)
            assert response.json()["error"]["message"]
        form = await http.post(
            url,
            files={"sdp": ("offer.sdp", b"v=0\r\n", "application/sdp")},
            data={"session": "{not json"},
        )
        assert form.status_code == 400
        hangup = await http.post(f"{url}/rtc_nope/hangup")
        assert hangup.status_code == 404
    await no_call_left(voice_server.http_url)


def test_a_loopback_only_server_ignores_the_peers_other_candidates():
    from ovos_realtime.server.webrtc.ice import keep_reachable_candidates

    offer = "\r\n".join(
        [
            "v=0",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
            "a=candidate:2 1 udp 2122194687 192.0.2.2 50001 typ host",
            "a=candidate:3 1 udp 2122129151 0b1c-uuid.local 50002 typ host",
            "a=candidate:4 1 udp 2122063615 ::1 50003 typ host",
            "",
        ]
    )
    kept = keep_reachable_candidates(offer, ["127.0.0.1"])
    assert "127.0.0.1 50000" in kept and "::1 50003" in kept
    assert "192.0.2.2" not in kept and ".local" not in kept
    assert kept.startswith("v=0\r\nm=audio") and kept.endswith("\r\n")
    # A server offering other addresses (or aioice's own choice) keeps every candidate.
    assert keep_reachable_candidates(offer, ["192.0.2.7"]) == offer
    assert keep_reachable_candidates(offer, None) == offer
