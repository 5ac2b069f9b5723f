"""Measures shared by the despin evaluation script and its tests."""

from __future__ import annotations

from collections import Counter

from pipeline.model import DespinResult


def edit_distance(a: str, b: str) -> int:
    """Character Levenshtein distance."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def line_distance(a: str, b: str) -> int:
    """Edit distance summed over lines (spinning and restoring never touch newlines)."""
    la, lb = a.split("\n"), b.split("\n")
    if len(la) != len(lb):
        return edit_distance(a, b)
    return sum(edit_distance(x, y) for x, y in zip(la, lb))


def split_at_attribution(text: str, marker: str = "本文源自") -> tuple[str, list[str]]:
    """The article before its first outlet line, and the lines after it (aggregated files)."""
    lines = text.split("\n")
    cut = next((i for i, line in enumerate(lines) if line.startswith(marker)), len(lines))
    return "\n".join(lines[:cut]), lines[cut + 1 :]


def trailing_parts(lines: list[str]) -> tuple[list[str], list[str]]:
    """Teasers (cut-off lines ending in ...) and snippets (runs of other body lines)."""
    teasers, snippets, run = [], [], []
    for line in lines + [""]:
        if line.endswith(("...", "…")):
            teasers.append(line)
        elif len(line) > 40:
            run.append(line)
            continue
        if run:
            snippets.append("\n".join(run))
            run = []
    return teasers, snippets


def pair_restoration(text: str, result: DespinResult, pairs: list[tuple[str, str]]) -> tuple[int, int]:
    """(restored, occurrences) of the spun surfaces of ``pairs`` in ``text``."""
    edits = Counter((e.spun, e.restored) for e in result.edits)
    surfaces = {s for _, s in pairs}
    occurrences = sum(text.count(s) for s in surfaces)
    restored = sum(n for (s, o), n in edits.items() if (o, s) in set(pairs))
    return restored, occurrences
