"""The per-article stages, in order, and the table rows each one contributes.

Adding a stage: write its logic as a plain function in its own module, add a
``Stage`` here (what it does to the ``ArticleDoc`` and which rows it emits), and
add the table's schema in ``schemas.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pipeline import __version__
from pipeline.model import ArticleDoc

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[ArticleDoc], None]
    rows: Callable[[ArticleDoc], Rows]


def _despin(doc: ArticleDoc) -> None:
    from pipeline.despin import despin

    result = despin(doc.normalized.text)
    doc.text_final = result.text_final
    doc.spin_score = result.spin_score
    doc.is_spun = result.is_spun
    doc.spin_edits = result.edits
    if result.is_spun:
        doc.quality_flags.append(f"spin_edits:{len(result.edits)}")


def _despin_rows(doc: ArticleDoc) -> Rows:
    return {
        "spin_edits": [
            {"article_id": doc.article_id, "start": e.start, "end": e.end, "spun": e.spun, "restored": e.restored, "confidence": e.confidence}
            for e in doc.spin_edits
        ]
    }


def _sentences(doc: ArticleDoc) -> None:
    from pipeline.sentences import split_sentences

    doc.sentences = split_sentences(doc.text_final)


def _sentence_rows(doc: ArticleDoc) -> Rows:
    return {
        "sentences": [
            {"article_id": doc.article_id, "sent_index": s.sent_index, "start": s.start, "end": s.end, "text": s.text}
            for s in doc.sentences
        ]
    }


def _entities(doc: ArticleDoc) -> None:
    from pipeline.entities.stage import run_entities

    run_entities(doc)


def _entity_rows(doc: ArticleDoc) -> Rows:
    from pipeline.entities.stage import entities_stage_rows

    return entities_stage_rows(doc)


def _facts(doc: ArticleDoc) -> None:
    from pipeline.facts.stage import run_facts

    run_facts(doc)


def _fact_rows(doc: ArticleDoc) -> Rows:
    from pipeline.facts.stage import facts_stage_rows

    return facts_stage_rows(doc)


def _stance(doc: ArticleDoc) -> None:
    from pipeline.stance.stage import run_stance

    run_stance(doc)


def _stance_rows(doc: ArticleDoc) -> Rows:
    from pipeline.stance.stage import stance_stage_rows

    return stance_stage_rows(doc)


STAGES: list[Stage] = [
    Stage("despin", _despin, _despin_rows),
    Stage("sentences", _sentences, _sentence_rows),
    Stage("entities", _entities, _entity_rows),
    Stage("facts", _facts, _fact_rows),
    Stage("stance", _stance, _stance_rows),
]


def article_row(doc: ArticleDoc, run_id: str) -> dict[str, Any]:
    raw = doc.raw
    return {
        "article_id": doc.article_id,
        "source_path": raw.source_path,
        "part_index": raw.part_index,
        "outlet": raw.outlet,
        "title": raw.title,
        "author": raw.author,
        "url": raw.url,
        "published_date": _parse_date(raw.published_date),
        "encoding": raw.encoding,
        "script": doc.normalized.script,
        "region": doc.normalized.region,
        "text_original": raw.text,
        "text_normalized": doc.normalized.text,
        "text_final": doc.text_final,
        "norm_offsets": doc.normalized.offsets,
        "spin_score": doc.spin_score,
        "is_spun": doc.is_spun,
        "quality_flags": raw.quality_flags + doc.quality_flags,
        "removed": [{"rule": r.rule, "text": r.text} for r in raw.removed],
        "near_duplicate_of": None,
        "n_chars": len(doc.text_final),
        "pipeline_version": __version__,
        "run_id": run_id,
    }


def _parse_date(value: str | None):
    import datetime as dt

    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
