"""Code the ovos-realtime plugins share (VAD, STT, TTS), one job per module.

- `cache`: the user's model cache folder.
- `packages`: the folder of an installed (model) package, without importing it.
- `split_files`: models split across several PyPI packages, joined once into the cache.
- `resample`: sample-rate conversion with soxr, one-shot and streaming.
"""
