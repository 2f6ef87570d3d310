"""The playground at `/` in a real headless Chromium (Debian's `chromium`, driven by Playwright
with `executable_path`; Playwright downloads no browser of its own). Chromium's fake microphone
plays a real speech clip from the corpus; the page calls the server over WebRTC on 127.0.0.1,
the user's transcript appears, the answer's audio arrives, Stop cuts it short. With an API key
the page asks for it and puts only a minted client secret on the call.

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


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(sudo apt-get install --no-install-recommends chromium), or run `make test`, "
            "which does."
        )
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("chromium")
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fake_microphone(tmp / 'mic.wav')}",
        # The server offers 127.0.0.1 only (webrtc.host_addresses); Chromium leaves loopback
        # out of its own candidates unless told.
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as playwright:
        # launch_persistent_context: a fresh --user-data-dir of our own.
        context = playwright.chromium.launch_persistent_context(
            str(tmp / "profile"), executable_path=str(CHROMIUM), headless=True, args=args
        )
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


def test_talk_over_webrtc_hear_the_answer_and_stop_it(browser, voice_server, tmp_path):
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{voice_server.http_url}/")
        wait_until(page, "() => !document.getElementById('talk-state').textContent.endsWith('…')")
        assert state(page).startswith("Ready"), state(page)
        assert page.locator("#voice option").count() >= 1
        assert "ovos-realtime" in page.locator("#persona option").all_inner_texts()

        page.click("#talk")
        page.wait_for_selector("#talk-state.live", timeout=30_000)
        assert "WebRTC" in page.inner_text("#talk-state")
        assert page.evaluate("() => window.ovosPlayground.transport.kind") == "webrtc"

        # The clip is heard and transcribed into the page.
        user = page.locator("#transcript p.user span")
        user.first.wait_for(timeout=60_000)
        wait_until(
            page,
            "() => document.querySelector('#transcript p.user span').textContent.length > 10",
            timeout=60,
        )
        heard = user.first.inner_text()
        assert word_error_rate([CLIP["text"]], [heard]) <= 0.35, heard

        # The answer's audio arrives over RTP while the server says it plays; Stop clears it.
        wait_for_events(page, "output_audio_buffer.started", timeout=60)
        page.click("#stop")
        events = wait_for_events(page, "output_audio_buffer.cleared", timeout=15)
        samples = page.evaluate(
            """async () => {
                const stats = await window.ovosPlayground.transport.pc.getStats();
                let samples = 0;
                stats.forEach(s => {
                    if (s.type === "inbound-rtp" && s.kind === "audio")
                        samples += s.totalSamplesReceived || 0;
                });
                return samples;
            }"""
        )
        assert samples > 48000 * 0.2, samples  # more than 0.2 s of the voice came in
        assert "error" not in events, events
        assert re.fullmatch(r"\d+ ms", page.inner_text("#latency")), page.inner_text("#latency")
        assistant = page.locator("#transcript p.assistant span").first.inner_text()
        assert assistant.strip(), events
        page.screenshot(path=str(tmp_path / "playground-webrtc.png"), full_page=True)

        page.click("#talk")  # Hang up
        deadline = time.monotonic() + 15
        while health(voice_server)["calls"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert health(voice_server)["calls"] == 0
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
