"""OpenAI's REST audio endpoints on the same OPM engines as the Realtime sessions:
POST /v1/audio/speech, POST /v1/audio/transcriptions, GET /v1/audio/voices (/v1/tts/voices)."""

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from ovos_realtime.audio.files import (
    CONTENT_TYPES,
    SPEECH_FORMATS,
    AudioDecodeError,
    StreamEncoder,
    decode_file,
)
from ovos_realtime.server.deps import ServerDeps
from ovos_realtime.server.rest import openai_error
from ovos_realtime.voice import captions
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_realtime.voice.synthesis import list_voices
from ovos_realtime.voice.transcription import RATE, Transcription, transcribe_file

log = logging.getLogger(__name__)

MAX_SPEECH_INPUT = 4096  # characters, as OpenAI
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # as OpenAI
SPEECH_RATE = 24000  # OpenAI's pcm is 24 kHz; every format comes out at that rate
TRANSCRIPT_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


def _voice_runtime(request: Request) -> VoiceRuntime | Response:
    deps: ServerDeps = request.app.state.deps
    if deps.assistant.voice is None:
        return openai_error(
            503,
            "This server runs without speech engines (voice.enabled is false).",
            "audio_unavailable",
        )
    return deps.assistant.voice


# ---- speech ----


def _speech_params(body: Any) -> dict[str, Any] | Response:
    if not isinstance(body, dict):
        return openai_error(400, "The request body must be a JSON object.", "invalid_request")
    text = body.get("input")
    if not isinstance(text, str) or not text.strip():
        return openai_error(400, "'input' must be a non-empty string.", "invalid_value", "input")
    if len(text) > MAX_SPEECH_INPUT:
        return openai_error(
            400,
            f"'input' is longer than {MAX_SPEECH_INPUT} characters.",
            "string_above_max_length",
            "input",
        )
    fmt = body.get("response_format", "mp3")
    if fmt not in SPEECH_FORMATS:
        return openai_error(
            400,
            f"'response_format' must be one of {', '.join(SPEECH_FORMATS)}.",
            "invalid_value",
            "response_format",
        )
    speed = body.get("speed", 1.0)
    if not isinstance(speed, int | float) or isinstance(speed, bool) or not 0.25 <= speed <= 4.0:
        return openai_error(
            400, "'speed' must be a number from 0.25 to 4.0.", "invalid_value", "speed"
        )
    stream_format = body.get("stream_format", "audio")
    if stream_format not in ("audio", "sse"):
        return openai_error(
            400, "'stream_format' must be 'audio' or 'sse'.", "invalid_value", "stream_format"
        )
    voice = body.get("voice")
    if voice is not None and not isinstance(voice, str | dict):
        return openai_error(400, "'voice' must be a string.", "invalid_value", "voice")
    if isinstance(voice, dict):  # custom voice object {"id": …}
        voice = voice.get("id")
    return {
        "text": text,
        "format": fmt,
        # The engines take 0.5–2.0; beyond that, clamp rather than refuse an OpenAI-valid request.
        "speed": min(2.0, max(0.5, float(speed))),
        "sse": stream_format == "sse",
        "voice": voice,
    }


async def _speech_chunks(
    runtime: VoiceRuntime, text: str, voice: str | None, speed: float
) -> AsyncIterator[np.ndarray]:
    """Synthesized audio at SPEECH_RATE, clause by clause, as soon as each is ready."""
    queue: asyncio.Queue[np.ndarray | None] = asyncio.Queue()

    def on_audio(_piece: str, samples: np.ndarray) -> None:
        if samples.size:
            queue.put_nowait(samples)

    speech = runtime.speech_output(runtime.resolve_voice(voice), speed, SPEECH_RATE, on_audio)
    speech.feed(text)
    finished = asyncio.create_task(speech.finish())
    finished.add_done_callback(lambda _t: queue.put_nowait(None))
    try:
        while (chunk := await queue.get()) is not None:
            yield chunk
        await finished  # re-raises a synthesis failure
    finally:
        if not finished.done():
            speech.cancel()


async def speech(request: Request) -> Response:
    runtime = _voice_runtime(request)
    if isinstance(runtime, Response):
        return runtime
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return openai_error(400, "The request body is not valid JSON.", "invalid_json")
    params = _speech_params(body)
    if isinstance(params, Response):
        return params
    chunks = _speech_chunks(runtime, params["text"], params["voice"], params["speed"])
    encoder = StreamEncoder(params["format"], SPEECH_RATE)

    async def audio_body() -> AsyncIterator[bytes]:
        async for chunk in chunks:
            data = encoder.feed(chunk)
            if data:
                yield data
        tail = encoder.finish()
        if tail:
            yield tail

    async def sse_body() -> AsyncIterator[bytes]:
        async for data in audio_body():
            event = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()}
            yield f"data: {json.dumps(event)}\n\n".encode()
        words = len(params["text"].split())
        usage = {"input_tokens": words, "output_tokens": 0, "total_tokens": words}
        yield f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n".encode()

    if params["sse"]:
        return StreamingResponse(sse_body(), media_type="text/event-stream")
    return StreamingResponse(audio_body(), media_type=CONTENT_TYPES[params["format"]])


# ---- transcription ----


def _form_value(form: Any, key: str, default: str | None = None) -> str | None:
    value = form.get(key, default)
    return value if isinstance(value, str) or value is None else default


async def transcriptions(request: Request) -> Response:
    runtime = _voice_runtime(request)
    if isinstance(runtime, Response):
        return runtime
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
        return openai_error(
            413, f"The file is larger than {MAX_UPLOAD_BYTES} bytes.", "file_too_large", "file"
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return openai_error(
            400, "Send the audio as multipart/form-data with a 'file' part.", "invalid_request"
        )
    try:
        form = await request.form(max_files=1, max_fields=32)
    except Exception as exc:  # malformed multipart
        return openai_error(400, f"Could not parse the form: {exc}", "invalid_request")
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return openai_error(
            400, "Missing required parameter: 'file'.", "missing_required_parameter", "file"
        )
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return openai_error(
            413, f"The file is larger than {MAX_UPLOAD_BYTES} bytes.", "file_too_large", "file"
        )
    if not data:
        return openai_error(400, "The uploaded file is empty.", "invalid_value", "file")
    fmt = _form_value(form, "response_format", "json")
    if fmt not in TRANSCRIPT_FORMATS:
        return openai_error(
            400,
            f"'response_format' must be one of {', '.join(TRANSCRIPT_FORMATS)}.",
            "invalid_value",
            "response_format",
        )
    granularities = set(
        form.getlist("timestamp_granularities[]") + form.getlist("timestamp_granularities")
    )
    if granularities - {"word", "segment"}:
        return openai_error(
            400,
            "timestamp_granularities takes 'word' and/or 'segment'.",
            "invalid_value",
            "timestamp_granularities",
        )
    stream = (_form_value(form, "stream", "false") or "false").lower() == "true"
    language = _form_value(form, "language") or None
    prompt = _form_value(form, "prompt") or None
    loop = asyncio.get_running_loop()
    try:
        samples = await loop.run_in_executor(runtime.stt_executor, decode_file, data, RATE)
    except AudioDecodeError as exc:
        return openai_error(400, f"Invalid file format: {exc}.", "invalid_file_format", "file")
    if stream:
        return StreamingResponse(
            _transcript_events(runtime, samples, language, prompt), media_type="text/event-stream"
        )
    try:
        result = await loop.run_in_executor(
            runtime.stt_executor,
            transcribe_file,
            runtime.engines.stt,
            samples,
            language,
            prompt,
            "word" in granularities,
        )
    except ValueError as exc:  # e.g. a language the model does not know
        return openai_error(400, str(exc), "invalid_value", "language")
    seconds = round(samples.size / RATE, 3)
    text = result["text"]
    if fmt == "text":
        return PlainTextResponse(text + "\n")
    if fmt == "srt":
        return PlainTextResponse(captions.srt(result["segments"]))
    if fmt == "vtt":
        return PlainTextResponse(captions.vtt(result["segments"]), media_type="text/vtt")
    usage = {"type": "duration", "seconds": seconds}
    if fmt == "json":
        return JSONResponse({"text": text, "usage": usage})
    verbose: dict[str, Any] = {
        "task": "transcribe",
        "language": result.get("language") or language or "english",
        "duration": result.get("duration", seconds),
        "text": text,
        "usage": usage,
    }
    if not granularities or "segment" in granularities:
        verbose["segments"] = [captions.verbose_segment(s) for s in result["segments"]]
    if "word" in granularities:
        verbose["words"] = result.get("words") or []
    return JSONResponse(verbose)


async def _transcript_events(
    runtime: VoiceRuntime, samples: np.ndarray, language: str | None, prompt: str | None
) -> AsyncIterator[bytes]:
    """SSE: transcript.text.delta from the stream's stable partials, then transcript.text.done."""
    loop = asyncio.get_running_loop()
    partials: asyncio.Queue[str] = asyncio.Queue()
    stt = Transcription(
        runtime.engines.stt,
        language,
        lambda text: loop.call_soon_threadsafe(partials.put_nowait, text),
        prompt,
    )
    step = RATE // 2
    for start in range(0, samples.size, step):
        stt.feed(samples[start : start + step])
    final = loop.run_in_executor(runtime.stt_executor, stt.finish)
    sent = ""
    while True:
        waiter = asyncio.ensure_future(partials.get())
        done, _ = await asyncio.wait({waiter, final}, return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            text = waiter.result()
            if text.startswith(sent) and text != sent:
                yield _sse({"type": "transcript.text.delta", "delta": text[len(sent) :]})
                sent = text
            continue
        waiter.cancel()
        break
    text = await final
    if text.startswith(sent) and text != sent:
        yield _sse({"type": "transcript.text.delta", "delta": text[len(sent) :]})
    yield _sse({"type": "transcript.text.done", "text": text})


def _sse(event: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(event)}\n\n".encode()


# ---- voices ----


async def voices(request: Request) -> Response:
    runtime = _voice_runtime(request)
    if isinstance(runtime, Response):
        return runtime
    return JSONResponse({"object": "list", "data": list_voices(runtime.engines.tts)})
