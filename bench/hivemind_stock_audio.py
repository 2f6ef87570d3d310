"""The stock HiveMind audio path (hivemind-audio-binary-protocol 2.1.5) made runnable in the
benchmark's hub (bench/hivemind_latency.py), with two plainly labelled stand-ins. Both are loaded
in the hub's process only.

1. TEST DOUBLE of the satellite's wake word. The stock protocol runs ovos-simple-listener per
   satellite, which records only after a wake-word plugin fires. The wake word is the satellite
   user's "hey Mycroft", not part of what bench/hivemind_latency.py measures (end of speech →
   first TTS audio), and no offline wake-word plugin with its own model is installed here. The
   double fires on the first chunk that is not digital silence, i.e. when the satellite starts
   streaming a clip (the bench sends exact zeros between clips), so the listener records the
   whole clip. The listener's end of speech (1.5 s of VAD silence), its batch STT and the
   protocol's TTS are the stock code, unchanged.

2. The stock protocol, with its writes posted to the hub's IOLoop. The stock listener thread
   calls `client.send` itself (record_begin, the utterance, …) while the hub's IOLoop thread
   writes too; tornado's handlers are not thread-safe. In the first bench run with the
   unchanged class a satellite got a corrupt frame ("Error -3 while decompressing data") and
   lost its connection; a later run of the unchanged class did not, so the link is likely, not
   shown. The listener thread also injects the transcript with the hub's `handle_message`,
   which updates the client's row in the hub's JSON database while the IOLoop does the same for
   the arriving audio; in one run the row read back as None (`update_last_seen`), the error was
   uncaught and the satellite was disconnected. `LoopSafeAudioBinaryProtocol` is the stock class
   with only those two calls moved onto the IOLoop (`add_callback`, thread-safe) — what our own
   plugins do (plugins/hivemind_realtime_agent_plugin/agent.py, `send_hive`). It adds no
   decoding, no synthesis and no waiting, so the stock path's latency is its own.

`register(env, folder)` writes a minimal `*.dist-info` with both entry points into `folder` and
puts that folder and the repository on the process's PYTHONPATH (ovos-plugin-manager and
hivemind-plugin-manager find plugins by entry point).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from hivemind_audio_binary_protocol.protocol import AudioBinaryProtocol
from hivemind_core.protocol import HiveMindClientConnection
from ovos_plugin_manager.templates.hotwords import HotWordEngine
from tornado import ioloop

WAKE_WORD_PLUGIN = "ovos-ww-plugin-stream-start-test-double"
BINARY_PLUGIN = "hivemind-audio-binary-protocol-loop-safe"
REPO = Path(__file__).resolve().parents[1]


class StreamStartWakeWord(HotWordEngine):
    """TEST DOUBLE: fires on the first chunk with any non-zero sample (see the module's doc)."""

    def __init__(self, key_phrase: str = "stream start", config: dict[str, Any] | None = None):
        super().__init__(key_phrase, config or {})
        self._heard = False

    def update(self, chunk: bytes) -> None:
        samples = np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype="<i2")
        self._heard = bool(samples.size and np.any(samples))

    def found_wake_word(self, frame_data: bytes | None = None) -> bool:
        heard, self._heard = self._heard, False
        return heard

    def reset(self) -> None:
        self._heard = False


class LoopSafeAudioBinaryProtocol(AudioBinaryProtocol):
    """The stock protocol; a satellite's frames are written on the hub's IOLoop thread."""

    def add_listener(self, client: HiveMindClientConnection) -> None:
        from hivemind_websocket_protocol import HiveMindTornadoWebSocket

        loop, send = HiveMindTornadoWebSocket.loop, client.send_msg
        client.send_msg = lambda payload, is_bin: loop.add_callback(send, payload, is_bin)
        hub = self.hm_protocol
        if not getattr(hub, "_loop_safe", False):
            # The listener thread also injects the transcript with hub.handle_message, which
            # updates the client's row in the JSON database while the IOLoop does the same for
            # the audio arriving: a run saw the row read back as None, an uncaught error and
            # the satellite disconnected. Run it on the loop too.
            handle = hub.handle_message

            def on_loop(message: Any, peer: HiveMindClientConnection) -> None:
                if ioloop.IOLoop.current(instance=False) is loop:
                    handle(message, peer)
                else:
                    loop.add_callback(handle, message, peer)

            hub.handle_message, hub._loop_safe = on_loop, True
        super().add_listener(client)


def stock_audio_config(engines: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The protocol's config: `engines` has the stt / tts / vad blocks; the wake word is the
    double's."""
    hotwords = {"stream_start": {"module": WAKE_WORD_PLUGIN}}
    return {**engines, "wakeword": "stream_start", "hotwords": hotwords}


def register(env: dict[str, str], folder: Path) -> None:
    """Make both plugins loadable by name in a process started with `env`."""
    info = folder / "hivemind_stock_audio_test_plugins-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hivemind-stock-audio-test-plugins\nVersion: 0.0.0\n"
    )
    (info / "entry_points.txt").write_text(
        f"[opm.wake_word]\n{WAKE_WORD_PLUGIN} = bench.hivemind_stock_audio:StreamStartWakeWord\n"
        f"[hivemind.binary.protocol]\n"
        f"{BINARY_PLUGIN} = bench.hivemind_stock_audio:LoopSafeAudioBinaryProtocol\n"
    )
    paths = [str(folder), str(REPO), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
