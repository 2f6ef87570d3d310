"""The voice loop: speech engines behind OPM, turn detection, input audio, spoken responses."""
