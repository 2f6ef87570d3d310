"""Decode up to 30 s of audio with Whisper's encoder sized to the audio (one pass, as a rule).

faster-whisper always pads the input to 30 s, so the encoder costs the same (tiny.en, int8, one
thread on the 2-core machine: ~0.8 s) for a 2 s turn as for a 30 s one, and it is most of a
short decode. The encoder takes any length: here it gets the audio plus real silence up to
`window_s` (15 s by default: 0.15-0.25 s; 10 s: ~0.15 s).
Whisper was trained on 30 s windows and a window much shorter than ~10 s makes tiny.en repeat
itself; at 15 s the corpus WER is as good as with 30 s. Text the decoder places in the silence
after the audio is a continuation it made up, and is dropped. Two things the short window gets
wrong are put right in decode(): speech seconds into the window is mistimed (the quiet before it
is skipped, lead.py), and the decoder asks to go on from a segment well before the end of the
audio (the rest is decoded again from there).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import TranscriptionOptions

from .lead import quiet_lead_s

LOG = logging.getLogger(__name__)

WHISPER_RATE = 16000
FRAMES_PER_S = 100  # log-mel frames
_HOP = WHISPER_RATE // FRAMES_PER_S
_N_FFT = 400
MAX_S = 30.0  # the encoder's positional table ends here
TAIL_PAD_S = 1.0  # silence after the audio, so the last word is heard to end
_TIME_PER_TOKEN = 0.02
_EDGE_S = 0.1  # text starting this close to the end of the audio is a made-up continuation
# A decode that asks to go on (see _resume_at) goes on while this much audio is left, for at
# most this many passes in all.
_RESUME_MIN_S = 0.3
_MAX_PASSES = 3

# faster-whisper's own defaults for what the options below do not set.
_OPTIONS: dict[str, Any] = {
    "best_of": 5,
    "patience": 1.0,
    "length_penalty": 1.0,
    "repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "log_prob_threshold": -1.0,
    "compression_ratio_threshold": 2.4,
    "condition_on_previous_text": True,
    "prompt_reset_on_temperature": 0.5,
    "initial_prompt": None,
    "prefix": None,
    "suppress_blank": True,
    "suppress_tokens": [-1],
    "without_timestamps": False,
    "max_initial_timestamp": 1.0,
    "prepend_punctuations": "\"'“¿([{-",
    "append_punctuations": "\"'.。,，!！?？:：”)]}、",
    "multilingual": False,
    "max_new_tokens": None,
    "clip_timestamps": "0",
    "hallucination_silence_threshold": None,
    "hotwords": None,
}


class Abandoned(Exception):
    """A decode whose result nobody wants any more stopped between two engine calls."""


@dataclass
class Result:
    segments: list[dict]
    language: str
    no_speech_prob: float | None = None  # Whisper's <|nospeech|> probability for the window
    avg_logprob: float | None = None  # of the tokens it generated (the tail only, with a prefix)
    temperature: float = 0.0  # the one whose result was kept: > 0 means the fallback fired
    encoder_s: float = 0.0  # time spent encoding (for the log: where a decode's time went)


def fits(audio: np.ndarray) -> bool:
    return audio.size / WHISPER_RATE + TAIL_PAD_S <= MAX_S


def _options(**overrides: Any) -> TranscriptionOptions:
    values = {**_OPTIONS, **overrides}
    # Fields a newer faster-whisper adds get None (its "off"), fields it dropped are left out.
    return TranscriptionOptions(
        **{f.name: values.get(f.name) for f in dataclasses.fields(TranscriptionOptions)}
    )


def _split_by_timestamps(tokens: list[int], tokenizer: Tokenizer, end_s: float) -> list[dict]:
    """<|t0|> text <|t1|> … → segments {seek, start, end, tokens} (the shape faster-whisper's
    word aligner takes). A segment with no closing timestamp ends at `end_s`."""
    segments: list[dict] = []
    start: float | None = None
    text: list[int] = []
    for token in tokens:
        if token >= tokenizer.timestamp_begin:
            time = (token - tokenizer.timestamp_begin) * _TIME_PER_TOKEN
            if text:
                segments.append({"seek": 0, "start": start or 0.0, "end": time, "tokens": text})
                text, start = [], None
            else:
                start = time
        elif token < tokenizer.eot:
            text.append(token)
    if text:
        segments.append({"seek": 0, "start": start or 0.0, "end": end_s, "tokens": text})
    return segments


def features(model: WhisperModel, audio: np.ndarray, padded_s: float) -> np.ndarray:
    """The log-mel features of `audio` followed by silence up to `padded_s`, as
    model.feature_extractor computes them for the padded audio, but computed for the audio
    and a little silence only: a frame of pure silence is the floor value (Whisper clamps
    the log-mel at 8 below its maximum), so the rest is filled in (15 s for a 3 s turn:
    ~12 → ~3 ms, on every decode)."""
    padded_size = int(padded_s * WHISPER_RATE)
    # Past the audio's end + half an FFT window (reflect-padded in the tail as zeros), every
    # frame hears only silence.
    size = min(padded_size, -(-(audio.size + _N_FFT) // _HOP) * _HOP)
    head = np.zeros(size, np.float32)
    head[: audio.size] = audio
    computed = model.feature_extractor(head)
    # The extractor pads _HOP samples and drops the last STFT frame: one frame per hop.
    frames = (padded_size + _HOP) // _HOP
    if computed.shape[-1] >= frames:
        return computed[:, :frames]
    # Normalized log-mel is (log10 + 4) / 4; silence (log10 1e-10) is clamped to max - 8.
    floor = (max(-10.0, 4.0 * float(computed.max()) - 4.0 - 8.0) + 4.0) / 4.0
    out = np.full((computed.shape[0], frames), floor, np.float32)
    out[:, : computed.shape[-1]] = computed
    return out


def _encode(model: WhisperModel, audio: np.ndarray, window_s: float) -> tuple[Any, int]:
    """The encoder's output for `audio` plus silence up to `window_s`, and its frame count."""
    audio_s = audio.size / WHISPER_RATE
    padded_s = min(MAX_S, max(window_s, audio_s + TAIL_PAD_S))
    mel = features(model, audio, padded_s)
    frames = min(mel.shape[-1], int(MAX_S * FRAMES_PER_S))
    frames -= frames % 2  # the encoder's convolution halves the frame count
    return model.encode(mel[:, :frames]), frames


def _resume_at(tokens: list[int], tokenizer: Tokenizer) -> float | None:
    """Where the decoder asks to go on, or None: a sequence that ends with two timestamps
    (<|t|><|t|>, a segment about to start at t) is Whisper's "the rest does not fit this
    window: decode again from t" (faster-whisper's seek; a finished text ends with one)."""
    if len(tokens) >= 2 and min(tokens[-2:]) >= tokenizer.timestamp_begin:
        return (tokens[-1] - tokenizer.timestamp_begin) * _TIME_PER_TOKEN
    return None


def _timed(
    model: WhisperModel,
    tokens: list[int],
    tokenizer: Tokenizer,
    encoder_output: Any,
    frames: int,
    options: TranscriptionOptions,
    audio_s: float,
    complete: bool,
) -> tuple[list[dict], list[int]]:
    """One pass's segments {start, end, text, words} (times in this pass's audio) and the
    text tokens they hold."""
    segments = [
        s
        for s in _split_by_timestamps(tokens, tokenizer, audio_s)
        if s["start"] < audio_s - _EDGE_S
    ]
    if options.word_timestamps and segments:
        model.add_word_timestamps(
            [segments],
            tokenizer,
            encoder_output,
            frames,
            options.prepend_punctuations,
            options.append_punctuations,
            last_speech_timestamp=0.0,
        )
    out = []
    for segment in segments:
        words = segment.get("words", [])
        if not complete:
            words = [w for w in words if w["start"] < audio_s - _EDGE_S]
        out.append(
            {
                "start": segment["start"],
                "end": min(segment["end"], audio_s),
                "text": tokenizer.decode(segment["tokens"]),
                "words": [
                    (min(w["start"], audio_s), min(w["end"], audio_s), w["word"]) for w in words
                ],
            }
        )
    return out, [t for s in segments for t in s["tokens"]]


def _shifted(segment: dict, offset: float) -> dict:
    return {
        **segment,
        "start": segment["start"] + offset,
        "end": segment["end"] + offset,
        "words": [(start + offset, end + offset, word) for start, end, word in segment["words"]],
    }


def decode(
    model: WhisperModel,
    decoder: WhisperModel,
    audio: np.ndarray,
    language: str | None,
    prompt: str | None,
    beam_size: int,
    word_timestamps: bool,
    no_speech_threshold: float,
    temperatures: list[float],
    window_s: float,
    complete: bool = True,
    prefix: str | None = None,
    abandoned: Callable[[], bool] | None = None,
    timestamps: bool = True,
    resume_s: float | None = None,
) -> Result:
    """Segments {start, end, text, words?} and the language, for float32 16 kHz `audio`
    (`fits(audio)` must hold). The caller holds an engine lane (WhisperEngine.lane). `model`
    encodes the audio, `decoder` (the same model, or the engine's one-thread model with a worker
    free for it) writes the tokens and aligns words.

    prefix: text the decoder is forced to start with (a stream's committed words in the
    window); the result holds only what follows it. CTranslate2 forces a prefix one decoder
    step per token, so it costs as much as writing those words.
    resume_s: the decoder starts at this time of `audio` (its first token forced to that
    timestamp), with the words said before it in `prompt`: it writes only what follows
    (about half the decoder's time for a turn whose last 2 s are new). It may still start
    over from the window's start; the result then holds the whole window's text (the caller
    drops the words it already has).
    abandoned(): asked between engine calls; True stops the decode (raises Abandoned).
    timestamps=False: no timestamp tokens (one segment, no word times). Without a prefix the
    text then has no times to tell a made-up continuation in the padding from the audio's words.

    complete=False (a stream's growing window): words starting in the last 100 ms are dropped
    too, as a continuation the decoder made up past the cut. complete=True (the whole turn):
    every word of a kept segment stays, with its times clamped to the audio; the aligner puts
    a short last word past the end at times ("…again, Phil." → "Phil." at 2.96 s of 2.8 s).
    A complete timed decode whose text ends by asking to go on (see _resume_at) is decoded
    again from there, as faster-whisper's 30 s loop does: in the short window the decoder
    asks that well before the end of the audio (after a few seconds of quiet before the turn,
    "... consist principally of types" stopped there, without "composed to form letterpress").
    Quiet before the speech is skipped (lead.quiet_lead_s); times stay in `audio`'s own."""
    if abandoned is not None and abandoned():  # unwanted while it waited for the engine
        raise Abandoned
    skip = quiet_lead_s(audio)  # the quiet before the speech mistimes it (lead.py)
    if skip:
        LOG.debug("skipped %.2f s of quiet before the speech", skip)
        audio = audio[int(round(skip * WHISPER_RATE)) :]
    audio_s = audio.size / WHISPER_RATE
    began = time.perf_counter()
    encoder_output, frames = _encode(model, audio, window_s)
    encoder_s = time.perf_counter() - began
    if abandoned is not None and abandoned():
        raise Abandoned

    multilingual = model.model.is_multilingual
    if multilingual and not language:
        language = model.model.detect_language(encoder_output)[0][0][0][2:-2]
    tokenizer = Tokenizer(
        model.hf_tokenizer, multilingual, task="transcribe", language=language or "en"
    )
    previous = tokenizer.encode(" " + prompt.strip()) if prompt and prompt.strip() else []
    options = _options(
        beam_size=beam_size,
        no_speech_threshold=no_speech_threshold,
        temperatures=temperatures,
        word_timestamps=word_timestamps,
    )
    # The aligner needs the segments' times; a resumed decode starts at one.
    timestamps = timestamps or word_timestamps or resume_s is not None
    prompt_tokens = model.get_prompt(tokenizer, previous, not timestamps, prefix=prefix or None)
    if resume_s is not None:
        at = round(max(0.0, resume_s - skip) / _TIME_PER_TOKEN)
        prompt_tokens = [*prompt_tokens, tokenizer.timestamp_begin + at]
    if not timestamps:
        options = dataclasses.replace(options, without_timestamps=True)
    result, avg_logprob, temperature, _ = decoder.generate_with_fallback(
        encoder_output, prompt_tokens, tokenizer, options
    )
    language = language or "en"
    found = Result(
        [],
        language,
        float(result.no_speech_prob),
        float(avg_logprob),
        float(temperature),
        encoder_s,
    )
    if result.no_speech_prob > no_speech_threshold and avg_logprob < options.log_prob_threshold:
        return found  # faster-whisper's "no speech" rule
    # Word alignment is worth skipping; the text alone costs nothing more now, and the caller
    # may still want it (a resumed pause's text is the best guess of the words so far).
    if abandoned is not None and word_timestamps and abandoned():
        raise Abandoned
    tokens = list(result.sequences_ids[0])
    if prefix or not timestamps or resume_s is not None:
        # CTranslate2 returns the forced tokens too: keep what follows a forced prefix (a
        # resumed decode's forced timestamp just opens its first segment). No word times
        # (nobody uses them), and a tail that starts at the very end of the audio is a
        # made-up continuation.
        if prefix:
            forced = prompt_tokens[
                prompt_tokens.index(tokenizer.sot) + len(tokenizer.sot_sequence) :
            ]
            forced = [t for t in forced if t != tokenizer.no_timestamps]
            if tokens[: len(forced)] == forced:
                tokens = tokens[len(forced) :]
        found.segments = [
            {"start": 0.0, "end": audio_s, "text": tokenizer.decode(s["tokens"]), "words": []}
            for s in _split_by_timestamps(tokens, tokenizer, audio_s)
            if s["start"] < audio_s - _EDGE_S
        ]
        return _in_clip(found, skip)

    found.segments, said = _timed(
        decoder, tokens, tokenizer, encoder_output, frames, options, audio_s, complete
    )
    offset = 0.0
    for _ in range(_MAX_PASSES - 1):
        resume = _resume_at(tokens, tokenizer) if complete else None
        # resume 0: the same audio again would give the same text.
        if not resume or audio_s - (offset + resume) < _RESUME_MIN_S:
            break
        offset += resume
        rest = audio[int(round(offset * WHISPER_RATE)) :]
        LOG.debug("decoder asked to go on at %.2f s of %.2f s: decoding the rest", offset, audio_s)
        encoder_output, frames = _encode(model, rest, window_s)
        if abandoned is not None and abandoned():
            raise Abandoned
        # What was said so far is the prompt, as faster-whisper's condition_on_previous_text.
        prompt_tokens = model.get_prompt(tokenizer, previous + said, False)
        result, avg_logprob, temperature, _ = decoder.generate_with_fallback(
            encoder_output, prompt_tokens, tokenizer, options
        )
        no_speech = result.no_speech_prob > no_speech_threshold
        if no_speech and avg_logprob < options.log_prob_threshold:
            break
        tokens = list(result.sequences_ids[0])
        more, more_said = _timed(
            decoder,
            tokens,
            tokenizer,
            encoder_output,
            frames,
            options,
            rest.size / WHISPER_RATE,
            complete,
        )
        found.segments += [_shifted(s, offset) for s in more]
        found.temperature = max(found.temperature, float(temperature))
        said += more_said
    return _in_clip(found, skip)


def _in_clip(found: Result, skip: float) -> Result:
    """Times in the caller's audio, when its quiet lead was skipped."""
    if skip:
        found.segments = [_shifted(s, skip) for s in found.segments]
    return found
