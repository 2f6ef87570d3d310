"""Every OVOS messagebus message type the server sends or listens to, in one place."""

# Utterances and their outcome (ovos-core intent service)
UTTERANCE = "recognizer_loop:utterance"
UTTERANCE_HANDLED = "ovos.utterance.handled"
UTTERANCE_CANCELLED = "ovos.utterance.cancelled"
INTENT_FAILURE = "complete_intent_failure"

# What skills say
SPEAK = "speak"

# Speech output state of a session (what ovos-audio reports on a device)
AUDIO_OUTPUT_START = "recognizer_loop:audio_output_start"
AUDIO_OUTPUT_END = "recognizer_loop:audio_output_end"

# Stop requests
STOP = "mycroft.stop"
SPEECH_STOP = "mycroft.audio.speech.stop"

# Skills and their public APIs (ovos-core skill manager, ovos-workshop skills)
SKILL_LIST_REQUEST = "skillmanager.list"
SKILL_LIST = "mycroft.skills.list"
SKILL_LOADED = "mycroft.skill.loaded"
SKILLS_INITIALIZED = "mycroft.skills.initialized"
SKILL_SHUTDOWN = "mycroft.skill.shutdown"
RESPONSE_SUFFIX = ".response"  # Message.response() appends it to the request's type


def public_api(skill_id: str) -> str:
    """Asks a skill for its `@skill_api_method`s; the answer is `<this>.response`."""
    return f"{skill_id}.public_api"


def response_to(msg_type: str) -> str:
    return msg_type + RESPONSE_SUFFIX
