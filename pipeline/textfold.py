"""Character-level folds shared by ingest (for rule matching) and normalize.

Every fold here maps one character to one character, so offsets survive it.
"""

from __future__ import annotations

from functools import lru_cache

# Full-width ASCII (U+FF01..U+FF5E) to ASCII, and the ideographic space to a space.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def fullwidth_to_ascii(text: str) -> str:
    return text.translate(_FULLWIDTH)


@lru_cache(maxsize=4)
def opencc_converter(config: str):
    """One OpenCC converter per config per process (they are costly to build)."""
    import opencc

    return opencc.OpenCC(config)


def fold_for_matching(line: str) -> str:
    """Simplified, half-width form of ``line``, used only to match ingest rules."""
    return opencc_converter("t2s").convert(fullwidth_to_ascii(line))
