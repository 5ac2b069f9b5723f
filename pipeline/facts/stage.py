"""Stage 5, facts: quantities, periods and claims of ``text_final``.

``run_facts(doc)`` reads ``doc.text_final``, ``doc.sentences`` and the entities stage's
``doc.extra_rows["mentions"]`` and stores the rows of the ``quantities`` and ``claims``
tables in ``doc.extra_rows``; ``facts_stage_rows(doc)`` returns them. Relative years
(今年, 去年) are resolved with the article's ``published_date`` when it is known.
"""

from __future__ import annotations

from typing import Any

from pipeline.facts.claims import Claim, find_claims
from pipeline.facts.periods import Period, find_periods
from pipeline.facts.quantities import Quantity, find_quantities
from pipeline.model import ArticleDoc


def ref_year(doc: ArticleDoc) -> int | None:
    date = doc.raw.published_date if doc.raw is not None else None
    if date and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


def extract_facts(
    text: str,
    article_id: str,
    sentences,
    mentions: list[dict[str, Any]] | None = None,
    year: int | None = None,
) -> tuple[list[Period], list[Quantity], list[Claim]]:
    """Periods, quantities and claims of one article (``text`` = ``text_final``)."""
    mentions = list(mentions or [])
    periods = find_periods(text, year)
    quantities = find_quantities(text, article_id, sentences, mentions, periods)
    claims = find_claims(text, article_id, sentences, mentions, quantities, periods, year)
    return periods, quantities, claims


def run_facts(doc: ArticleDoc) -> tuple[list[Quantity], list[Claim]]:
    """The stage: ``quantities`` and ``claims`` rows into ``doc.extra_rows``."""
    _, quantities, claims = extract_facts(
        doc.text_final, doc.article_id, doc.sentences, doc.extra_rows.get("mentions", []), ref_year(doc)
    )
    doc.extra_rows["quantities"] = [q.row(doc.article_id) for q in quantities]
    doc.extra_rows["claims"] = [c.row(doc.article_id) for c in claims]
    return quantities, claims


def facts_stage_rows(doc: ArticleDoc) -> dict[str, list[dict[str, Any]]]:
    """The rows the stage contributes (set by :func:`run_facts`)."""
    return {
        "quantities": list(doc.extra_rows.get("quantities", [])),
        "claims": list(doc.extra_rows.get("claims", [])),
    }

