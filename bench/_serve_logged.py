"""`python -m ovos_realtime serve …` with the voice loop's DEBUG lines in the log and nothing
else at DEBUG (uvicorn and websockets would log every frame), each line stamped with its epoch
time (`%(created).3f`) so that a benchmark can lay the log over its own wall clock.

The bench starts it instead of the plain CLI (see _server.running_server(stage_log=True)); it
imports the server from PYTHONPATH, so it serves another checkout as well as this one.
"""

import logging
import sys

# The voice loop's loggers; stage times are read from their DEBUG lines (bench/_stage_log.py).
STAGE_LOGGERS = (
    "ovos_realtime.voice",
    "ovos_realtime.session",
    "ovos_realtime.brain",
    "ovos_realtime.core",
    "ovos_tts_plugin_onnx_stream",
    "ovos_stt_plugin_whisper_streaming",
)


def main() -> int:
    # Configured before the CLI's own basicConfig, which then leaves the root logger alone.
    logging.basicConfig(
        level=logging.WARNING, format="%(created).3f %(levelname)s %(name)s: %(message)s"
    )
    for name in STAGE_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    from ovos_realtime.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
