"""The words' end-of-turn signal for semantic_vad: how likely a chat LLM finds it that the
user's sentence ends where the transcript stops (LiveKit's turn detector asks a small LM the same
question; ours is a packaged chat model, `voice.turn_text_llm`, not fine-tuned, asked for the
next token).

The transcript goes in as the user's message, lower-cased and without punctuation (Whisper ends
what it heard with a period, finished or not), cut where the template would close the message.
The probability is that of the next token being the end of the message or a sentence's end
(. ? ! …). On the corpus' reference transcripts (39 clips): a whole clip scores at or above
0.05 in 82 % of cases (clips that end on a comma count as whole), a cut mid-phrase at a word
boundary in 6.9 % (0.1: 67 % / 4.6 %).

Its own llama.cpp context (the weights are memory-mapped: shared with the brain's when it is the
same model, the default), one thread, run in the voice runtime's turn executor. While the user speaks, the words heard so far
are read ahead into its cache (`read_ahead`, as the brain reads ahead), so the pause's verdict
reads only the last words.
"""

import logging
import re
import threading
import time
from pathlib import Path

import numpy as np

from ovos_realtime.openmp import import_llama_cpp

log = logging.getLogger(__name__)

# Said to the model before the user's words: the same as the probabilities above were measured with.
SYSTEM = "You are a helpful, friendly voice assistant. Answer briefly and clearly."
_SENTENCE_ENDS = (".", "?", "!", "...", '."', '?"', '!"')
_SENTINEL = "\x00WORDS\x00"
# The end of a long turn is what decides; its last words fit the small context.
MAX_WORDS = 32


def words_only(transcript: str) -> str:
    """Lower case, no punctuation but apostrophes, single spaces."""
    return " ".join(re.sub(r"[^\w' ]", " ", transcript.lower()).split())


class TextTurnModel:
    def __init__(self, gguf: Path, threads: int = 1) -> None:
        Llama = import_llama_cpp().Llama  # first: it loads llama.cpp's OpenMP runtime
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.path = gguf
        self._llama = Llama(
            model_path=str(gguf), n_ctx=512, n_threads=threads, n_threads_batch=threads,
            verbose=False,
        )  # fmt: skip
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError(
                f"{gguf} has no chat template: the text end-of-turn needs a chat model"
            )
        eos = self._llama.token_eos()
        rendered = Jinja2ChatFormatter(
            template=template,
            eos_token=self._llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token="",
        )(messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": _SENTINEL}])
        self._prefix, closing = rendered.prompt.split(_SENTINEL, 1)
        ends = {self._single_token(closing.split("\n")[0] or closing)}
        ends |= {self._single_token(mark) for mark in _SENTENCE_ENDS}
        ends.discard(None)
        if not ends:
            raise ValueError(f"{gguf}: no end-of-message token found in its chat template")
        self._ends = sorted(ends)
        self._lock = threading.Lock()  # one context: one call at a time
        self.last_ms = 0.0

    def _single_token(self, text: str) -> int | None:
        tokens = self._llama.tokenize(text.encode(), add_bos=False, special=True)
        return tokens[0] if len(tokens) == 1 else None

    def _tokens(self, transcript: str) -> list[int]:
        prompt = self._prefix + " ".join(words_only(transcript).split()[-MAX_WORDS:])
        return self._llama.tokenize(prompt.encode(), add_bos=False, special=True)

    def _read(self, tokens: list[int], keep_last: bool) -> None:
        """Bring the context to `tokens` (the last one read again when `keep_last`: its logits
        are wanted), reading only what its cache does not hold. Under the lock."""
        llama = self._llama
        same = llama.longest_token_prefix(llama._input_ids[: llama.n_tokens].tolist(), tokens)
        llama.n_tokens = min(same, len(tokens) - 1) if keep_last else same
        if llama.n_tokens < len(tokens):
            llama.eval(tokens[llama.n_tokens :])

    def read_ahead(self, words: str) -> None:
        """Read the words heard so far while the user speaks them, so that the pause's
        `probability` reads only what came after (its last word may still merge: not read)."""
        tokens = self._tokens(words)[:-1]
        with self._lock:
            self._read(tokens, keep_last=False)

    def probability(self, transcript: str) -> float:
        """P(the user's message ends after these words), 0..1."""
        started = time.perf_counter()
        llama = self._llama
        tokens = self._tokens(transcript)
        with self._lock:
            self._read(tokens, keep_last=True)
            logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
            logits = logits.astype(np.float64)
        logits -= logits.max()
        weights = np.exp(logits)
        probability = float(weights[self._ends].sum() / weights.sum())
        self.last_ms = (time.perf_counter() - started) * 1000
        return probability
