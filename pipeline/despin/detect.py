"""Spin detection: how much spinner evidence a paragraph and an article carry.

Evidence is counted, not guessed: signature collocations that normal text almost never
contains, spun forms of protected names, and curated spun words that the LM alone
already prefers to restore (curated pairs only: cilin synonyms are too common in clean
text to count). Scores turn evidence per 100 characters into [0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.despin.candidates import CURATED, CandidateTable, Match
from pipeline.despin.lm import CharLM
from pipeline.despin.restore import ChoiceParams, context_ids, evidence_logodds


@dataclass(frozen=True)
class DetectParams:
    signatures: tuple[str, ...]
    signature_weight: float
    evidence_margin: float
    half_rate: float
    article_threshold: float
    paragraph_threshold: float
    article_pseudo_chars: float
    paragraph_pseudo_chars: float

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> DetectParams:
        d = cfg["detection"]
        return cls(
            signatures=tuple(d["signatures"]),
            signature_weight=float(d["signature_weight"]),
            evidence_margin=float(d["evidence_margin"]),
            half_rate=float(d["half_rate"]),
            article_threshold=float(d["article_threshold"]),
            paragraph_threshold=float(d["paragraph_threshold"]),
            article_pseudo_chars=float(d["article_pseudo_chars"]),
            paragraph_pseudo_chars=float(d["paragraph_pseudo_chars"]),
        )


def signature_hits(para: str, signatures: tuple[str, ...]) -> int:
    return sum(para.count(sig) for sig in signatures)


def lm_evidence(
    para: str, matches: list[Match], table: CandidateTable, lm: CharLM, choice: ChoiceParams, margin: float
) -> int:
    """Curated spun words whose best curated original beats them by ``margin`` without priors."""
    count = 0
    for m in matches:
        left, right = context_ids(lm, para, m.start, m.end)
        best = max(
            evidence_logodds(lm, choice, left, right, m.surface, c.word)
            for c in table.by_surface[m.surface]
            if c.source == CURATED
        )
        count += best >= margin
    return count


def text_chars(para: str) -> int:
    return sum(1 for ch in para if not ch.isspace())


def rate_score(evidence: float, chars: float, half_rate: float) -> float:
    """Evidence per 100 characters mapped to [0, 1); ``half_rate`` scores 0.5."""
    if chars <= 0 or evidence <= 0:
        return 0.0
    rate = 100.0 * evidence / chars
    return rate / (rate + half_rate)


def scores(evidence: list[float], chars: list[int], params: DetectParams) -> tuple[float, list[float]]:
    """Article score and per-paragraph scores; paragraphs are shrunk towards the article.

    The article's characters are padded with evidence-free ones, so that one stray hit
    in a short clean text does not make it look spun.
    """
    total_chars = sum(chars)
    article = rate_score(sum(evidence), total_chars + params.article_pseudo_chars, params.half_rate)
    article_rate = sum(evidence) / total_chars if total_chars else 0.0
    pseudo = params.paragraph_pseudo_chars
    paragraphs = [
        rate_score(e + pseudo * article_rate, c + pseudo, params.half_rate) if c else 0.0
        for e, c in zip(evidence, chars)
    ]
    return article, paragraphs
