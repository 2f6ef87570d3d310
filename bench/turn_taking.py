"""Turn-taking evaluation on real speech: when does each turn detector end the turn? Prints JSON.

Two sets from the public corpus (tests/data/speech):
- complete turns: each clip with its own background before and after it; measured: end of
  speech (the clip's last speech frame for the dual VAD) → `stopped` (what
  `input_audio_buffer.speech_stopped` reports), median and p95, and how many turns were split
  before the end (a pause inside the sentence taken for the end);
- hesitations: the same clip with a pause of 600-1,200 ms of its own background (not digital
  silence) inserted mid-phrase at a word boundary (from Whisper's word timestamps, moved to
  the quietest frame near the boundary, never after punctuation); measured: how often the
  detector ends the turn inside the hesitation (a false cut).

Detectors: `server_vad` (500 ms), `semantic_vad` with the word list (transcript rule),
`semantic_vad` with the Smart Turn model (with and without the transcript as a second signal),
eagerness `auto` (medium). The real voice pipeline runs (dual VAD, streaming Whisper, the
model), fed 32 ms at a time as fast as it goes; at each pause the bench waits for the work a
live session would run during the pause (the pause's transcript, the model's score) before
feeding on, so the figures are in audio time with decisions taken as if instant; the model's
CPU time per decision is reported beside them (`model_ms`), and what it adds to a live
session's `speech_stopped` is max(0, pause + model_ms − window): see bench/voice_latency.py.

Also counts turns answered with nothing because they were not speech (voice.turns.is_speech, and
the STT's no-speech verdict where the STT gives one): on the
complete turns (none should be) and on the corpus' non-speech clips.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.corpus

from _stats import summary
from ovos_realtime.voice.engines import VoiceEngines
from ovos_realtime.voice.pipeline import VoicePipeline
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_realtime.voice.text_turn import TextTurnModel
from ovos_realtime.voice.turn_model import load_turn_model
from ovos_vad_plugin_dual import DualVADConfig, FrameVAD

from tests.corpus import manifest, read_wav, speech_rows

RATE = 16000
FRAME = 512  # 32 ms
PUNCTUATION = tuple(".,;:!?")
# The default set: the short clips (--all: every speech clip of the corpus).
SHORT = {
    "cmuarctic_aew_arctic_a0001.wav",
    "cmuarctic_aew_arctic_a0002.wav",
    "cmuarctic_aew_arctic_a0003.wav",
    "cmuarctic_axb_arctic_a0004.wav",
    "cmuarctic_axb_arctic_a0006.wav",
    "cmuarctic_unknownspk_arctic_a0010.wav",
    "vctk_p238_165.wav",
    "vctk_p255_367.wav",
    "vctk_p301_102.wav",
    "vctk_p314_272.wav",
    "vctk_p317_166.wav",
    "vctk_p376_193.wav",
    "librispeech_1995-1837-0001.wav",
    "ljspeech_LJ001-0005.wav",
    "ljspeech_LJ001-0009.wav",
}
# (turn_detection, the model, the transcript as its second signal, the model's scoring points:
# ms of quiet; each must say "complete")
MODES = {
    "server_vad": ({"type": "server_vad"}, False, True, ()),
    "semantic_vad_words": ({"type": "semantic_vad"}, False, True, ()),
    # the default scoring points (voice.turns.MODEL_POINTS_MS: once, at 96 ms of quiet)
    "semantic_vad_model": ({"type": "semantic_vad"}, True, True, ()),
    "semantic_vad_model_only": ({"type": "semantic_vad"}, True, False, ()),
    # once, where pipecat scores (after its VAD's stop_secs, 0.2 s of quiet)
    "semantic_vad_model_at_200ms": ({"type": "semantic_vad"}, True, True, (200,)),
    "semantic_vad_model_only_at_200ms": ({"type": "semantic_vad"}, True, False, (200,)),
    # twice: 200 and 400 ms, both must say "complete"
    "semantic_vad_model_at_200_400ms": ({"type": "semantic_vad"}, True, True, (200, 400)),
    "semantic_vad_model_at_96_200_400ms": ({"type": "semantic_vad"}, True, True, (96, 200, 400)),
}
# The same with the text end-of-turn model reading the pause's words (voice.turn_text_model).
TEXT_MODES = {
    "semantic_vad_text": MODES["semantic_vad_words"],
    "semantic_vad_model_text": MODES["semantic_vad_model"],
    "semantic_vad_model_at_200ms_text": MODES["semantic_vad_model_at_200ms"],
}
MODES.update(TEXT_MODES)


def frame_db(pcm: np.ndarray) -> np.ndarray:
    frames = pcm[: pcm.size // FRAME * FRAME].astype(np.float64).reshape(-1, FRAME) / 32768
    return 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9)


def background(pcm: np.ndarray, seconds: float) -> np.ndarray:
    """The clip's own background, `seconds` long: its quietest stretch of 128 ms, played
    forwards then backwards in turn (no clicks at the joins, which a VAD would hear)."""
    db = frame_db(pcm)
    width = 4  # frames: some clips have little room tone around the speech
    if db.size <= width:
        stretch = pcm
    else:
        energy = np.convolve(10 ** (db / 10), np.ones(width), "valid")
        first = int(np.argmin(energy))
        stretch = pcm[first * FRAME : (first + width) * FRAME]
    loop = np.concatenate([stretch, stretch[::-1]])
    reps = int(np.ceil(seconds * RATE / loop.size))
    return np.tile(loop, reps)[: int(seconds * RATE)]


def speech_end_ms(vad: FrameVAD, pcm: np.ndarray) -> int:
    """End of the clip's last speech frame, as the dual VAD hears the clip alone."""
    vad.reset()
    probs = vad.probabilities(pcm.tobytes())
    return (max(i for i, p in enumerate(probs) if p >= vad.config.threshold) + 1) * 32


def hesitation_point(pcm: np.ndarray, words: list[dict]) -> int | None:
    """A sample index between two words in the middle of the clip, inside a phrase."""
    if len(words) < 4:
        return None
    candidates = [
        w
        for w in words[len(words) // 3 : 2 * len(words) // 3 + 1]
        if not w["word"].strip().endswith(PUNCTUATION)
    ]
    if not candidates:
        return None
    middle = pcm.size / RATE / 2
    word = min(candidates, key=lambda w: abs(w["end"] - middle))
    # Whisper's word ends are rough: cut at the quietest frame within 120 ms of it.
    centre = int(word["end"] * RATE)
    lo, hi = max(0, centre - 1920), min(pcm.size - FRAME, centre + 1920)
    starts = range(lo, hi, 160)
    return min(starts, key=lambda s: float(np.mean(pcm[s : s + FRAME].astype(np.float64) ** 2)))


@dataclass
class Streams:
    """One clip's two streams: whole (its end of speech at `end_ms`) and, where a phrase has a
    word boundary to cut at, with a hesitation inserted there (`gap_ms`: where it is)."""

    complete: np.ndarray
    end_ms: int
    hesitation: np.ndarray | None = None
    gap_ms: tuple[int, int] | None = None


def streams(index: int, pcm: np.ndarray, cut: int | None, vad: FrameVAD) -> Streams:
    """The clip (the `index`-th of the set) with 0.5 s of its own background before it and 9 s
    after; the hesitation, 600-1,200 ms of background by the index, inserted at `cut`."""
    lead, tail = background(pcm, 0.5), background(pcm, 9.0)
    found = Streams(
        np.concatenate([lead, pcm, tail]), lead.size * 1000 // RATE + speech_end_ms(vad, pcm)
    )
    if cut is not None:
        gap = background(pcm, 0.6 + 0.6 * ((index * 37) % 100) / 100)
        found.hesitation = np.concatenate([lead, pcm[:cut], gap, pcm[cut:], tail])
        found.gap_ms = (
            (lead.size + cut) * 1000 // RATE,
            (lead.size + cut + gap.size) * 1000 // RATE,
        )
    return found


async def run_turns(
    runtime: VoiceRuntime, mode: str, audio: np.ndarray, until_ms: int, after_ms: int = 0
) -> dict:
    """Feed one stream up to `until_ms` of audio, or to the first stop past `after_ms` (ms);
    returns the stop times (ms) and how many turns were not heard as speech."""
    config, model, signal, points = MODES[mode]
    pipeline = VoicePipeline(runtime, mode, turn_model=model)
    pipeline.configure({"type": "audio/pcm", "rate": RATE}, dict(config))
    if pipeline.turns is not None:
        pipeline.turns.transcript_signal = signal
        pipeline.turns.model_points_ms = points or pipeline.turns.model_points_ms
    # The transcript decides (or helps decide) only for these: the others need not wait for it.
    wait_for_text = mode.startswith("semantic_vad") and mode != "semantic_vad_model_only"
    wire = audio.astype("<i2").tobytes()
    chunk = FRAME * 2
    stops, silent_turns = [], 0
    peek = None
    for offset in range(0, min(len(wire), until_ms * RATE // 1000 * 2), chunk):
        async for event in pipeline.feed(wire[offset : offset + chunk]):
            if event.kind == "paused" and pipeline.can_peek:
                peek = asyncio.ensure_future(pipeline.peek())
            elif event.kind == "stopped":
                stops.append(event.audio_ms)
                heard = pipeline.heard_speech
                if peek is not None:  # let it end: its decode runs on in the STT's threads
                    # "": not answered (the VAD's or the STT's no-speech verdict, or no words)
                    heard &= await asyncio.wait_for(asyncio.shield(peek), 300) != ""
                pipeline.end_turn()  # the final text itself is not needed here
                silent_turns += not heard
                peek = None
        if stops and stops[-1] > after_ms:
            break
        # What a live session does during the pause, taken as instant in audio time.
        if wait_for_text and peek is not None and not peek.done():
            await asyncio.wait_for(asyncio.shield(peek), 300)
        deadline = time.perf_counter() + 30
        while pipeline.turns is not None and pipeline.turns.scoring:
            if time.perf_counter() > deadline:
                raise TimeoutError("the end-of-turn model did not answer in 30 s")
            await asyncio.sleep(0.005)  # the answer comes by a done-callback on the loop
    pipeline.end_turn()
    return {"stops": stops, "silent_turns": silent_turns}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--all", action="store_true", help="every speech clip, not the short set")
    parser.add_argument("--clips", type=int, default=0, help="only the first N clips of the set")
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    modes = args.modes.split(",")
    # The plugin itself: OPM's factory logs to stdout, which must hold only the JSON.
    from ovos_stt_plugin_whisper_streaming import WhisperStreamingSTT

    stt = WhisperStreamingSTT({})
    runtime = VoiceRuntime(VoiceEngines(stt, None, {"module": "ovos-vad-plugin-dual"}))
    text_turn: TextTurnModel | None = None  # loaded when a mode needs it
    if any(mode in TEXT_MODES for mode in modes):
        from ovos_realtime.brain.models import resolve_gguf
        from ovos_realtime.config import VoiceSettings

        text_turn = TextTurnModel(resolve_gguf(VoiceSettings().turn_text_llm))
        read = text_turn.probability

        def timed_text(words: str) -> float:
            started = time.thread_time()
            try:
                return read(words)
            finally:
                text_ms.append((time.thread_time() - started) * 1000)

        text_turn.probability = timed_text
    model_ms: list[float] = []
    text_ms: list[float] = []
    model = load_turn_model()
    if model is not None:  # the CPU time of every decision
        score = model.probability

        def timed(audio: np.ndarray) -> float:
            started = time.thread_time()  # this thread only: the STT decodes beside it
            try:
                return score(audio)
            finally:
                model_ms.append((time.thread_time() - started) * 1000)

        model.probability = timed
    rows = [r for r in speech_rows() if args.all or r["file"] in SHORT][: args.clips or None]
    clips = []
    for row in rows:
        pcm, _ = read_wav(row["file"])
        words = stt.transcribe_detailed(pcm, RATE, "en", word_timestamps=True)["words"]
        clips.append((row["file"], pcm, hesitation_point(pcm, words)))
    results: dict = {}
    vad = FrameVAD(DualVADConfig())
    for mode in modes:
        runtime.text_turn = text_turn if mode in TEXT_MODES else None
        delays, cuts, in_gap, hesitations, silent, split = [], 0, 0, 0, 0, 0
        model_ms.clear()
        text_ms.clear()
        for i, (_name, pcm, cut) in enumerate(clips):
            both = streams(i, pcm, cut, vad)
            end = both.end_ms
            done = await run_turns(runtime, mode, both.complete, end + 9000, after_ms=end)
            if done["stops"] and done["stops"][-1] > end:
                delays.append(done["stops"][-1] - end)
            else:
                print(f"{mode}: {_name}: no turn end within 9 s of the speech", file=sys.stderr)
            split += len([s for s in done["stops"] if s <= end])
            silent += done["silent_turns"]
            if both.hesitation is None or both.gap_ms is None:
                continue
            gap_start, gap_end = both.gap_ms
            held = await run_turns(runtime, mode, both.hesitation, gap_end)
            hesitations += 1
            cuts += bool(held["stops"])
            # ...inside the inserted pause itself (not at a pause the reader made before it)
            in_gap += any(s > gap_start for s in held["stops"])
            print(
                f"{mode}: {_name}: end +{delays[-1] if delays else None} ms, "
                f"hesitation {'cut' if held['stops'] else 'kept'}",
                file=sys.stderr,
                flush=True,
            )
        nonspeech_turns = nonspeech_silent = 0
        for row in manifest():
            if row["text"]:
                continue
            pcm, _ = read_wav(row["file"])
            done = await run_turns(runtime, mode, pcm, pcm.size * 1000 // RATE)
            nonspeech_turns += len(done["stops"])
            nonspeech_silent += done["silent_turns"]
        results[mode] = {
            "complete_turns": len(delays),
            "speech_end_to_stopped_ms": summary(delays, count=False),
            "hesitations": hesitations,
            "false_cuts": cuts,
            "false_cut_rate": round(cuts / hesitations, 3) if hesitations else None,
            "false_cuts_inside_the_inserted_pause": in_gap,
            "complete_turns_split_before_the_end": split,
            "complete_turns_not_answered_as_noise": silent,
            "nonspeech_turns": nonspeech_turns,
            "nonspeech_turns_not_answered": nonspeech_silent,
        }
        if model_ms:
            results[mode]["model_ms"] = {
                **summary(model_ms, count=False),
                "decisions": len(model_ms),
            }
        if text_ms:
            results[mode]["text_model_ms"] = {
                **summary(text_ms, count=False),
                "decisions": len(text_ms),
            }
        print(json.dumps({mode: results[mode]}), file=sys.stderr, flush=True)
    runtime.shutdown()
    print(json.dumps({"clips": len(clips), "eagerness": "auto", "modes": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
