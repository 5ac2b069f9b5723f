"""Our own spinner, to measure despin: swap words for the spun forms of our tables.

Segments with jieba and replaces each word that has a spun form with probability
``rate``: curated pairs (original -> spun) first, else (mode ``mixed``) a random 同义词词林
synonym as the candidate table holds it. Deterministic for a given seed.
Usage: python scripts/spinner.py [--rate 0.7] [--seed 7] [--mode curated|mixed] < clean.txt
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.despin.candidates import CILIN, CURATED, CandidateTable, default_table  # noqa: E402


@dataclass(frozen=True)
class Swap:
    start: int  # in the spun text
    end: int
    original: str
    spun: str
    source: str


def forward_tables(table: CandidateTable) -> dict[str, dict[str, tuple[str, ...]]]:
    """original -> spun forms, per source (cilin is symmetric: the inverse of the table)."""
    cilin: dict[str, list[str]] = {}
    for surface, cands in table.by_surface.items():
        for c in cands:
            if c.source == CILIN:
                cilin.setdefault(c.word, []).append(surface)
    return {
        CURATED: dict(table.forward),
        CILIN: {w: tuple(sorted(s)) for w, s in sorted(cilin.items())},
    }


def spin(text: str, rate: float, seed: int, mode: str = "curated") -> tuple[str, list[Swap]]:
    import jieba

    jieba.setLogLevel(60)  # silence the dictionary-loading chatter
    fwd = forward_tables(default_table())
    rng = random.Random(seed)
    out: list[str] = []
    swaps: list[Swap] = []
    pos = 0
    for word in jieba.cut(text, HMM=False):
        source = CURATED if word in fwd[CURATED] else CILIN if mode == "mixed" and word in fwd[CILIN] else None
        if source is not None and rng.random() < rate:
            spun = rng.choice(fwd[source][word])
            swaps.append(Swap(pos, pos + len(spun), word, spun, source))
            word = spun
        out.append(word)
        pos += len(word)
    return "".join(out), swaps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=0.7)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--mode", choices=["curated", "mixed"], default="curated")
    args = ap.parse_args()
    spun, _ = spin(sys.stdin.read(), args.rate, args.seed, args.mode)
    sys.stdout.write(spun)


if __name__ == "__main__":
    main()
