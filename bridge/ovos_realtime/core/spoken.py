"""An answer spoken clause by clause: text deltas go to streaming TTS while the brain goes on,
and the audio comes back in the same stream as the answer's other events.

Each message's speech is settled (all its audio out, then `SpeechDone`) before any later event
passes, so a door never closes a spoken message while its audio is still coming.
"""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovos_realtime.brain.base import TextDelta
from ovos_realtime.voice.speech_out import OnAudio, SpeechOutput


@dataclass(frozen=True)
class SpeechChunk:
    """Audio of the answer: int16 samples at the requested rate, and the transcript piece that
    goes out with this audio ("" after a clause's first chunk; a clause the engine made no
    audio for comes with empty samples)."""

    transcript: str
    samples: np.ndarray


@dataclass(frozen=True)
class SpeechDone:
    """All audio of the current message is out."""


# Makes the speech output of one message: on_audio(transcript piece, samples) -> SpeechOutput
SpeechFactory = Callable[[OnAudio], SpeechOutput]
_END = object()


async def spoken(
    events: AsyncGenerator[Any, None], make_speech: SpeechFactory
) -> AsyncIterator[Any]:
    """`events` with every TextDelta also spoken. Closing this stream stops the brain and the
    speech at once."""
    out: asyncio.Queue[Any] = asyncio.Queue()

    async def pump() -> None:
        speech: SpeechOutput | None = None
        try:
            async for event in events:
                if isinstance(event, TextDelta):
                    if speech is None:
                        speech = make_speech(
                            lambda piece, samples: out.put_nowait(SpeechChunk(piece, samples))
                        )
                    out.put_nowait(event)
                    speech.feed(event.text)
                    continue
                if speech is not None:
                    await speech.finish()
                    speech = None
                    out.put_nowait(SpeechDone())
                out.put_nowait(event)
            if speech is not None:
                await speech.finish()
                speech = None
                out.put_nowait(SpeechDone())
            out.put_nowait(_END)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to the consumer, who decides what failed means
            out.put_nowait(exc)
        finally:
            if speech is not None:
                speech.cancel()
            with contextlib.suppress(Exception):
                await events.aclose()

    task = asyncio.create_task(pump(), name="spoken answer")
    try:
        while (item := await out.get()) is not _END:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
