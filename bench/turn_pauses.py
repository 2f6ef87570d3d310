"""Every pause of the turn-taking corpus, scored by both end-of-turn models, and the thresholds
semantic_vad could use, tried on them offline. Prints JSON.

The streams are bench/turn_taking.py's (each speech clip of the corpus with its own room tone
around it, and the same clip with a 600-1,200 ms hesitation inserted mid-phrase). The real voice
pipeline finds every pause in them (the dual VAD, 96 ms of quiet) and transcribes it as a live
session would (the pause's decode); each pause gets the audio model's probability (Smart Turn,
at 96 and 200 ms of quiet) and the text model's (its words). Then, for each pair of thresholds
(audio x text), the turn detector's own rule (voice.turns.TurnDetector, eagerness auto) gives
each pause its window, and a pause that lasted at least that long ends the turn there:

- complete turns: end of speech -> stop (median, p95) and clips split before their end;
- hesitations: clips whose turn ended before the inserted pause was over (false cuts), and
  those that ended inside it.

One pass of the models (~6 min on the 2-core machine) answers every threshold pair in a second, which
bench/turn_taking.py (one pass per setting) cannot. `--dump FILE` keeps the pauses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.corpus

from _stats import summary
from ovos_realtime.brain.models import resolve_gguf
from ovos_realtime.config import VoiceSettings
from ovos_realtime.voice.engines import VoiceEngines
from ovos_realtime.voice.pipeline import VoicePipeline
from ovos_realtime.voice.runtime import VoiceRuntime
from ovos_realtime.voice.text_turn import TextTurnModel
from ovos_realtime.voice.turn_model import SmartTurn
from ovos_realtime.voice.turns import TurnDetector
from ovos_vad_plugin_dual import DualVADConfig, FrameVAD
from turn_taking import RATE, hesitation_point, streams

from tests.corpus import read_wav, speech_rows

SCORED_AT_MS = (96, 200)  # the audio model's scoring points (ms of quiet)
AUDIO_THRESHOLDS = (0.3, 0.5, 0.7, 0.9)
TEXT_THRESHOLDS = (0.02, 0.05, 0.08, 0.1, 0.12)


async def pauses(runtime: VoiceRuntime, audio: np.ndarray, smart: SmartTurn) -> list[dict]:
    """Every pause of one stream: where it starts, when speech resumed (None: never), its
    transcript and both models' probabilities."""
    pipeline = VoicePipeline(runtime, "pauses", turn_model=False)
    # server_vad with a window no pause reaches: every pause opens, none ends the turn
    pipeline.configure(
        {"type": "audio/pcm", "rate": RATE}, {"type": "server_vad", "silence_duration_ms": 60000}
    )
    wire = audio.astype("<i2").tobytes()
    found: list[dict] = []
    turn_start = 0
    for offset in range(0, len(wire), 1024):
        async for event in pipeline.feed(wire[offset : offset + 1024]):
            if event.kind == "started":
                turn_start = event.audio_ms
            elif event.kind == "paused":
                text = await pipeline.peek() if pipeline.can_peek else ""
                pause = {"start_ms": event.audio_ms, "resumed_ms": None, "text": text}
                for point in SCORED_AT_MS:
                    heard = audio[
                        turn_start * RATE // 1000 : (event.audio_ms + point) * RATE // 1000
                    ]
                    pause[f"audio_{point}ms"] = smart.probability(heard)
                pause["text_p"] = runtime.text_turn.probability(text) if text.strip() else None
                found.append(pause)
            elif event.kind == "resumed":
                found[-1]["resumed_ms"] = event.audio_ms
    pipeline.end_turn()
    return found


def window_ms(
    pause: dict,
    audio: bool = True,
    text: bool = True,
    audio_threshold: float | None = None,
    text_threshold: float | None = None,
    point: int = SCORED_AT_MS[0],
) -> int:
    """The quiet after which semantic_vad would end the turn at this pause, with or without
    each model (neither: the word list), at these thresholds (None: the detector's own)."""
    detector = TurnDetector(32, {"type": "semantic_vad"}, model=audio, text_model=text)
    if audio_threshold is not None:
        detector.model_threshold = audio_threshold
    if text_threshold is not None:
        detector.text_threshold = text_threshold
    detector.use_transcript(pause["text"], final=True)
    if audio:
        detector.use_turn_probability(pause[f"audio_{point}ms"])
    if text:
        detector.use_text_probability(pause["text_p"])
    return detector.window_ms


def first_stop(stream: list[dict], rule, until_ms: float = math.inf) -> int | None:
    """Where the turn ends: the first pause (starting before `until_ms`) that lasts its window."""
    for pause in stream:
        if pause["start_ms"] >= until_ms:
            return None
        window = rule(pause)
        lasted = (
            math.inf if pause["resumed_ms"] is None else pause["resumed_ms"] - pause["start_ms"]
        )
        if lasted >= window:
            return pause["start_ms"] + window
    return None


def evaluate(clips: list[dict], rule) -> dict:
    delays, split, cuts, inside = [], 0, 0, 0
    for clip in clips:
        stop = first_stop(clip["complete"], rule)
        if stop is not None and stop <= clip["end_ms"]:
            split += 1
        elif stop is not None:
            delays.append(stop - clip["end_ms"])
        if "hesitation" in clip:
            gap_start, gap_end = clip["gap_ms"]
            stop = first_stop(clip["hesitation"], rule, until_ms=gap_end)
            cuts += stop is not None
            inside += stop is not None and stop > gap_start
    hesitations = sum("hesitation" in clip for clip in clips)
    return {
        "speech_end_to_stop_ms": summary(delays, digits=0, count=False),
        "complete_turns_split": split,
        "false_cuts": cuts,
        "false_cuts_inside_the_pause": inside,
        "hesitations": hesitations,
    }


async def score(clip_count: int) -> list[dict]:
    """Every speech clip's streams (the first `clip_count`; 0: all) with their pauses."""
    from ovos_stt_plugin_whisper_streaming import WhisperStreamingSTT

    stt = WhisperStreamingSTT({})
    runtime = VoiceRuntime(VoiceEngines(stt, None, {"module": "ovos-vad-plugin-dual"}))
    runtime.text_turn = TextTurnModel(resolve_gguf(VoiceSettings().turn_text_llm))
    smart, vad = SmartTurn(), FrameVAD(DualVADConfig())
    clips = []
    for i, row in enumerate(speech_rows()[: clip_count or None]):
        pcm, _ = read_wav(row["file"])
        words = stt.transcribe_detailed(pcm, RATE, "en", word_timestamps=True)["words"]
        both = streams(i, pcm, hesitation_point(pcm, words), vad)
        clip = {
            "file": row["file"],
            "end_ms": both.end_ms,
            "complete": await pauses(runtime, both.complete, smart),
        }
        if both.hesitation is not None:
            clip["gap_ms"] = both.gap_ms
            clip["hesitation"] = await pauses(runtime, both.hesitation, smart)
        clips.append(clip)
        print(f"{row['file']}: {len(clip['complete'])} pauses", file=sys.stderr, flush=True)
    runtime.shutdown()
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=0, help="only the first N speech clips")
    parser.add_argument("--dump", help="write every pause (JSON) here")
    parser.add_argument("--load", help="read the pauses from a --dump instead of scoring them")
    args = parser.parse_args()
    if args.load:
        clips = json.loads(Path(args.load).read_text())
    else:
        clips = asyncio.run(score(args.clips))
        if args.dump:
            Path(args.dump).write_text(json.dumps(clips, indent=1))
    detectors = {
        "word_list": lambda p: window_ms(p, audio=False, text=False),
        "text_model": lambda p: window_ms(p, audio=False),
        "audio_model": lambda p: window_ms(p, text=False),
        "both_models (default)": window_ms,
    }
    grid = [
        {
            "audio_scored_at_ms": point,
            "audio_threshold": audio_threshold,
            "text_threshold": text_threshold,
            **evaluate(
                clips,
                lambda p, a=audio_threshold, t=text_threshold, at=point: window_ms(
                    p, audio_threshold=a, text_threshold=t, point=at
                ),
            ),
        }
        for point in SCORED_AT_MS
        for audio_threshold in AUDIO_THRESHOLDS
        for text_threshold in TEXT_THRESHOLDS
    ]
    result = {
        "clips": len(clips),
        "eagerness": "auto",
        "detectors": {name: evaluate(clips, rule) for name, rule in detectors.items()},
        "both_models_thresholds": grid,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
