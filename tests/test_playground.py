"""The playground at `/` in a real headless Chromium (Debian's `chromium`, driven by Playwright
with `executable_path`; Playwright downloads no browser of its own). Chromium's fake microphone
plays a real speech clip from the corpus; the page calls the server over WebRTC on 127.0.0.1
(then over the WebSocket, its fallback), the user's transcript appears, the answer's audio
arrives, Stop cuts it short. With an API key the page asks for it and puts only a minted client
secret on the call; a refused microphone and an unreachable server are said in the page.

A screenshot of each page is kept under pytest's tmp_path (a test artifact)."""

import re
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import text_server_config
from tests.corpus import load_clip, manifest, word_error_rate

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
KEY = "sk-playground-test"
CLIP = next(m for m in manifest() if m["file"] == "cmuarctic_aew_arctic_a0003.wav")
RATE = 48000  # Chromium's fake capture device runs at 48 kHz


def fake_microphone(path: Path) -> str:
    """The clip between silences, as the 16-bit PCM WAV Chromium's fake device reads; `%noloop`
    plays it once (then silence) instead of over and over."""
    quiet = np.zeros(RATE * 3, np.int16)  # the page connects before the speech starts
    samples = np.concatenate([quiet, load_clip(CLIP["file"], RATE), quiet[: RATE * 2]])
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.astype("<i2").tobytes())
    return f"{path}%noloop"


def chromium_args(tmp: Path, *, microphone_allowed: bool = True) -> list[str]:
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fake_microphone(tmp / 'mic.wav')}",
        # The server offers 127.0.0.1 only (webrtc.host_addresses); Chromium leaves loopback
        # out of its own candidates unless told.
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if microphone_allowed:  # else headless Chromium dismisses the permission prompt: refused
        args.append("--use-fake-ui-for-media-stream")
    return args


@pytest.fixture(scope="module")
def playwright() -> Iterator:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(sudo apt-get install --no-install-recommends chromium), or run `make test`, "
            "which does."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def launch(playwright, tmp: Path, **options: bool):
    """Chromium with a fresh --user-data-dir of its own (launch_persistent_context)."""
    return playwright.chromium.launch_persistent_context(
        str(tmp / "profile"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=chromium_args(tmp, **options),
    )


@pytest.fixture(scope="module")
def browser(playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    context = launch(playwright, tmp_path_factory.mktemp("chromium"))
    yield context
    context.close()


def health(server) -> dict:
    return httpx.get(f"{server.http_url}/health").json()


def wait_until(page, script: str, arg=None, timeout: float = 30):
    """Polls `script` (a function) in the page until it returns something truthy. Playwright's
    wait_for_function evaluates strings, which the page's CSP rightly forbids."""
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(script, arg)):
        assert time.monotonic() < deadline, f"timed out after {timeout} s: {script}"
        time.sleep(0.2)
    return value


def state(page) -> str:
    return page.inner_text("#talk-state")


def wait_for_events(page, *kinds: str, timeout: float = 60) -> list[str]:
    """The page's event trace once every one of `kinds` is in it."""
    wait_until(
        page,
        "kinds => kinds.every(k => window.ovosPlayground.events.includes(k))",
        list(kinds),
        timeout,
    )
    return page.evaluate("() => window.ovosPlayground.events")


RTP_STATS = """async () => {
    const stats = await window.ovosPlayground.transport.pc.getStats();
    const out = {samples: 0, energy: 0};
    stats.forEach(s => {
        if (s.type === "inbound-rtp" && s.kind === "audio") {
            out.samples += s.totalSamplesReceived || 0;
            out.energy += s.totalAudioEnergy || 0;
        }
    });
    return out;
}"""


def talk(page, transport: str) -> tuple[str, list[str]]:
    """Talk on `transport` until the answer is heard, then Stop: (what the page heard the user
    say, the events it saw)."""
    page.evaluate("() => { window.ovosPlayground.events = []; }")
    page.select_option("#transport", transport)
    page.click("#talk")
    page.wait_for_selector("#talk-state.live", timeout=30_000)
    assert page.evaluate("() => window.ovosPlayground.transport.kind") == transport
    # The clip is heard and transcribed into the page.
    user = page.locator("#transcript p.user span").last
    wait_for_events(page, "conversation.item.input_audio_transcription.completed", timeout=60)
    heard = user.inner_text()
    assert word_error_rate([CLIP["text"]], [heard]) <= 0.35, heard
    first_audio = {
        "webrtc": "output_audio_buffer.started",
        "websocket": "response.output_audio.delta",
    }
    wait_for_events(page, first_audio[transport], timeout=60)
    # Voice, not silence, reaches the page before Stop (frames of silence count as samples).
    heard_voice = {
        "webrtc": f"async () => (await ({RTP_STATS})()).energy > 0",
        "websocket": "() => window.ovosPlayground.transport.audioBytes > 48000 * 0.2",
    }
    wait_until(page, heard_voice[transport], timeout=20)
    page.click("#stop")
    return heard, page.evaluate("() => window.ovosPlayground.events")


def latency_ms(page) -> int:
    text = page.inner_text("#latency")
    assert re.fullmatch(r"\d+ ms", text), text
    return int(text.split()[0])


def hang_up(page, server) -> None:
    page.click("#talk")
    deadline = time.monotonic() + 15
    while (now := health(server))["calls"] + now["sessions"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert health(server)["calls"] == health(server)["sessions"] == 0


def test_talk_hear_the_answer_and_stop_it(browser, voice_server, tmp_path):
    """WebRTC first, then the WebSocket (the page's fallback), the same clip on each."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{voice_server.http_url}/")
        wait_until(page, "() => !document.getElementById('talk-state').textContent.endsWith('…')")
        assert state(page).startswith("Ready"), state(page)
        assert page.locator("#voice option").count() >= 1
        assert "ovos-realtime" in page.locator("#persona option").all_inner_texts()

        # WebRTC: the answer's audio comes over RTP while the server says it plays; Stop makes
        # the server drop what is left (output_audio_buffer.cleared).
        _, events = talk(page, "webrtc")
        events = wait_for_events(page, "output_audio_buffer.cleared", timeout=15)
        rtp = page.evaluate(RTP_STATS)
        assert rtp["samples"] > 48000 * 0.2 and rtp["energy"] > 0, rtp  # voice, not silence
        assert "error" not in events, events
        webrtc_ms = latency_ms(page)
        assert page.locator("#transcript p.assistant span").last.inner_text().strip(), events
        page.screenshot(path=str(tmp_path / "playground-webrtc.png"), full_page=True)
        hang_up(page, voice_server)

        # The WebSocket: pcm16 from the AudioWorklet in, audio deltas out, played in the page;
        # Stop silences what is scheduled here and cancels the response if it is still going.
        _, events = talk(page, "websocket")
        time.sleep(0.5)
        assert page.evaluate("() => window.ovosPlayground.transport.audioBytes") > 48000 * 0.2
        assert page.evaluate("() => window.ovosPlayground.transport.playing.size") == 0
        assert "error" not in events, events
        websocket_ms = latency_ms(page)
        page.screenshot(path=str(tmp_path / "playground-websocket.png"), full_page=True)
        hang_up(page, voice_server)
        print(f"end of speech → first audio: WebRTC {webrtc_ms} ms, WebSocket {websocket_ms} ms")
        assert not problems, problems
    finally:
        page.close()


@pytest.fixture(scope="module")
def keyed_text_server(server_factory):
    """A key and no speech engines: the page must ask for the key and mint a secret; the call
    itself is then refused with a clear message (no audio engines)."""
    return server_factory(text_server_config(server={"api_key": KEY}))


def test_with_a_key_the_page_asks_for_it_and_mints_a_secret(browser, keyed_text_server, tmp_path):
    page = browser.new_page()
    calls: list[dict] = []
    page.on(
        "request",
        lambda request: (
            request.url.split("?")[0].endswith("/v1/realtime/calls")
            and calls.append(request.headers)
        ),
    )
    try:
        page.goto(f"{keyed_text_server.http_url}/")
        page.wait_for_selector("#key-form:not([hidden])")
        assert "API key" in page.inner_text("#talk-state")
        page.fill("#key", KEY)
        page.click("#key-form button")
        wait_until(page, "() => document.querySelectorAll('#persona option').length")

        page.click("#talk")
        page.wait_for_selector("#talk-state.error", timeout=30_000)
        assert "audio engines" in page.inner_text("#talk-state")
        assert len(calls) == 1
        token = calls[0]["authorization"].removeprefix("Bearer ")
        assert token.startswith("ek_") and KEY not in str(calls[0])
        page.screenshot(path=str(tmp_path / "playground-key.png"), full_page=True)
    finally:
        page.close()


def test_unreachable_server_is_said_plainly(browser, keyed_text_server):
    """The page was loaded, then the server went away."""
    page = browser.new_page()
    try:
        page.goto(f"{keyed_text_server.http_url}/")
        page.wait_for_selector("#key-form:not([hidden])")
        page.route("**/v1/**", lambda route: route.abort("connectionrefused"))
        page.fill("#key", KEY)
        page.click("#key-form button")
        wait_until(
            page, "() => document.getElementById('talk-state').textContent.includes('reach')"
        )
        assert "cannot be reached" in state(page), state(page)
    finally:
        page.close()


def test_a_refused_microphone_is_said_plainly(playwright, keyed_text_server, tmp_path):
    """No fake permission UI: headless Chromium dismisses the microphone prompt."""
    context = launch(playwright, tmp_path, microphone_allowed=False)
    try:
        page = context.new_page()
        page.goto(f"{keyed_text_server.http_url}/")
        page.wait_for_selector("#key-form:not([hidden])")
        page.click("#talk")
        wait_until(page, "() => document.getElementById('talk-state').textContent.includes('mic')")
        assert "microphone was refused" in state(page), state(page)
        assert page.inner_text("#talk") == "Talk"
    finally:
        context.close()
