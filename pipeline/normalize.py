"""Stage 2, normalize: script and region detection, conversion to Simplified mainland text.

Every step edits an ``OffsetText``, which carries, for each character, its index
in the original text; so any span of the result maps back (``NormalizedText``).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

from pipeline.config import load_config
from pipeline.model import NormalizedText
from pipeline.textfold import opencc_converter

_HAN = re.compile(r"[\u3400-\u9fff]")
# Full-width letters, digits and a few symbols that belong to numbers.
_FULLWIDTH_ALNUM = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp - 0xFEE0).isalnum() or chr(cp - 0xFEE0) in "%.+-/=&@#$"}
_FULLWIDTH_ALNUM[0x3000] = 0x20


@dataclass
class OffsetText:
    """Text whose every character remembers its index in the original."""

    text: str
    offsets: list[int]
    original_length: int

    @classmethod
    def of(cls, original: str) -> "OffsetText":
        return cls(original, list(range(len(original))), len(original))

    def splice(self, edits: Iterable[tuple[int, int, str]]) -> "OffsetText":
        """Apply non-overlapping (start, end, replacement) edits, sorted by start.

        A replacement of another length spreads its characters over the span it
        replaced, so each new character still points into the right original span.
        """
        parts: list[str] = []
        offs: list[int] = []
        cursor = 0
        for start, end, repl in edits:
            parts.append(self.text[cursor:start])
            offs.extend(self.offsets[cursor:start])
            span = self.offsets[start:end] or [self.offsets[start] if start < len(self.offsets) else self.original_length]
            for k in range(len(repl)):
                offs.append(span[min(k * len(span) // max(len(repl), 1), len(span) - 1)])
            parts.append(repl)
            cursor = end
        parts.append(self.text[cursor:])
        offs.extend(self.offsets[cursor:])
        return OffsetText("".join(parts), offs, self.original_length)

    def translate_chars(self, table: dict[int, int | str]) -> "OffsetText":
        """A one-to-one character map keeps offsets unchanged."""
        return OffsetText(self.text.translate(table), self.offsets, self.original_length)


@dataclass(frozen=True)
class Settings:
    min_traditional_share: float
    min_specific_chars: int
    region_min_score: int
    region_cues: dict[str, dict[str, int]]
    variant_chars: dict[str, int]
    opencc: dict[str, str]
    overrides: dict[str, str]
    phrases: dict[str, str]
    zhe_keep: tuple[str, ...]
    punctuation: dict[str, str]


@lru_cache(maxsize=1)
def settings() -> Settings:
    cfg: dict[str, Any] = load_config("normalize")
    return Settings(
        min_traditional_share=float(cfg["script"]["min_traditional_share"]),
        min_specific_chars=int(cfg["script"]["min_specific_chars"]),
        region_min_score=int(cfg["region"]["min_score"]),
        region_cues={k: dict(v) for k, v in cfg["region"]["cues"].items()},
        variant_chars=dict(cfg["region"]["mainland_variant_chars"]),
        opencc=dict(cfg["opencc"]),
        overrides=dict(cfg["overrides"]),
        phrases=dict(cfg["phrases"]),
        zhe_keep=tuple(cfg["zhe_keep"]),
        punctuation=dict(cfg["punctuation"]),
    )


def detect_script(text: str) -> str:
    """``hant`` when most script-specific characters are Traditional, else ``hans``."""
    s = settings()
    sample = text[:50_000]
    simplified = opencc_converter("t2s").convert(sample)
    traditional = opencc_converter("s2t").convert(sample)
    trad_only = sum(1 for a, b in zip(sample, simplified) if a != b)
    simp_only = sum(1 for a, b in zip(sample, traditional) if a != b)
    specific = trad_only + simp_only
    if specific < s.min_specific_chars:
        return "hans"
    return "hant" if trad_only / specific >= s.min_traditional_share else "hans"


def detect_region(text: str, script: str) -> str:
    """Region from vocabulary cues (counted on a Simplified fold of the text)."""
    s = settings()
    folded = opencc_converter("t2s").convert(text[:50_000]) if script == "hant" else text[:50_000]
    scores: Counter[str] = Counter()
    for region, cues in s.region_cues.items():
        for word, weight in cues.items():
            scores[region] += weight * folded.count(word)
    if script == "hant":
        scores["cn"] += sum(w * text.count(ch) for ch, w in s.variant_chars.items())
    best, score = max(scores.items(), key=lambda kv: (kv[1], kv[0] == "cn"), default=("unknown", 0))
    if score >= s.region_min_score:
        return best
    return "cn" if script == "hans" else "unknown"


def normalize(original: str, script: str | None = None, region: str | None = None) -> NormalizedText:
    """Simplified, mainland-vocabulary text with an offset map back to ``original``."""
    script = script or detect_script(original)
    region = region or detect_region(original, script)
    doc = OffsetText.of(original)
    if script == "hant":
        doc = _opencc(doc, settings().opencc.get(region, "t2s"))
        doc = _apply_overrides(doc, original)
        doc = _replace_words(doc, settings().phrases)
        doc = _fold_zhe(doc)
    doc = doc.translate_chars(_FULLWIDTH_ALNUM)
    doc = _chinese_punctuation(doc)
    return NormalizedText(doc.text, script, region, doc.offsets + [len(original)])


def _opencc(doc: OffsetText, config: str) -> OffsetText:
    """Convert line by line; lines whose length changes are aligned character-wise."""
    converter = opencc_converter(config)
    char_fold = opencc_converter("t2s")
    edits: list[tuple[int, int, str]] = []
    pos = 0
    for line in doc.text.split("\n"):
        converted = converter.convert(line)
        if converted != line:
            if len(converted) == len(line):
                edits.extend((pos + i, pos + i + 1, b) for i, (a, b) in enumerate(zip(line, converted)) if a != b)
            else:
                edits.extend(_aligned_edits(char_fold.convert(line), line, converted, pos))
        pos += len(line) + 1
    return doc.splice(edits)


def _aligned_edits(folded: str, line: str, converted: str, base: int) -> list[tuple[int, int, str]]:
    """Edits turning ``line`` into ``converted``, found by aligning its char-wise fold."""
    if len(folded) != len(line):
        folded = line
    matcher = difflib.SequenceMatcher(None, folded, converted, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            edits.extend((base + i1 + k, base + i1 + k + 1, converted[j1 + k]) for k in range(i2 - i1) if line[i1 + k] != converted[j1 + k])
        else:
            edits.append((base + i1, base + i2, converted[j1:j2]))
    return edits


def _apply_overrides(doc: OffsetText, original: str) -> OffsetText:
    """Put back the configured result wherever the original had an override word."""
    edits = []
    index_of = {orig: i for i, orig in enumerate(doc.offsets)}
    for word, wanted in settings().overrides.items():
        for m in re.finditer(re.escape(word), original):
            start = index_of.get(m.start())
            end = index_of.get(m.end() - 1)
            if start is None or end is None or end - start + 1 != len(wanted):
                continue
            if doc.text[start : end + 1] != wanted:
                edits.append((start, end + 1, wanted))
    return doc.splice(sorted(set(edits)))


def _replace_words(doc: OffsetText, pairs: dict[str, str]) -> OffsetText:
    if not pairs:
        return doc
    pattern = re.compile("|".join(sorted(map(re.escape, pairs), key=len, reverse=True)))
    return doc.splice((m.start(), m.end(), pairs[m.group(0)]) for m in pattern.finditer(doc.text) if pairs[m.group(0)] != m.group(0))


def _fold_zhe(doc: OffsetText) -> OffsetText:
    keep = settings().zhe_keep
    edits = []
    for m in re.finditer("著", doc.text):
        i = m.start()
        if not any(doc.text.startswith(w, i - w.index("著")) for w in keep if i - w.index("著") >= 0):
            edits.append((i, i + 1, "着"))
    return doc.splice(edits)


def _chinese_punctuation(doc: OffsetText) -> OffsetText:
    """ASCII , : ; ? ! next to a Chinese character, and ( ) pairs in Chinese context,
    become their Chinese forms; ASCII contexts (1,000 / URLs / English) keep theirs."""
    table = settings().punctuation
    text = doc.text
    edits = []
    for a, b in _paren_pairs(text):
        outside = text[a - 1 : a] + text[b + 1 : b + 2]
        if _HAN.search(outside) or _HAN.search(text[a + 1 : b]):
            edits += [(a, a + 1, table.get("(", "(")), (b, b + 1, table.get(")", ")"))]
    for i, ch in enumerate(text):
        if ch not in table or ch in "()":
            continue
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if _HAN.match(before or " ") or (_HAN.match(after or " ") and not before.isdigit()):
            edits.append((i, i + 1, table[ch]))
    return doc.splice(sorted(edits))


def _paren_pairs(text: str) -> list[tuple[int, int]]:
    """Matched ASCII parenthesis pairs on one line."""
    pairs, stack = [], []
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            pairs.append((stack.pop(), i))
        elif ch == "\n":
            stack.clear()
    return pairs
