"""The despin stage: detect per article and paragraph, then restore spun paragraphs.

Per paragraph (line): protected names and genuine-use spans are fenced off, spun
surfaces found, evidence counted. Only an article judged spun is restored, and within
it only the paragraphs judged spun; everything else comes back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.config import load_config
from pipeline.despin.candidates import (
    CURATED,
    CandidateTable,
    Match,
    build_table,
    default_table,
    word_boundaries,
)
from pipeline.despin.detect import DetectParams, lm_evidence, scores, signature_hits, text_chars
from pipeline.despin.lm import CharLM, load_lm
from pipeline.despin.protect import (
    Piece,
    VariantHit,
    find_protected,
    genuine_spans,
    protected_terms,
    spun_variants,
)
from pipeline.despin.restore import ChoiceParams, LocalEdit, consistency_bonuses, restore_paragraph
from pipeline.model import DespinResult, SpinEdit


@dataclass
class Despinner:
    lm: CharLM
    table: CandidateTable
    terms: list[str]
    variants: dict[str, tuple[str, tuple[Piece, ...]]]  # spun form -> (term, pieces)
    keep_patterns: list[re.Pattern[str]]
    choice: ChoiceParams
    detect: DetectParams
    protected_confidence: float
    cilin_whole_words: bool

    def run(self, text: str) -> DespinResult:
        paragraphs = text.split("\n")
        offsets = [0]
        for para in paragraphs[:-1]:
            offsets.append(offsets[-1] + len(para) + 1)

        found = [self._inspect(p) for p in paragraphs]
        evidence = [f.evidence for f in found]
        chars = [text_chars(p) for p in paragraphs]
        article_score, para_scores = scores(evidence, chars, self.detect)
        is_spun = article_score >= self.detect.article_threshold

        edits: list[SpinEdit] = []
        if is_spun:
            bonuses = consistency_bonuses(text, self.table.forward, self.choice)
            for para, offset, f, score in zip(paragraphs, offsets, found, para_scores):
                if score < self.detect.paragraph_threshold:
                    continue
                boundaries = word_boundaries(para) if self.cilin_whole_words else None
                local = self._variant_edits(f.variant_hits) + restore_paragraph(
                    para, f.matches, self.table.by_surface, self.lm, self.choice, bonuses, boundaries
                )
                edits.extend(
                    SpinEdit(offset + e.start, offset + e.end, e.spun, e.restored, round(e.confidence, 4))
                    for e in sorted(local, key=lambda e: e.start)
                )
        return DespinResult(
            text_final=apply_edits(text, edits),
            spin_score=round(article_score, 4),
            is_spun=is_spun,
            edits=edits,
            paragraph_scores=[round(s, 4) for s in para_scores],
        )

    def _inspect(self, para: str) -> _Findings:
        protected, hits = find_protected(para, self.terms, self.variants)
        blocked = [False] * len(para)
        for span in [*protected, *hits, *genuine_spans(para, self.keep_patterns)]:
            blocked[span.start : span.end] = [True] * (span.end - span.start)
        matches = [m for m in self.table.find(para) if not any(blocked[m.start : m.end])]
        curated = [m for m in matches if any(c.source == CURATED for c in self.table.by_surface[m.surface])]
        evidence = self.detect.signature_weight * (signature_hits(para, self.detect.signatures) + len(hits))
        evidence += lm_evidence(para, curated, self.table, self.lm, self.choice, self.detect.evidence_margin)
        return _Findings(hits, matches, evidence)

    def _variant_edits(self, hits: list[VariantHit]) -> list[LocalEdit]:
        return [
            LocalEdit(
                h.start + p.offset, h.start + p.offset + len(p.spun), p.spun, p.original, self.protected_confidence
            )
            for h in hits
            for p in h.pieces
        ]


@dataclass
class _Findings:
    """What detection found in a paragraph, kept for restoring it."""

    variant_hits: list[VariantHit]
    matches: list[Match]
    evidence: float


def apply_edits(text: str, edits: list[SpinEdit]) -> str:
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: e.start):
        out.append(text[pos : e.start])
        out.append(e.restored)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def build_despinner(
    despin_cfg: dict[str, Any],
    entities_cfg: dict[str, Any],
    lm: CharLM,
    table: CandidateTable,
) -> Despinner:
    terms = protected_terms(entities_cfg, despin_cfg)
    variants: dict[str, tuple[str, tuple[Piece, ...]]] = {}
    for term in terms:
        for variant, pieces in spun_variants(term, table.forward).items():
            if variant not in terms:
                variants.setdefault(variant, (term, pieces))
    return Despinner(
        lm=lm,
        table=table,
        terms=terms,
        variants=variants,
        keep_patterns=[re.compile(p) for p in despin_cfg.get("keep_patterns") or []],
        choice=ChoiceParams.from_config(despin_cfg),
        detect=DetectParams.from_config(despin_cfg),
        protected_confidence=float(despin_cfg["choice"]["protected_confidence"]),
        cilin_whole_words=bool(despin_cfg["candidates"]["cilin"]["whole_words_only"]),
    )


def despinner_for_pairs(groups: tuple[str, ...]) -> Despinner:
    """The default despinner with only some curated pair groups (for ablations)."""
    cfg = load_config("despin")
    return build_despinner(cfg, load_config("entities"), load_lm(), build_table(cfg, groups))


@lru_cache(maxsize=1)
def default_despinner() -> Despinner:
    return build_despinner(load_config("despin"), load_config("entities"), load_lm(), default_table())
