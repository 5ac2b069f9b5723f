"""Plausibility of Chinese text, from jieba's dictionary (offline, built at load time).

jieba ships ``dict.txt``: ~350k words with corpus frequencies. Two models come
out of it:

* ``char_logp``: how common one character is (each word's characters weighted
  by the word's frequency);
* ``text_logp``: a word-unigram language model scoring a string by its most
  probable segmentation into dictionary words, jieba-style. It knows that
  ``置顶到了`` reads as words while ``置顶山了`` does not.

Traditional characters are folded to Simplified (opencc ``t2s``) for lookup,
since the dictionary is Simplified. Building both takes ~0.4 s once per process.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Rough shares of common punctuation in Chinese news text. Any other symbol
# (kana, Greek, box drawing, full-width Latin...) is almost never what such a
# text contained, and ASCII signs other than ordinary punctuation are rare.
_PUNCT_SHARE = {
    "，": 0.05, "。": 0.03, "、": 0.01, "“": 0.008, "”": 0.008, "：": 0.005,
    "（": 0.003, "）": 0.003, "《": 0.003, "》": 0.003, "；": 0.002, "？": 0.002,
    "—": 0.002, "！": 0.001, "…": 0.001, "·": 0.001, "‘": 0.0005, "’": 0.0005,
    "「": 0.0005, "」": 0.0005, "『": 0.0002, "』": 0.0002, "【": 0.0005, "】": 0.0005,
}  # fmt: skip
_LOGP_PUNCT = {ch: math.log(share) for ch, share in _PUNCT_SHARE.items()}
_ASCII_COMMON = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,.:;!?()%-/|\"'")
_LOGP_ASCII = math.log(0.01)
_LOGP_ASCII_RARE = math.log(1e-4)
_LOGP_SYMBOL = math.log(1e-7)
_LOGP_UNKNOWN = math.log(1e-3)  # U+FFFD stands for some character: an ordinary one, probably
_LOGP_UNSEEN_HAN = math.log(1e-9)
_LONE_CHAR = math.log(0.05)  # a character that forms no word with its neighbours
# A sentence-final mark right before a clause mark ("?,") is almost never written;
# a question mark after a question particle ("吗?") is what one expects.
_SENTENCE_END = frozenset("?!。？！")
_CLAUSE_MARK = frozenset(",，、;；:：")
_QUESTION_PARTICLE = frozenset("吗呢么吧")  # folded: 嗎 and 麼 included
_PAIR_LOGP = {
    **{(a, b): math.log(0.01) for a in _SENTENCE_END for b in _CLAUSE_MARK},
    **{(a, b): math.log(30.0) for a in _QUESTION_PARTICLE for b in "?？"},
}
_PAIR_FIRSTS = frozenset(a for a, _ in _PAIR_LOGP)
_MAX_WORD = 5


def is_han(ch: str) -> bool:
    """True for CJK unified ideographs (BMP, extension A and the supplementary planes)."""
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x3134F


@dataclass(frozen=True)
class _Model:
    chars: dict[str, float]  # character -> log P(character)
    words: dict[str, float]  # word -> log P(word)
    starts: frozenset[str]  # first characters of words longer than one character
    pairs: dict[str, frozenset[str]]  # first character -> second characters of two-character words


@lru_cache(maxsize=1)
def _model() -> _Model:
    import jieba

    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(path, encoding="utf-8") as fh:
        parts = fh.read().split()
    # Every line is "word freq tag"; numpy keeps the 1.1M-character pass fast.
    words = parts[0::3]
    freqs = np.array(parts[1::3], dtype=np.float64)
    lens = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    cps = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32)
    counts = np.bincount(cps, weights=np.repeat(freqs, lens))
    seen = np.nonzero(counts)[0]
    char_logp = np.log(counts[seen] / counts.sum())
    word_logp = np.log(freqs / freqs.sum())
    return _Model(
        chars=dict(zip(map(chr, seen.tolist()), char_logp.tolist())),
        words=dict(zip(words, word_logp.tolist())),
        starts=frozenset(w[0] for w in words if len(w) > 1),
        pairs=_two_character_words(words),
    )


def _two_character_words(words: list[str]) -> dict[str, frozenset[str]]:
    seconds: dict[str, set[str]] = {}
    for word in words:
        if len(word) == 2:
            seconds.setdefault(word[0], set()).add(word[1])
    return {first: frozenset(chars) for first, chars in seconds.items()}


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


@lru_cache(maxsize=4)
def common_chars(n: int = 4000) -> frozenset[str]:
    """The ``n`` most frequent characters of jieba's dictionary (Simplified)."""
    chars = _model().chars
    return frozenset(sorted(chars, key=chars.__getitem__, reverse=True)[:n])


@lru_cache(maxsize=65536)
def fold(ch: str) -> str:
    """The Simplified form of one character (itself when opencc has none)."""
    out = _t2s().convert(ch)
    return out if len(out) == 1 else ch


@lru_cache(maxsize=65536)
def char_logp(ch: str) -> float:
    """log P(ch) for one character of running Chinese text, any script or symbol."""
    if is_han(ch):
        return _model().chars.get(fold(ch), _LOGP_UNSEEN_HAN)
    if ch in _LOGP_PUNCT:
        return _LOGP_PUNCT[ch]
    if ch == "\ufffd":
        return _LOGP_UNKNOWN
    if " " < ch < "\x7f":
        return _LOGP_ASCII if ch in _ASCII_COMMON else _LOGP_ASCII_RARE
    return _LOGP_SYMBOL


@lru_cache(maxsize=65536)
def _alone_logp(ch: str) -> float:
    """A (folded) character as a token of its own: a one-character word, or one joining no word."""
    lp = char_logp(ch)
    if not is_han(ch):
        return lp
    return max(_model().words.get(ch, -math.inf), lp + _LONE_CHAR)


@lru_cache(maxsize=1 << 17)
def text_logp(text: str) -> float:
    """log P(text) under the word-unigram model: the best segmentation's score.

    Non-Han characters score as single tokens; a Han character that is no word
    on its own and joins no neighbour into one scores its frequency less a penalty.
    A few punctuation pairs are corrected for (see ``_PAIR_LOGP``).
    """
    s = "".join(map(fold, text))
    model = _model()
    words, starts, alone = model.words, model.starts, _alone_logp
    n = len(s)
    best = [0.0] * (n + 1)
    for i in range(n - 1, -1, -1):
        ch = s[i]
        score = alone(ch) + best[i + 1]
        if ch in starts:
            for j in range(i + 2, min(n, i + _MAX_WORD) + 1):
                lp = words.get(s[i:j])
                if lp is not None and lp + best[j] > score:
                    score = lp + best[j]
        best[i] = score
    if _PAIR_FIRSTS.isdisjoint(s):
        return best[0]
    return best[0] + sum(_PAIR_LOGP.get(pair, 0.0) for pair in zip(s, s[1:]))


def forms_word(first: str, second: str) -> bool:
    """Whether the two characters make a dictionary word (any script)."""
    return fold(second) in _model().pairs.get(fold(first), ())
