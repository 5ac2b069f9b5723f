"""Near-duplicate detection: MinHash signatures of character shingles, LSH look-up."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from pipeline.config import load_config

SHINGLE = 5
SCHEME = "affine32"  # 32-bit values: they fit the uint32 column


@lru_cache(maxsize=1)
def _params() -> tuple[float, int]:
    cfg = load_config("pipeline")["run"]["near_duplicate"]
    return float(cfg["threshold"]), int(cfg["num_perm"])


def signature(key: str) -> list[int]:
    """MinHash of the 5-character shingles of an article's content key (seeded: stable)."""
    from datasketch import MinHash

    _, num_perm = _params()
    mh = MinHash(num_perm=num_perm, seed=1, scheme=SCHEME)
    shingles = {key[i : i + SHINGLE] for i in range(max(len(key) - SHINGLE + 1, 1))}
    mh.update_batch([s.encode("utf-8") for s in sorted(shingles)])
    return [int(v) for v in mh.hashvalues]


class Fingerprinter:
    """Holds the corpus's signatures; ``check`` finds an earlier near-duplicate and adds the new one."""

    def __init__(self, existing: list[tuple[str, list[int]]]) -> None:
        from datasketch import MinHashLSH

        self.threshold, self.num_perm = _params()
        self.lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)
        self.signatures: dict[str, np.ndarray] = {}
        for aid, sig in existing:
            if len(sig) == self.num_perm:
                self._add(aid, np.asarray(sig, dtype=np.uint64))

    @classmethod
    def from_store(cls, store, exclude: set[str]) -> "Fingerprinter":
        rows = store.read("fingerprints").to_pylist()
        return cls([(r["article_id"], r["minhash"]) for r in rows if r["article_id"] not in exclude])

    def _add(self, aid: str, values: np.ndarray) -> None:
        from datasketch import MinHash

        self.signatures[aid] = values
        self.lsh.insert(aid, MinHash(num_perm=self.num_perm, hashvalues=values, scheme=SCHEME))

    def check(self, aid: str, key: str) -> tuple[str | None, list[int]]:
        from datasketch import MinHash

        sig = signature(key)
        values = np.asarray(sig, dtype=np.uint64)
        candidates = self.lsh.query(MinHash(num_perm=self.num_perm, hashvalues=values, scheme=SCHEME))
        best, best_sim = None, 0.0
        for other in sorted(candidates):
            sim = float(np.mean(self.signatures[other] == values))
            if sim >= self.threshold and sim > best_sim:
                best, best_sim = other, sim
        if aid not in self.signatures:
            self._add(aid, values)
        return best, sig
