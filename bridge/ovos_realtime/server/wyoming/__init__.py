"""The Wyoming door (Home Assistant's voice protocol) on the assistant core: speech-to-text
(`asr`), text-to-speech (`tts`) and the persona agent as a conversation agent (`handle`), all on
the engines and the Assistant the HTTP server uses.

`info` describes the programs, `audio` converts any Wyoming PCM to 16 kHz mono, `asr`/`tts`/
`handle` serve one request each, `service` reads the events of a connection and runs the
server (`WyomingDoor`)."""
