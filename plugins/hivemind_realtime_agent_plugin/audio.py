"""The binary protocol: audio satellites heard and answered by the ovos-realtime server.

RAW_AUDIO from a satellite streams, chunk by chunk as it arrives, into that satellite's Realtime
session (the agent protocol's link): the server's dual VAD detects the turn, its streaming STT
transcribes it while it is spoken, the persona answers (one `speak` per clause, from the agent
protocol) and speech during an answer cancels it (barge-in). `speak:synth` and `speak:b64_audio`
are synthesized by the server's `/v1/audio/speech` and sent back as TTS_AUDIO (a WAV file, with
`lang`, `file_name` and `utterance` metadata, as hivemind-audio-binary-protocol sends) or base64.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import struct
from typing import Any

import httpx
from hivemind_bus_client.message import HiveMessage, HiveMessageType, HiveMindBinaryPayloadType
from hivemind_plugin_manager.protocols import BinaryDataHandlerProtocol, ClientCallbacks
from ovos_bus_client.message import Message

from hivemind_realtime_agent_plugin import topics
from hivemind_realtime_agent_plugin.agent import RealtimeAgentProtocol
from hivemind_realtime_agent_plugin.settings import AgentSettings

LOG = logging.getLogger(__name__)

SPEECH_RATE = 24000  # /v1/audio/speech's pcm
RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
MAX_CHUNK_BYTES = 1 << 20  # one RAW_AUDIO message: ~30 s at 16 kHz is already far too much
MAX_SYNTH_CHARS = 4000


def wav_file(pcm: bytes, rate: int) -> bytes:
    """A complete 16-bit mono WAV (sizes filled in, unlike a streamed header)."""
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + b"data" + struct.pack("<I", len(pcm)) + pcm


@dataclasses.dataclass
class RealtimeAudioProtocol(BinaryDataHandlerProtocol):
    config: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        agent = self.agent_protocol
        if not isinstance(agent, RealtimeAgentProtocol):
            raise TypeError(
                "hivemind-realtime-audio-plugin needs agent_protocol.module "
                "'hivemind-realtime-agent-plugin' (it streams into that agent's sessions)"
            )
        self.agent: RealtimeAgentProtocol = agent
        # Settings of the agent block, overridden by this block's (e.g. another voice).
        self.settings = AgentSettings.from_config({**agent.config, **self.config})
        self.callbacks = ClientCallbacks()
        self._http = httpx.AsyncClient(timeout=60)
        self._warned: set[tuple[str, str]] = set()
        agent.bus.on(topics.SPEAK_SYNTH, agent._guard(self.handle_speak_synth))
        agent.bus.on(topics.SPEAK_B64, agent._guard(self.handle_speak_b64))

    # ---- audio in (hub's network thread) ----

    def handle_microphone_input(
        self, bin_data: bytes, sample_rate: int, sample_width: int, client: Any
    ) -> None:
        peer = client.peer
        problem = None
        if sample_width != 2:
            problem = f"sample_width {sample_width!r} (16-bit only)"
        elif sample_rate not in RATES:
            problem = f"sample_rate {sample_rate!r} (one of {RATES})"
        elif not isinstance(bin_data, bytes | bytearray) or len(bin_data) % 2:
            problem = "a payload that is no 16-bit PCM"
        elif len(bin_data) > MAX_CHUNK_BYTES:
            problem = f"a chunk of {len(bin_data)} bytes (at most {MAX_CHUNK_BYTES})"
        if problem is not None:
            if (peer, problem) not in self._warned:  # once per satellite and problem
                self._warned.add((peer, problem))
                LOG.warning("[%s] RAW_AUDIO with %s: dropped", peer, problem)
            return
        if not bin_data:
            return
        self.agent.capture_wire_loop()
        self.agent.link_for(client).post("audio", (bytes(bin_data), sample_rate))

    # ---- speech out ----

    def handle_speak_synth(self, message: Message) -> None:
        self._synth_request(message, binary=True)

    def handle_speak_b64(self, message: Message) -> None:
        self._synth_request(message, binary=False)

    def _synth_request(self, message: Message, binary: bool) -> None:
        peer = message.context.get("source")
        if not isinstance(peer, str) or peer not in self.agent.clients:
            LOG.warning(
                "%s from %r, which is no connected satellite: dropped", message.msg_type, peer
            )
            return
        text = message.data.get("utterance")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_SYNTH_CHARS:
            LOG.warning("[%s] %s without a usable utterance: dropped", peer, message.msg_type)
            return
        self.agent.capture_wire_loop()
        self.agent.runner.submit(self._synth(peer, message, text, binary))

    async def _synth(self, peer: str, message: Message, text: str, binary: bool) -> None:
        try:
            response = await self._http.post(
                f"{self.settings.http_url}/audio/speech",
                json={
                    "model": "tts-1",
                    "voice": self.settings.voice,
                    "input": text,
                    "response_format": "pcm",
                },
                headers=(
                    {"Authorization": f"Bearer {self.settings.api_key}"}
                    if self.settings.api_key
                    else {}
                ),
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            LOG.error("[%s] speech synthesis failed: %r", peer, exc)
            return
        wav = wav_file(response.content, SPEECH_RATE)
        lang = message.data.get("lang") or "en-US"
        if binary:
            name = hashlib.md5(text.encode()).hexdigest() + ".wav"
            out = HiveMessage(
                HiveMessageType.BINARY,
                payload=wav,
                metadata={"lang": lang, "file_name": name, "utterance": text},
                bin_type=HiveMindBinaryPayloadType.TTS_AUDIO,
            )
            self.agent.send_hive(peer, out)
        else:
            data = {**message.data, "audio": base64.b64encode(wav).decode()}
            reply = message.reply(topics.SPEAK_B64_RESPONSE, data)
            self.agent.send_to(peer, reply)
        LOG.debug("[%s] %d bytes of speech for %r", peer, len(wav), text[:60])
