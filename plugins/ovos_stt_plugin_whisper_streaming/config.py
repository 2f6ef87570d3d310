"""Settings of the streaming Whisper STT, from the plugin's block under `stt` in mycroft.conf."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from typing import Any

LOG = logging.getLogger(__name__)

PLUGIN = "ovos-stt-plugin-whisper-streaming"
MAX_PARTIAL_LANES = 16
COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32", "default", "auto")


class STTConfigError(ValueError):
    """A setting is invalid; the message names the key and what it accepts."""


@dataclass(frozen=True)
class WhisperSTTConfig:
    model: str = "tiny.en"  # a model name (resolved offline) or a folder path
    model_path: str | None = None  # explicit folder; wins over `model`
    compute_type: str = "int8"
    # CTranslate2 intra-op threads. With the encoder sized to the audio a decode is mostly the
    # token-by-token decoder, where a second thread costs more in sync than it gives (on 2 cores:
    # 1 thread ~250 ms per final, 2 threads ~290 ms, ~370 ms when anything else runs).
    cpu_threads: int = 1
    # Threads of the final lane (peeks, finals, batch): its model replica's encoder runs on
    # them; a short window's tokens are written on a one-thread model, faster for the decoder's
    # small steps (engine.py, `_decoder_for`). None: cpu_threads. Default 2 (1 on one core). Measured (stt_bench.py --mode
    # pause, 16 clips, beam 5, 2 cores shared with other work): 2 threads cut the median pause
    # decode 686 → 559 ms with the partial lane idle but raised it 673 → 802 ms with it busy. In
    # the server, where the LLM's reading ahead steps aside for a pause's decode, 40 turns of a
    # live conversation (bench/voice_latency.py, one run, 1 → 2): decode 549 → 449 ms,
    # `speech_stopped` → first audio 965 → 831 ms median, sooner in 31 of the 40 turns.
    final_cpu_threads: int | None = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    # Partial decodes that may run at once (each on its own model worker, cpu_threads each):
    # one per stream that speaks at the same time, up to this many. With one, two sessions
    # speaking at once got half the partial decodes each (30 abandoned in 24 turns of the pair
    # against 17 with two); two sessions' first audio 687 -> 638 ms median (voice_latency.py).
    partial_lanes: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    # The partial lanes' threads run at this nice value (0-19; 0: the process's own): a partial
    # decode in flight when a pause opens yields the CPU to the pause's decode (engine.py).
    partial_nice: int = 19
    lang: str = "en"  # OVOS language tag; OPM fills it from the global `lang`
    language: str | None = None  # Whisper language code override (e.g. "en"); None: from lang
    # Beam per decode kind, measured (bench/stt_bench.py). Batch: 5. Partials: 1, re-decoded
    # each second and only agreed words count. A pause's peek/finish: 2. On the 37 clips of
    # 2-12 s (--mode pause) beam 2 gave the same WER as 5 (3.02 % streamed, 3.19 % with nothing
    # committed; beam 3: 3.36 %, greedy 3.36 % and it dropped "we" and mangled names) and a
    # ~10-15 % shorter pause decode (median 686 → 621 ms, partial lane busy 673 → 639 ms).
    beam_size: int = 5  # batch decodes (and a stream's peek/finish before final_beam_size)
    partial_beam_size: int = 1
    final_beam_size: int = 2
    sample_rate: int = 16000  # rate of PCM handed to stream_data / StreamingTranscriber.feed
    decode_interval_ms: int = 1000  # at most one partial decode per interval
    min_first_decode_ms: int = 1000  # no partial before this much audio (short clips hallucinate)
    # LocalAgreement-n: successive decodes that must agree before a word is committed. With 2,
    # Whisper's early-context errors ("they'll want the hole") were agreed twice and stuck.
    # With 4: streaming WER 3.91 against 4.04 % (stt_bench.py, six leads), each word ~1 s later.
    agreement: int = 3
    commit_holdback_s: float = 0.0  # never commit words ending this close to the window end
    max_window_s: float = 15.0  # trim the re-decoded window at a segment end beyond this
    prompt_chars: int = 200  # committed text passed as prompt when the window is trimmed
    # Decode at a pause (peek/finish). "resume": the encoder hears the window; the decoder
    # starts at the last committed word (its first token forced to that time), with the
    # committed words as its prompt, so it writes only the uncommitted tail. "prefix": the
    # committed words are forced as the decoder's prefix — which CTranslate2 forces one decoder
    # step per token, as dear as writing them. Measured (stt_bench.py --mode pause, 37 clips,
    # streamed, one run): resume vs prefix, WER 2.68 vs 2.85 %, long turns' decode 311 vs 416
    # ms median (p95 450 vs 583), short turns 291 vs 283. "window": re-decode the whole window
    # (up to max_window_s) and keep the words after the committed ones. "tail": only the
    # uncommitted tail audio plus final_context_s before it (measured 0.4 WER points worse).
    final_decode: str = "resume"
    # With "resume": a pause the speaker talked over, whose decode had finished, is where the
    # next pause's decode starts (its text is everything said before it).
    resume_after_pause: bool = True
    final_context_s: float = 3.0
    # A pause's decode when nothing is committed in the window (short turns; the decoder works
    # on the whole turn). Word times only serve to drop committed words, so none are computed
    # then: the same text on all 37 clips, long turns' decode median 938 → 839 ms (16 clips).
    # The timestamp tokens stay: without them the corpus WER went 3.19 → 4.19 % (vctk_p376_193
    # said its sentence twice, a continuation made up in the padding that times would drop).
    final_word_timestamps: bool = False
    final_timestamps: bool = True
    # The encoder's window for a pause's decode; None: encoder_window_s. 12 s: WER 3.02 →
    # 3.86 % streamed ("not only by chauffeur" said twice, a temperature fallback: p95 5.4 s);
    # 10 s: 4.36 % streamed, 6.21 % with nothing committed. So finals keep 15 s.
    final_encoder_window_s: float | None = None
    no_speech_threshold: float = 0.6
    # Whisper's encoder sees max(this, audio + 1 s) instead of always 30 s: ~4x cheaper decodes
    # of short turns at the same WER. Below ~10 s tiny.en starts repeating itself; 30 = off.
    encoder_window_s: float = 15.0

    @property
    def whisper_language(self) -> str:
        return (self.language or self.lang or "en").split("-")[0].split("_")[0].lower()

    @classmethod
    def from_dict(cls, config: dict[str, Any] | None) -> WhisperSTTConfig:
        config = dict(config or {})
        known = {f.name for f in fields(cls)}
        cfg = cls(**{k: v for k, v in config.items() if k in known and v is not None})
        cfg.validate()
        return cfg

    def validate(self) -> None:
        def fail(key: str, why: str) -> None:
            raise STTConfigError(f"stt.{PLUGIN}.{key}={getattr(self, key)!r}: {why}")

        if self.compute_type not in COMPUTE_TYPES:
            fail("compute_type", f"must be one of {list(COMPUTE_TYPES)}")
        for key in (
            "cpu_threads",
            "beam_size",
            "partial_beam_size",
            "final_beam_size",
            "sample_rate",
            "partial_lanes",
        ):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                fail(key, "must be a positive integer")
        nice = self.partial_nice
        if not isinstance(nice, int) or isinstance(nice, bool) or not 0 <= nice <= 19:
            fail("partial_nice", "must be an integer from 0 to 19")
        if self.partial_lanes > MAX_PARTIAL_LANES:  # each lane is a model worker
            fail("partial_lanes", f"must be at most {MAX_PARTIAL_LANES}")
        if self.final_cpu_threads is not None:
            value = self.final_cpu_threads
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                fail("final_cpu_threads", "must be a positive integer (or null: cpu_threads)")
        for key in ("final_word_timestamps", "final_timestamps", "resume_after_pause"):
            if not isinstance(getattr(self, key), bool):
                fail(key, "must be true or false")
        for key in ("decode_interval_ms", "min_first_decode_ms", "prompt_chars"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 0:
                fail(key, "must be a non-negative integer")
        for key, low, high, why in (
            ("encoder_window_s", 10.0, 30.0, "seconds"),
            ("final_encoder_window_s", 8.0, 30.0, "seconds (or null: encoder_window_s)"),
            ("max_window_s", 2.0, 30.0, "seconds (Whisper sees 30 s at most)"),
            ("final_context_s", 0.0, 30.0, "seconds"),
            ("no_speech_threshold", 0.0, 1.0, "(a probability)"),
        ):
            value = getattr(self, key)
            if value is None and key == "final_encoder_window_s":
                continue
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not low <= value <= high:
                fail(key, f"must be a number between {low:g} and {high:g} {why}")
        if not isinstance(self.agreement, int) or self.agreement < 2:
            fail("agreement", "must be an integer >= 2")
        if self.final_decode not in ("prefix", "resume", "tail", "window"):
            fail("final_decode", 'must be "prefix", "resume", "tail" or "window"')
        if not isinstance(self.model, str) or not self.model:
            fail("model", 'must be a model name like "tiny.en" or a folder path')
