"""Every OVOS / HiveMind message type the plugins read or send, in one place."""

UTTERANCE = "recognizer_loop:utterance"
UTTERANCE_HANDLED = "ovos.utterance.handled"
INTENT_FAILURE = "complete_intent_failure"
SPEAK = "speak"
STOP = "mycroft.stop"
SPEECH_STOP = "mycroft.audio.speech.stop"
RECORD_BEGIN = "recognizer_loop:record_begin"
RECORD_END = "recognizer_loop:record_end"

# What a satellite asks of the audio protocol
SPEAK_SYNTH = "speak:synth"  # answered with TTS_AUDIO (binary WAV)
SPEAK_B64 = "speak:b64_audio"  # answered with speak:b64_audio.response (base64 WAV)
SPEAK_B64_RESPONSE = "speak:b64_audio.response"
