"""ovos_realtime_plugin_common: the code the VAD, STT and TTS plugins share."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import ovos_stt_plugin_whisper_streaming.models as stt_models
import ovos_tts_plugin_onnx_stream.models as tts_models
import ovos_vad_plugin_dual.models as vad_models
import pytest
from ovos_realtime.brain import models as llm_models
from ovos_realtime_plugin_common.cache import cache_dir
from ovos_realtime_plugin_common.packages import package_dir, package_file
from ovos_realtime_plugin_common.resample import FrameResampler, Resampler, resample
from ovos_realtime_plugin_common.split_files import JoinError, join_files, join_folders


def _tones(rate: int, seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 3100 * t)).astype(
        np.float32
    )


# -- resampling ------------------------------------------------------------------------------


@pytest.mark.parametrize(("rate_in", "rate_out"), [(48000, 16000), (24000, 16000), (8000, 16000)])
def test_streamed_chunks_join_without_clicks(rate_in, rate_out):
    """Chunks of any size, then flush(): the same samples as resampling the clip at once, so no
    click, gap or repeat where chunks meet."""
    clip = _tones(rate_in)
    whole = resample(clip, rate_in, rate_out)
    assert abs(len(whole) - len(clip) * rate_out / rate_in) <= 1
    resampler = Resampler(rate_in, rate_out)
    sizes = np.random.default_rng(7).integers(1, 2000, size=len(clip))
    out, start = [], 0
    for size in sizes:
        if start >= len(clip):
            break
        out.append(resampler.process(clip[start : start + size]))
        start += size
    out.append(resampler.flush())
    streamed = np.concatenate(out)
    assert len(streamed) == len(whole)
    assert np.max(np.abs(streamed - whole)) < 1e-4
    # No click: sample-to-sample steps stay within what the tones themselves do.
    assert np.max(np.abs(np.diff(streamed))) <= np.max(np.abs(np.diff(whole))) + 1e-4


@pytest.mark.parametrize("rate_in", [8000, 16000, 24000, 32000, 48000])
def test_frame_resampler_gives_one_frame_per_frame(rate_in):
    """The VAD's 32 ms frames: exactly 512 samples at 16 kHz per frame, a constant latency late."""
    frame = rate_in * 32 // 1000
    clip = _tones(rate_in)
    resampler = FrameResampler(rate_in, 16000, frame)
    frames = [
        resampler.process(clip[i : i + frame]) for i in range(0, len(clip) - frame + 1, frame)
    ]
    assert {len(f) for f in frames} == {512}
    out = np.concatenate(frames)
    latency = resampler.latency
    assert latency == 0 if rate_in == 16000 else 0 < latency <= 16000 * 0.12
    assert not np.any(out[:latency])
    whole = resample(clip, rate_in, 16000)
    assert np.max(np.abs(out[latency:] - whole[: len(out) - latency])) < 1e-4


def test_passthrough_and_bad_rates():
    x = np.arange(10, dtype=np.float32)
    assert np.array_equal(Resampler(16000, 16000).process(x), x)
    assert np.array_equal(resample(x, 16000, 16000), x)
    with pytest.raises(ValueError, match="positive"):
        Resampler(0, 16000)


# -- cache, packages -------------------------------------------------------------------------


def test_the_plugins_share_one_model_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = tmp_path / "ovos-realtime" / "models"
    assert cache_dir() == expected == llm_models.user_model_cache()  # the LLM looks there too
    assert stt_models.cache_dir() == vad_models.cache_dir() == tts_models.cache_dir() == expected
    assert stt_models.cached_model_dir("small").parent == expected
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "ovos-realtime" / "models"


def test_package_folder_is_found_without_importing_it():
    folder = package_dir("ovos_realtime_plugin_common")
    assert folder is not None and (folder / "cache.py").is_file()
    assert package_file("ovos_realtime_plugin_common", "cache.py") == folder / "cache.py"
    assert package_file("ovos_realtime_plugin_common", "nothing.bin") is None
    assert package_dir("no_such_package_here") is None


# -- split files -----------------------------------------------------------------------------


def test_join_files_checks_sha256_and_joins_once(tmp_path):
    pieces = []
    for i, blob in enumerate((b"abc", b"def", b"g")):
        pieces.append(tmp_path / f"part{i}.bin")
        pieces[-1].write_bytes(blob)
    target = tmp_path / "cache" / "model.onnx"
    with pytest.raises(JoinError, match="sha256"):
        join_files(pieces, target, sha256="0" * 64)
    assert not target.exists() and list(target.parent.iterdir()) == []
    sha = hashlib.sha256(b"abcdefg").hexdigest()
    assert join_files(pieces, target, sha256=sha).read_bytes() == b"abcdefg"
    stamp = target.stat().st_mtime_ns
    assert join_files(pieces, target, sha256=sha).stat().st_mtime_ns == stamp


def test_join_folders_merges_parts_in_order(tmp_path):
    one, two = tmp_path / "pkg1", tmp_path / "pkg2"
    for folder in (one, two):
        folder.mkdir()
        (folder / "__init__.py").write_text("")
    (one / "config.json").write_text("{}")
    # Part numbers sort as numbers (part10 after part2), across packages.
    for index, folder in ((0, one), (2, one), (10, two), (1, two)):
        (folder / f"model.bin.part{index}").write_bytes(str(index).encode())

    def complete(path):
        return (path / "model.bin").is_file() and (path / "config.json").is_file()

    target = join_folders([one, two], tmp_path / "cache" / "model", complete)
    assert (target / "model.bin").read_bytes() == b"01210"
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "model.bin"]
    assert join_folders([one], target, complete) == target  # already there: reused
    with pytest.raises(JoinError):
        join_folders([two], tmp_path / "cache" / "other", complete)  # no config.json
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["model"]
