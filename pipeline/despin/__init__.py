"""Despin: undo machine "spinning" (context-blind near-synonym swaps) in news text.

``despin(text)`` scores the article and each paragraph (lines) for spin and, in a spun
article, restores the spun words of its spun paragraphs. Modules: ``lm`` (character
n-gram model), ``candidates`` (inverse thesaurus), ``protect`` (names never rewritten),
``detect`` (scores), ``restore`` (choice in context), ``stage`` (the whole stage).
"""

from __future__ import annotations

from pipeline.despin.stage import default_despinner
from pipeline.model import DespinResult


def despin(text: str) -> DespinResult:
    """Restore ``text`` if it is spun; edits index ``text`` (``text[e.start:e.end] == e.spun``)."""
    return default_despinner().run(text)


__all__ = ["despin"]
