"""Resampling lives in the plugins' common package (soxr); these names stay importable here."""

from ovos_realtime_plugin_common.resample import FrameResampler, Resampler, resample

__all__ = ["FrameResampler", "Resampler", "resample"]
