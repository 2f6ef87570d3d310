"""HiveMind plugins that answer satellites with a running `ovos-realtime serve`.

- `RealtimeAgentProtocol` (entry point group `hivemind.agent.protocol`, name
  `hivemind-realtime-agent-plugin`): every satellite utterance is a turn of that satellite's own
  Realtime session; the answer goes back to that satellite only, one `speak` per clause.
- `RealtimeAudioProtocol` (`hivemind.binary.protocol`, `hivemind-realtime-audio-plugin`): a
  satellite's RAW_AUDIO streams into the same session (the server's VAD, streaming STT and
  barge-in), and `speak:synth` / `speak:b64_audio` are answered with the server's TTS.

The plugins run inside hivemind-core's process and hold no model: the models stay loaded once, in
the server. They import nothing of hivemind-core (AGPL-3.0), only hivemind-plugin-manager's base
classes and hivemind-bus-client's message types.
"""

from hivemind_realtime_agent_plugin.agent import RealtimeAgentProtocol
from hivemind_realtime_agent_plugin.audio import RealtimeAudioProtocol
from hivemind_realtime_agent_plugin.settings import AgentSettings

__all__ = ["AgentSettings", "RealtimeAgentProtocol", "RealtimeAudioProtocol"]
