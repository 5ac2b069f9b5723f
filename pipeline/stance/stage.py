"""Stage 6, stance: rows of the ``stance`` table for one article.

Runs after the entities stage and reads its ``doc.extra_rows["mentions"]`` (to know which
entity a clause is about; without them the configured entities are found with the
catalog). One row per sentence (``scope = sentence``) and one per article
(``scope = article``, ``sent_index`` null, ``target = industry``)::

    article_id   str
    scope        str    sentence | article
    sent_index   int32  null for article rows
    target       str    industry | entity_id (a domestic firm the sentence is about, or the
                        foreign firm a foreign-only sentence is about)
    target_kind  str    industry | domestic | foreign
    label        str    bullish | skeptical | neutral (| mixed for articles)
    score        float64  [-1, 1]; > 0 bullish
    evidence     str    the cues that decided it (format: pipeline.stance.score)

The label is always the stance towards the Chinese AI-chip industry (or the domestic
entity in ``target``); a sentence about a foreign firm only is neutral unless it speaks of
the domestic side (国产替代, 卡脖子 ...).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pipeline.model import ArticleDoc
from pipeline.stance.score import INDUSTRY, SentenceStance, aggregate, score_sentence

SENTENCE, ARTICLE = "sentence", "article"


def _title_text(doc: ArticleDoc) -> str | None:
    title = (doc.raw.title or "").strip()
    if not title:
        return None
    if doc.normalized.script == "hant" or doc.normalized.region not in ("cn", "unknown"):
        from pipeline.normalize import normalize

        return normalize(title, doc.normalized.script, doc.normalized.region).text
    return title


def stance_of(doc: ArticleDoc) -> tuple[list[SentenceStance], SentenceStance | None]:
    """Sentence stances of ``doc`` (in sentence order) and its title's stance."""
    rows = doc.extra_rows.get("mentions")
    by_sentence: dict[int, list[tuple[int, int, str]]] | None = None
    if rows is not None:
        starts = {s.sent_index: s.start for s in doc.sentences}
        by_sentence = defaultdict(list)
        for m in rows:
            base = starts.get(m["sent_index"])
            if base is not None:
                by_sentence[m["sent_index"]].append((m["start"] - base, m["end"] - base, m["entity_id"]))
    text = doc.text_final
    out: list[SentenceStance] = []
    prev: SentenceStance | None = None
    prev_end: int | None = None
    for s in doc.sentences:
        same_paragraph = prev_end is not None and "\n" not in text[prev_end : s.start]
        mentions = None if by_sentence is None else by_sentence.get(s.sent_index, [])
        st = score_sentence(s.text, mentions, prev if same_paragraph else None)
        out.append(st)
        prev, prev_end = st, s.end
    title = _title_text(doc)
    title_stance = score_sentence(title) if title else None
    return out, title_stance


def stance_rows(doc: ArticleDoc) -> list[dict[str, Any]]:
    sentences, title = stance_of(doc)
    rows = [
        {
            "article_id": doc.article_id,
            "scope": SENTENCE,
            "sent_index": s.sent_index,
            "target": st.target,
            "target_kind": st.target_kind,
            "label": st.label,
            "score": st.score,
            "evidence": st.evidence,
        }
        for s, st in zip(doc.sentences, sentences)
    ]
    art = aggregate(sentences, title)
    evidence = art.evidence
    if title is not None and title.evidence:
        evidence += f"; title: {title.evidence}"
    rows.append(
        {
            "article_id": doc.article_id,
            "scope": ARTICLE,
            "sent_index": None,
            "target": INDUSTRY,
            "target_kind": INDUSTRY,
            "label": art.label,
            "score": art.score,
            "evidence": evidence,
        }
    )
    return rows


def run_stance(doc: ArticleDoc) -> None:
    """The stage: stance rows of ``doc`` into ``doc.extra_rows["stance"]``."""
    doc.extra_rows["stance"] = stance_rows(doc)


def stance_stage_rows(doc: ArticleDoc) -> dict[str, list[dict[str, Any]]]:
    """The rows the stage contributes (set by :func:`run_stance`)."""
    return {"stance": list(doc.extra_rows.get("stance", []))}
