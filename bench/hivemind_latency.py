"""HiveMind satellites through a real hivemind-core hub: our plugins beside the stock path, in one
run, rounds alternating. Prints JSON (seconds: n, median, p95 nearest rank).

- text satellite, `recognizer_loop:utterance` sent → first `speak`:
  ours:  hivemind-realtime-agent-plugin → `ovos-realtime serve` (the configured LLM; default the
         embedded SmolLM2, voice on);
  stock: hivemind-ovos-agent-plugin → ovos-messagebus + ovos-core (its intent pipeline and the
         reference skill answer "what time is it"; no LLM on that path).
- raw-audio satellite, last sample of speech sent → first TTS_AUDIO (the satellite asks for
  speech with `speak:synth` at its first `speak`, as hivemind-mic-satellite does):
  ours:  hivemind-realtime-audio-plugin (the server's VAD, streaming STT, LLM and TTS);
  stock: hivemind-audio-binary-protocol is not run: its listener (ovos-simple-listener) waits for
         a wake word before it records, and no offline wake-word plugin is installed here
         (reported as such in the output).

    python bench/hivemind_latency.py --runs 8 [--text-only]

Needs the dev requirements (hivemind-core, ovos-core). Uses the test fixtures' hub and satellite.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import ServerProcess
from tests.corpus import load_clip
from tests.hivemind_fixtures import Hub, Satellite
from tests.ovos_fixtures import OvosProcesses, mycroft_conf

RATE = 16000
CHUNK = 1024
CLIPS = ["vctk_p317_166.wav", "cmuarctic_axb_arctic_a0004.wav", "ljspeech_LJ001-0013.wav"]


class PatientServer(ServerProcess):
    """`ovos-realtime serve` with the product's defaults; on a busy 2-core machine loading the
    LLM and the voice engines can take minutes."""

    def _wait_ready(self, timeout: float = 900) -> None:
        super()._wait_ready(timeout)


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(values),
        "median_s": round(statistics.median(values), 3),
        "p95_s": round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 3),
    }


def text_turn(sat: Satellite, text: str) -> float:
    sat.drain()
    start = time.monotonic()
    sat.say(text)
    sat.next("speak", timeout=60)
    first = time.monotonic() - start
    sat.next("ovos.utterance.handled", timeout=60)
    return first


def audio_turn(sat: Satellite, clip: np.ndarray) -> float:
    sat.drain()
    while not sat.tts.audio.empty():
        sat.tts.audio.get_nowait()
    start = time.monotonic()
    samples = np.concatenate([clip, np.zeros(int(1.5 * RATE), np.int16)])
    speech_end = None
    for index, offset in enumerate(range(0, samples.size, CHUNK)):
        sat.send_audio(samples[offset : offset + CHUNK].astype("<i2").tobytes(), RATE)
        if speech_end is None and offset + CHUNK >= clip.size:
            speech_end = time.monotonic()
        delay = start + (index + 1) * CHUNK / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    first = sat.next("speak", timeout=60)
    sat.emit("speak:synth", {"utterance": first.data["utterance"], "lang": "en-US"})
    sat.tts.audio.get(timeout=60)
    took = time.monotonic() - speech_end
    sat.next("ovos.utterance.handled", timeout=60)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--text-only", action="store_true")
    args = parser.parse_args()
    from ovos_utils.log import LOG

    LOG.set_level("ERROR")  # hivemind-bus-client logs every message to stdout: keep it JSON
    out: dict = {"runs": args.runs}
    allow = ("mycroft.stop", "speak:synth")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = PatientServer(tmp, {"log_level": "warning"})
        out["llm"] = httpx.get(f"{server.http_url}/health", timeout=10).json().get("llm")
        (tmp / "ovos").mkdir()
        ovos = OvosProcesses(tmp / "ovos")
        ovos.start_bus()
        ovos.start_core()
        ours = Hub(
            tmp / "ours",
            ("hivemind-realtime-agent-plugin", {"url": server.ws_base}),
            ("hivemind-realtime-audio-plugin", {}),
        )
        stock = Hub(
            tmp / "stock",
            ("hivemind-ovos-agent-plugin", {"host": "127.0.0.1", "port": ovos.port}),
            mycroft_conf=mycroft_conf(ovos.port),
        )
        try:
            ours_creds = ours.add_clients(("text", "mic"), allow)
            stock_creds = stock.add_clients(("text",), allow)
            ours.start()
            stock.start()
            ours_text = Satellite(ours, "text", *ours_creds["text"])
            stock_text = Satellite(stock, "text", *stock_creds["text"])
            text_turn(ours_text, "hello")  # warm-up, not counted
            text_turn(stock_text, "what time is it")
            mine, theirs = [], []
            for _ in range(args.runs):
                mine.append(text_turn(ours_text, "what time is it"))
                theirs.append(text_turn(stock_text, "what time is it"))
            out["text: utterance → first speak"] = {
                "ours (realtime agent → ovos-realtime serve)": stats(mine),
                "stock (hivemind-ovos-agent-plugin → ovos-core + skill)": stats(theirs),
            }
            if not args.text_only:
                mic = Satellite(ours, "mic", *ours_creds["mic"])
                clips = [load_clip(name, RATE) for name in CLIPS]
                audio_turn(mic, clips[0])  # warm-up
                took = [audio_turn(mic, clips[i % len(clips)]) for i in range(args.runs)]
                out["raw audio: end of speech → first TTS_AUDIO"] = {
                    "ours (realtime audio plugin → server voice loop)": stats(took),
                    "stock (hivemind-audio-binary-protocol)": "not measured: its listener "
                    "waits for a wake word and no offline wake-word plugin is installed",
                }
        finally:
            ours.stop()
            stock.stop()
            ovos.stop()
            server.stop()
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
