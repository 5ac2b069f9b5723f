"""Character n-gram language model (interpolated Kneser-Ney, stored in backoff form).

The model is trained offline by ``scripts/train_despin_lm.py`` and shipped as a small
``.npz``. Keys pack one n-gram into a uint64, 16 bits per symbol, first symbol in the
highest bits; symbol ids start at 1, so keys of different orders never collide.
Log-probabilities and backoff weights are natural logs stored as fixed-point uint16.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import numpy as np

from pipeline.config import load_config, project_path
from pipeline.textfold import fullwidth_to_ascii

BOS, EOS, UNK = 1, 2, 3
FIRST_CHAR_ID = 4
BITS = 16
# Fixed-point scales: log-probs in [-65.535, 0] with 1e-3 resolution, backoff weights
# (which may be slightly positive after pruning) offset so that they fit too.
LOGP_SCALE = 1000.0
BOW_SCALE = 1000.0
BOW_OFFSET = 32768
# Memoised log-probs (keyed by the packed n-gram) are dropped past this many entries.
_CACHE_LIMIT = 1_000_000

# A few classes instead of literal symbols: the training news has almost no Latin text
# or digits, while AI-chip news is full of model names (A100, GPU); what matters for
# the context of a Chinese word is only that a Latin token or a number is there.
_CLASS_LATIN = "A"
_CLASS_DIGIT = "0"


def fold_char(ch: str) -> str:
    """The LM symbol for one input character (always exactly one character)."""
    ch = fullwidth_to_ascii(ch)
    if ch.isascii():
        if ch.isalpha():
            return _CLASS_LATIN
        if ch.isdigit():
            return _CLASS_DIGIT
        if ch.isspace():
            return " "
    return ch


def fold_text(text: str) -> str:
    """``text`` folded symbol by symbol; same length as ``text``, so offsets survive."""
    return "".join(fold_char(ch) for ch in text)


def pack(ids: list[int] | tuple[int, ...]) -> int:
    key = 0
    for i in ids:
        key = (key << BITS) | i
    return key


@dataclass
class CharLM:
    order: int
    vocab: dict[str, int]
    table: dict[int, int]  # packed n-gram -> (logp_fixed << 16) | bow_fixed
    word_logfreq: dict[str, float]  # jieba dict.txt log relative frequencies
    word_logfreq_floor: float
    _cache: dict[int, float] = field(default_factory=dict, repr=False)
    _char_ids: dict[str, int] = field(default_factory=dict, repr=False)
    _continuations: dict[tuple[tuple[int, ...], tuple[int, ...]], float] = field(default_factory=dict, repr=False)

    def ids(self, text: str) -> list[int]:
        """Symbol ids of ``text`` (one per character)."""
        char_ids = self._char_ids
        out = []
        for ch in text:
            sym = char_ids.get(ch)
            if sym is None:  # fold each distinct character once
                sym = char_ids[ch] = self.vocab.get(fold_char(ch), UNK)
            out.append(sym)
        return out

    def logprob(self, context: list[int], sym: int) -> float:
        """log P(sym | last order-1 symbols of context), backing off as needed."""
        key = pack(context[max(0, len(context) - self.order + 1) :] + [sym])
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            cached = self._cache[key] = self._logprob(context, sym)
        return cached

    def _logprob(self, context: list[int], sym: int) -> float:
        table = self.table
        bow = 0.0
        n = min(len(context), self.order - 1)
        while n >= 0:
            key = pack(context[len(context) - n :] + [sym]) if n else sym
            val = table.get(key)
            if val is not None:
                return bow - (val >> 16) / LOGP_SCALE
            if n:
                ctx = table.get(pack(context[len(context) - n :]))
                if ctx is not None:
                    bow += ((ctx & 0xFFFF) - BOW_OFFSET) / BOW_SCALE
            n -= 1
        return bow + self.unk_logprob

    @property
    def unk_logprob(self) -> float:
        return -(self.table[UNK] >> 16) / LOGP_SCALE

    def continuation_logprob(self, left: list[int], tail: list[int]) -> float:
        """Sum of log P over the symbols of ``tail`` when it follows ``left`` (memoised:
        every candidate at a spot is compared with the same text-as-it-stands)."""
        key = (tuple(left), tuple(tail))
        cached = self._continuations.get(key)
        if cached is not None:
            return cached
        if len(self._continuations) > _CACHE_LIMIT:
            self._continuations.clear()
        history = left + tail
        total = 0.0
        for i in range(len(left), len(history)):
            total += self.logprob(history[max(0, i - self.order + 1) : i], history[i])
        self._continuations[key] = total
        return total

    def span_logprob(self, ids: list[int], start: int, end: int) -> float:
        """Sum of log P(ids[i] | history) for start <= i < end (history starts at BOS)."""
        history = [BOS] + ids
        total = 0.0
        for i in range(start, end):
            lo = max(0, i + 1 - (self.order - 1))
            total += self.logprob(history[lo : i + 1], history[i + 1])
        return total

    def word_prior(self, word: str) -> float:
        return self.word_logfreq.get(word, self.word_logfreq_floor)


def write_model(path: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write an .npz whose bytes depend only on its content (fixed zip timestamps).

    ``meta`` (JSON) travels as the uint8 array ``meta.json``.
    """
    meta_bytes = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode()
    members = {**arrays, "meta.json": np.frombuffer(meta_bytes, dtype=np.uint8)}
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            npy = BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(members[name]), allow_pickle=False)
            zf.writestr(info, npy.getvalue(), compresslevel=9)
    path.write_bytes(buf.getvalue())


def read_model(path: Path) -> CharLM:
    """Load a model written by ``write_model`` (see the trainer for the arrays)."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["meta.json"].tobytes().decode())
        # Keys are stored sorted within each order, as deltas (small numbers compress well).
        deltas = z["key_deltas"]
        keys = np.empty_like(deltas)
        bounds = meta["order_bounds"]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            keys[lo:hi] = np.cumsum(deltas[lo:hi], dtype=np.uint64)
        vals = (z["logp"].astype(np.uint64) << np.uint64(16)) | z["bow"].astype(np.uint64)
        words = z["words"].tobytes().decode().split("\n") if z["words"].size else []
        word_lf = z["word_logfreq"].astype(np.float64) / LOGP_SCALE
    table = dict(zip(keys.tolist(), vals.tolist()))
    vocab = {ch: i + FIRST_CHAR_ID for i, ch in enumerate(meta["chars"])}
    return CharLM(
        order=meta["order"],
        vocab=vocab,
        table=table,
        word_logfreq=dict(zip(words, (-word_lf).tolist())),
        word_logfreq_floor=meta["word_logfreq_floor"],
    )


@lru_cache(maxsize=1)
def load_lm() -> CharLM:
    """The shipped model, loaded once per process."""
    return read_model(project_path(load_config("despin")["model"]["path"]))
