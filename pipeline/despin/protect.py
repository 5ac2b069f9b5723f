"""Protected text: names never rewritten (but restored as a whole when the spinner hit
them), and words whose context shows they are used in their own sense.

Protected terms are every ``name`` and ``aliases`` entry of ``configs/entities.yaml``
plus ``protected_terms`` of ``configs/despin.yaml``. A spun form of a term (some of its
words swapped by curated pairs, e.g. 产业投资 -> 工业出资) can only come from the
spinner, so it is restored to the term without asking the LM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Terms are short; this bounds the variants of a term stuffed with spinnable words.
_MAX_VARIANTS_PER_TERM = 256


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Piece:
    """One swapped word inside a spun form of a protected term."""

    offset: int  # in the spun form
    spun: str
    original: str


@dataclass(frozen=True)
class VariantHit:
    start: int
    end: int
    term: str
    pieces: tuple[Piece, ...]


def protected_terms(entities_cfg: dict[str, Any], despin_cfg: dict[str, Any]) -> list[str]:
    terms = set(despin_cfg.get("protected_terms") or [])
    for entity in entities_cfg.get("entities") or []:
        terms.add(entity["name"])
        terms.update(entity.get("aliases") or [])
    return sorted(t for t in terms if t)


def spun_variants(term: str, forward: dict[str, tuple[str, ...]]) -> dict[str, tuple[Piece, ...]]:
    """Every spun form of ``term`` (not the term itself) with the words swapped in it."""
    # states[i]: spun forms of term[:i]; from position i either keep one character or
    # swap a curated original starting there for each of its spun forms.
    states: list[list[tuple[str, tuple[Piece, ...]]]] = [[] for _ in range(len(term) + 1)]
    states[0] = [("", ())]
    for i in range(len(term)):
        steps: list[tuple[str, str | None, int]] = [(term[i], None, 1)]
        for original, spun_forms in forward.items():
            if term.startswith(original, i):
                steps.extend((spun, original, len(original)) for spun in spun_forms)
        for prefix, pieces in states[i]:
            for text, original, length in steps:
                if len(states[i + length]) >= _MAX_VARIANTS_PER_TERM:
                    continue
                if original is not None:
                    pieces_out = pieces + (Piece(len(prefix), text, original),)
                else:
                    pieces_out = pieces
                states[i + length].append((prefix + text, pieces_out))
    return {text: pieces for text, pieces in states[len(term)] if pieces and text != term}


def genuine_spans(text: str, patterns: list[re.Pattern[str]]) -> list[Span]:
    """Spans of the ``keep`` group of each pattern match: words used in their own sense."""
    return [Span(*m.span("keep")) for p in patterns for m in p.finditer(text)]


def find_all(text: str, needle: str) -> list[int]:
    out = []
    pos = text.find(needle)
    while pos >= 0:
        out.append(pos)
        pos = text.find(needle, pos + 1)
    return out


def _claim(text: str, needles: list[str], taken: list[bool]) -> list[tuple[int, str]]:
    """Occurrences of ``needles`` over free characters, longest needles first."""
    out = []
    for needle in sorted(needles, key=lambda n: (-len(n), n)):
        for start in find_all(text, needle):
            end = start + len(needle)
            if not any(taken[start:end]):
                taken[start:end] = [True] * len(needle)
                out.append((start, needle))
    return sorted(out)


def find_protected(
    text: str, terms: list[str], variants: dict[str, tuple[str, tuple[Piece, ...]]]
) -> tuple[list[Span], list[VariantHit]]:
    """Protected spans of ``text`` (exact terms first, then spun forms of terms).

    ``variants`` maps a spun form to (term, pieces), as built from ``spun_variants``.
    """
    taken = [False] * len(text)
    spans = [Span(s, s + len(t)) for s, t in _claim(text, terms, taken)]
    hits = []
    for start, variant in _claim(text, list(variants), taken):
        term, pieces = variants[variant]
        hits.append(VariantHit(start, start + len(variant), term, pieces))
    return spans, hits
