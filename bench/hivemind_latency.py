"""HiveMind satellites through a real hivemind-core hub: our plugins beside the stock path, in one
run, rounds alternating. Prints JSON (seconds: n, median, p95 nearest rank).

- text satellite, `recognizer_loop:utterance` sent → first `speak`:
  ours:  hivemind-realtime-agent-plugin → `ovos-realtime serve` (the configured LLM; default the
         embedded LLM, voice on; the JSON names the engines);
  stock: hivemind-ovos-agent-plugin → ovos-messagebus + ovos-core (its intent pipeline and the
         reference skill answer "what time is it"; no LLM on that path).
- raw-audio satellite, last sample of speech sent → first TTS_AUDIO (the satellite streams its
  clip in real time, then digital silence until the answer is done, and asks for speech with
  `speak:synth` at its first `speak`, as hivemind-mic-satellite does), the same corpus clips
  for both, rounds alternating; with its parts: → the transcript echoed to the satellite
  (`recognizer_loop:utterance`) and → the first `speak`:
  ours:  hivemind-realtime-audio-plugin (the server's dual VAD, streaming STT, LLM and TTS);
  stock: hivemind-audio-binary-protocol (ovos-simple-listener: records until 1.5 s of silence,
         then batch STT; `speak:synth` synthesises the whole answer) loaded with the same
         engines as OVOS plugins (ovos-vad-plugin-dual, ovos-stt-plugin-whisper-streaming,
         ovos-tts-plugin-phoonnx-stream), with hivemind-realtime-agent-plugin as its agent so
         both answer with the same LLM (hivemind-ovos-agent-plugin has nothing to say to the
         corpus sentences: only the reference skill is installed). Two labelled stand-ins from
         bench/hivemind_stock_audio.py run in its hub: a TEST DOUBLE of the satellite's wake
         word (fires when the clip starts; the wake word is not part of what is measured) and
         the stock class with its listener thread's socket writes posted to the hub's IOLoop
         (`--stock-as-is`: the class unchanged).

    python bench/hivemind_latency.py --runs 8 [--text-only | --audio-only] [--logs DIR]

Needs the dev requirements (hivemind-core, ovos-core) and requirements/bench.txt (the stock
binary protocol). Uses the test fixtures' hub and satellite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import shutil
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _stats import summary

from bench.hivemind_stock_audio import BINARY_PLUGIN, register, stock_audio_config
from tests.conftest import ServerProcess
from tests.corpus import load_clip
from tests.hivemind_fixtures import Hub, Satellite
from tests.ovos_fixtures import OvosProcesses, mycroft_conf

RATE = 16000
CHUNK = 1024
SILENCE = np.zeros(CHUNK, np.int16)
CLIPS = ["vctk_p317_166.wav", "cmuarctic_axb_arctic_a0004.wav", "ljspeech_LJ001-0013.wav"]
# n, median and p95 in seconds, to the millisecond.
stats = partial(summary, unit="_s", digits=3)


class PatientServer(ServerProcess):
    """`ovos-realtime serve` with the product's defaults; on a busy 2-core machine loading the
    LLM and the voice engines can take minutes."""

    def _wait_ready(self, timeout: float = 900) -> None:
        super()._wait_ready(timeout)


def text_turn(sat: Satellite, text: str) -> float:
    sat.drain()
    start = time.monotonic()
    sat.say(text)
    sat.next("speak", timeout=60)
    first = time.monotonic() - start
    sat.next("ovos.utterance.handled", timeout=60)
    return first


def audio_turn(sat: Satellite, clip: np.ndarray) -> dict[str, float]:
    """Seconds from the last chunk of speech sent to the transcript the hub echoes to the
    satellite (`recognizer_loop:utterance`, both paths send it), to the first `speak` and to
    the first TTS_AUDIO received."""
    sat.drain()
    while not sat.tts.audio.empty():
        sat.tts.audio.get_nowait()
    done = threading.Event()
    speech_end: list[float] = []
    feeder = threading.Thread(target=stream, args=(sat, clip, done, speech_end), daemon=True)
    feeder.start()
    try:
        first = sat.next("speak", timeout=90)
        end = speech_end[0]
        took = {"speak": time.monotonic() - end}
        sat.emit("speak:synth", {"utterance": first.data["utterance"], "lang": "en-US"})
        sat.tts.audio.get(timeout=60)
        took["tts_audio"] = time.monotonic() - end
        heard = sat.first_arrival("recognizer_loop:utterance", after=end)
        took["transcript"] = heard - end if heard is not None else math.nan
        sat.next("ovos.utterance.handled", timeout=60)
    finally:
        done.set()
        feeder.join()
    return took


def stream(sat: Satellite, clip: np.ndarray, done: threading.Event, speech_end: list) -> None:
    """The clip in real time, then digital silence (a live microphone keeps streaming) until
    `done`: neither path waits on audio that stopped coming."""
    start = time.monotonic()
    padded = np.concatenate([clip, np.zeros(-clip.size % CHUNK, np.int16)])
    index = 0
    while not done.is_set() and index * CHUNK < padded.size + 120 * RATE:
        offset = index * CHUNK
        chunk = padded[offset : offset + CHUNK] if offset < padded.size else SILENCE
        sat.send_audio(chunk.astype("<i2").tobytes(), RATE)
        if not speech_end and offset + CHUNK >= clip.size:
            speech_end.append(time.monotonic())
        index += 1
        delay = start + index * CHUNK / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)


STOCK_AS_IS = "hivemind-audio-binary-protocol-plugin"
# The server's own engines (VoiceSettings' defaults), as OVOS plugins in the stock protocol.
ENGINES = {
    "stt": {"module": "ovos-stt-plugin-whisper-streaming"},
    "tts": {"module": "ovos-tts-plugin-phoonnx-stream"},
    "vad": {"module": "ovos-vad-plugin-dual"},
}


def keep_logs(tmp: Path, folder: Path) -> None:
    """Copies the server's and the hubs' logs (the run's folder is deleted at exit)."""
    folder.mkdir(parents=True, exist_ok=True)
    for log in [*tmp.glob("*.log"), *tmp.glob("*/*.log")]:
        shutil.copy(log, folder / f"{log.parent.name}-{log.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--text-only", action="store_true")
    parser.add_argument("--audio-only", action="store_true")
    parser.add_argument(
        "--stock-as-is",
        action="store_true",
        help="the stock protocol class itself, its listener thread writing to the socket",
    )
    parser.add_argument("--logs", help="copy the server's and hubs' logs into this folder")
    args = parser.parse_args()
    from ovos_utils.log import LOG

    LOG.set_level("ERROR")  # hivemind-bus-client logs every message to stdout: keep it JSON
    out: dict = {"runs": args.runs}
    allow = ("mycroft.stop", "speak:synth")
    with tempfile.TemporaryDirectory() as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        if args.logs:
            stack.callback(keep_logs, tmp, Path(args.logs))
        server = PatientServer(tmp, {"log_level": "warning"})
        stack.callback(server.stop)
        health = httpx.get(f"{server.http_url}/health", timeout=10).json()
        out["engines"] = health.get("engines")
        out["clips"] = CLIPS
        agent = ("hivemind-realtime-agent-plugin", {"url": server.ws_base})
        ours = Hub(tmp / "ours", agent, ("hivemind-realtime-audio-plugin", {}))
        ours_creds = ours.add_clients(("text", "mic"), allow)
        stack.callback(ours.stop)
        ours.start()
        if not args.audio_only:
            (tmp / "ovos").mkdir()
            ovos = OvosProcesses(tmp / "ovos")
            stack.callback(ovos.stop)
            ovos.start_bus()
            ovos.start_core()
            stock = Hub(
                tmp / "stock",
                ("hivemind-ovos-agent-plugin", {"host": "127.0.0.1", "port": ovos.port}),
                mycroft_conf=mycroft_conf(ovos.port),
            )
            stock_creds = stock.add_clients(("text",), allow)
            stack.callback(stock.stop)
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
            stock_audio = Hub(
                tmp / "stock-audio",
                agent,
                (STOCK_AS_IS if args.stock_as_is else BINARY_PLUGIN, stock_audio_config(ENGINES)),
            )
            register(stock_audio.env, tmp / "stock-audio-test-plugins")
            stock_audio_creds = stock_audio.add_clients(("mic",), allow)
            stack.callback(stock_audio.stop)
            stock_audio.start(timeout=600)  # it loads the STT, TTS and VAD first
            mic = Satellite(ours, "mic", *ours_creds["mic"])
            stock_mic = Satellite(stock_audio, "mic", *stock_audio_creds["mic"])
            clips = [load_clip(name, RATE) for name in CLIPS]
            audio_turn(mic, clips[0])  # warm-ups: first decodes, first synthesis
            audio_turn(stock_mic, clips[0])
            mine, theirs = [], []
            for i in range(args.runs):
                mine.append(audio_turn(mic, clips[i % len(clips)]))
                theirs.append(audio_turn(stock_mic, clips[i % len(clips)]))
            out["raw audio: end of speech → first TTS_AUDIO"] = {
                "ours (hivemind-realtime-audio-plugin → server voice loop)": stats(
                    [t["tts_audio"] for t in mine]
                ),
                "stock (hivemind-audio-binary-protocol, same engines, same agent)": stats(
                    [t["tts_audio"] for t in theirs]
                ),
            }
            for stage in ("transcript", "speak"):
                out[f"raw audio: end of speech → {stage} (part of the above)"] = {
                    "ours": stats([t[stage] for t in mine if not math.isnan(t[stage])]),
                    "stock": stats([t[stage] for t in theirs if not math.isnan(t[stage])]),
                }
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
