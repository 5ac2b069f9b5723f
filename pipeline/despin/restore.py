"""Choice in context: which spun words to restore, and to what.

Every candidate restoration gets a log-odds (see ``choice`` in ``configs/despin.yaml``)
from the LM's preference for the sentence with the candidate over the sentence as it
is, the words' corpus frequencies and a prior per candidate source. Overlapping matches
form a cluster of which at most one is restored. Words are decided left to right, then
re-decided (``passes``) once the words around them have been restored, because spun
words often sit next to each other (核算才能 -> 计算能力).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pipeline.despin.candidates import CILIN, Candidate, Match
from pipeline.despin.lm import BOS, EOS, CharLM


@dataclass(frozen=True)
class ChoiceParams:
    lm_weight: float
    word_freq_weight: float
    prior: dict[str, float]
    cilin_shared_char_bonus: float
    consistency_bonus: float
    domain_word_bonus: float
    domain_words: frozenset[str]
    min_confidence: float
    passes: int
    cilin_only_to_commoner: bool

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> ChoiceParams:
        c = cfg["choice"]
        return cls(
            lm_weight=float(c["lm_weight"]),
            word_freq_weight=float(c["word_freq_weight"]),
            prior={k: float(v) for k, v in c["prior"].items()},
            cilin_shared_char_bonus=float(c["cilin_shared_char_bonus"]),
            consistency_bonus=float(c["consistency_bonus"]),
            domain_word_bonus=float(c["domain_word_bonus"]),
            domain_words=frozenset(c["domain_words"]),
            min_confidence=float(c["min_confidence"]),
            cilin_only_to_commoner=bool(c.get("cilin_only_to_commoner", True)),
            passes=int(c["passes"]),
        )


@dataclass(frozen=True)
class LocalEdit:
    """A restoration inside one paragraph (offsets local to the paragraph)."""

    start: int
    end: int
    spun: str
    restored: str
    confidence: float


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -50 else 0.0


def evidence_logodds(
    lm: CharLM, params: ChoiceParams, left: list[int], right: list[int], spun: str, word: str
) -> float:
    """How much more the LM and word frequencies like ``word`` than ``spun`` here."""
    with_word = lm.continuation_logprob(left, lm.ids(word) + right)
    lm_delta = with_word - lm.continuation_logprob(left, lm.ids(spun) + right)
    freq_delta = lm.word_prior(word) - lm.word_prior(spun)
    return params.lm_weight * lm_delta + params.word_freq_weight * freq_delta


def restoration_logodds(
    lm: CharLM, params: ChoiceParams, left: list[int], right: list[int], spun: str, cand: Candidate, bonus: float
) -> float:
    score = evidence_logodds(lm, params, left, right, spun, cand.word) + params.prior[cand.source] + bonus
    # The LM learnt 1990s news: tell it which words are everyday vocabulary in AI-chip news.
    score += params.domain_word_bonus * ((cand.word in params.domain_words) - (spun in params.domain_words))
    # Spinner thesauri mostly swap words that share a character (技术/技能); a random
    # 词林 synonym that shares none is less likely to be what the spinner replaced.
    if cand.source == CILIN and set(spun) & set(cand.word):
        score += params.cilin_shared_char_bonus
    return score


def consistency_bonuses(
    article: str, forward: dict[str, tuple[str, ...]], params: ChoiceParams
) -> dict[tuple[str, str], float]:
    """Article-level evidence per curated (spun, original) pair.

    A thesaurus spinner swaps a word wherever it occurs, so a spun article that uses
    the spun form but never the original was probably spun for that pair throughout;
    one that uses the original at least as often as the spun form probably was not.
    """
    out = {}
    for original, spun_forms in forward.items():
        n_orig = article.count(original)
        for spun in spun_forms:
            n_spun = article.count(spun)
            if n_spun and n_orig == 0:
                out[(spun, original)] = params.consistency_bonus
            elif n_spun and n_orig >= n_spun:
                out[(spun, original)] = -params.consistency_bonus
    return out


def context_ids(lm: CharLM, text: str, start: int, end: int) -> tuple[list[int], list[int]]:
    """LM context around text[start:end]: order-1 symbols each side, with BOS/EOS at the edges."""
    k = lm.order - 1
    left = ([BOS] if start <= k else []) + lm.ids(text[max(0, start - k) : start])
    right = lm.ids(text[end : end + k]) + ([EOS] if end + k >= len(text) else [])
    return left[-k:], right[:k]


@dataclass
class _Cluster:
    start: int
    end: int
    options: list[tuple[Match, Candidate]]
    choice: tuple[Match, Candidate] | None = None
    confidence: float = 0.0
    applied: str = ""


def _clusters(
    para: str, matches: list[Match], candidates: dict[str, tuple[Candidate, ...]], boundaries: set[int] | None
) -> list[_Cluster]:
    out: list[_Cluster] = []
    for m in sorted(matches, key=lambda m: (m.start, m.end)):
        aligned = boundaries is None or (m.start in boundaries and m.end in boundaries)
        opts = [(m, c) for c in candidates[m.surface] if aligned or c.source != CILIN]
        if not opts:
            continue
        if out and m.start < out[-1].end:
            out[-1].end = max(out[-1].end, m.end)
            out[-1].options.extend(opts)
        else:
            out.append(_Cluster(m.start, m.end, opts))
    for cl in out:
        cl.applied = para[cl.start : cl.end]
    return out


def _left_text(para: str, clusters: list[_Cluster], m: int, pos: int, k: int) -> tuple[str, bool]:
    """Up to k characters before ``pos`` (inside cluster m) with earlier choices applied."""
    pieces = [para[clusters[m].start : pos]]
    got, pos, j = len(pieces[0]), clusters[m].start, m - 1
    while got < k and pos > 0:
        if j >= 0 and clusters[j].end == pos:
            piece, pos = clusters[j].applied, clusters[j].start
            j -= 1
        else:
            boundary = clusters[j].end if j >= 0 else 0
            piece = para[max(boundary, pos - (k - got)) : pos]
            pos -= len(piece)
        pieces.append(piece)
        got += len(piece)
    return "".join(reversed(pieces)), pos == 0


def _right_text(para: str, clusters: list[_Cluster], m: int, pos: int, k: int) -> tuple[str, bool]:
    """Up to k characters after ``pos`` (inside cluster m) with later choices applied."""
    pieces = [para[pos : clusters[m].end]]
    got, pos, j = len(pieces[0]), clusters[m].end, m + 1
    while got < k and pos < len(para):
        if j < len(clusters) and clusters[j].start == pos:
            piece, pos = clusters[j].applied, clusters[j].end
            j += 1
        else:
            boundary = clusters[j].start if j < len(clusters) else len(para)
            piece = para[pos : min(boundary, pos + (k - got))]
            pos += len(piece)
        pieces.append(piece)
        got += len(piece)
    return "".join(pieces), pos == len(para)


def restore_paragraph(
    para: str,
    matches: list[Match],
    candidates: dict[str, tuple[Candidate, ...]],
    lm: CharLM,
    params: ChoiceParams,
    bonuses: dict[tuple[str, str], float],
    boundaries: set[int] | None,
) -> list[LocalEdit]:
    """Restorations for one spun paragraph, given the spun-surface matches to consider.

    ``bonuses`` adds article-level log-odds to some (spun, original) pairs. With
    ``boundaries`` (word boundaries of the paragraph), 词林 candidates are only tried for
    matches that are whole words there: a match across two words (短板正在 holds 板正)
    is no spinner's doing, and only the curated pairs are specific enough to risk it.
    """
    clusters = _clusters(para, matches, candidates, boundaries)
    k = lm.order - 1
    threshold = math.log(params.min_confidence / (1.0 - params.min_confidence))
    for _ in range(params.passes):
        for i, cl in enumerate(clusters):
            best, best_score = None, threshold
            for match, cand in cl.options:
                if cand.source == CILIN and params.cilin_only_to_commoner and lm.word_prior(cand.word) <= lm.word_prior(match.surface):
                    continue
                left_text, at_start = _left_text(para, clusters, i, match.start, k)
                right_text, at_end = _right_text(para, clusters, i, match.end, k)
                left = (([BOS] if at_start else []) + lm.ids(left_text))[-k:]
                right = (lm.ids(right_text) + ([EOS] if at_end else []))[:k]
                bonus = bonuses.get((match.surface, cand.word), 0.0)
                score = restoration_logodds(lm, params, left, right, match.surface, cand, bonus)
                if score >= best_score:
                    best, best_score = (match, cand), score
            cl.choice, cl.confidence = best, sigmoid(best_score)
            if best is None:
                cl.applied = para[cl.start : cl.end]
            else:
                match, cand = best
                cl.applied = para[cl.start : match.start] + cand.word + para[match.end : cl.end]
    return [
        LocalEdit(cl.choice[0].start, cl.choice[0].end, cl.choice[0].surface, cl.choice[1].word, cl.confidence)
        for cl in clusters
        if cl.choice is not None
    ]
