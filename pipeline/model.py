"""Data objects passed between stages.

Stages talk only through these: ingest yields ``RawArticle`` and ``Reject``;
normalize returns ``NormalizedText``; despin returns ``DespinResult``; the runner
assembles an ``ArticleDoc`` that every per-article stage reads and extends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Removal:
    """A piece of input that ingest dropped, and the rule that dropped it."""

    rule: str
    text: str


@dataclass
class RawArticle:
    """One article as ingest found it: cleaned text in its original script."""

    source_path: str
    part_index: int  # position of the article inside its source file
    text: str
    title: str | None = None
    outlet: str | None = None
    author: str | None = None
    url: str | None = None
    published_date: str | None = None  # ISO yyyy-mm-dd when known
    encoding: str | None = None
    removed: list[Removal] = field(default_factory=list)
    quality_flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reject:
    """An input (or part of one) that could not be used, with a reason code."""

    source_path: str
    reason: str  # short code: empty, binary, undecodable, too_large, teaser, ...
    detail: str


@dataclass
class IngestResult:
    articles: list[RawArticle]
    rejects: list[Reject]


@dataclass
class NormalizedText:
    """Simplified, mainland-vocabulary text plus the map back to the original.

    ``offsets[i]`` is the index in the original text of normalized character ``i``;
    ``offsets[len(text)] == len(original)`` so that span ends map too.
    """

    text: str
    script: str  # hans | hant
    region: str  # cn | tw | hk | unknown
    offsets: list[int]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of ``text`` to the covering span of the original text."""
        if not (0 <= start <= end <= len(self.text)):
            raise IndexError(f"span {start}:{end} outside normalized text of {len(self.text)}")
        if start == end:
            return self.offsets[start], self.offsets[start]
        return self.offsets[start], max(self.offsets[end - 1] + 1, self.offsets[end])


@dataclass(frozen=True)
class SpinEdit:
    """One restored word; ``start``/``end`` index ``text_normalized``."""

    start: int
    end: int
    spun: str
    restored: str
    confidence: float


@dataclass
class DespinResult:
    text_final: str
    spin_score: float
    is_spun: bool
    edits: list[SpinEdit] = field(default_factory=list)
    paragraph_scores: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Sentence:
    sent_index: int
    start: int  # offsets in text_final
    end: int
    text: str


@dataclass
class ArticleDoc:
    """The record an article accumulates as it passes through the stages."""

    article_id: str
    raw: RawArticle
    normalized: NormalizedText
    text_final: str = ""
    spin_score: float = 0.0
    is_spun: bool = False
    spin_edits: list[SpinEdit] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    quality_flags: list[str] = field(default_factory=list)
    extra_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
