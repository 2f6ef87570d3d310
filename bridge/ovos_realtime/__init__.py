"""ovos-realtime: a local OpenAI Realtime API drop-in built on OpenVoiceOS plugins."""

from ovos_realtime.version import __version__

__all__ = ["__version__"]
