"""Audio plumbing: wire formats (PCM16, G.711), resampling, file encoding and decoding."""
