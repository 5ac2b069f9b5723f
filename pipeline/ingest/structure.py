"""Text structure: split a file's text into articles, pull metadata, drop boilerplate.

Rules come from ``configs/ingest.yaml``; each line is matched in a folded
(Simplified, half-width) form so the same rule serves every script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pipeline.config import load_config
from pipeline.model import Removal
from pipeline.textfold import fold_for_matching

_SENTENCE_END = re.compile(r"[。…]$")  # a question or exclamation may well be a headline


@dataclass
class Rules:
    line_rules: list[tuple[str, re.Pattern[str]]]
    cut_rules: list[tuple[str, re.Pattern[str]]]
    meta: dict[str, list[re.Pattern[str]]]
    meta_line: re.Pattern[str]
    meta_max_chars: int
    article_end: re.Pattern[str]
    min_body_before_end: int
    teaser_end: re.Pattern[str]
    teaser_max_chars: int
    min_article_chars: int
    body_min_chars: int
    max_header_lines: int


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    cfg: dict[str, Any] = load_config("ingest")
    line_rules, cut_rules = [], []
    for name, rule in cfg["boilerplate"].items():
        if "line" in rule:
            line_rules.append((name, re.compile(rule["line"], re.I)))
        if "cut_rest" in rule:
            cut_rules.append((name, re.compile(rule["cut_rest"], re.I)))
    meta = cfg["metadata"]
    return Rules(
        line_rules=line_rules,
        cut_rules=cut_rules,
        meta={k: [re.compile(p) for p in meta[k]] for k in ("outlet", "author", "url", "date")},
        meta_line=re.compile(meta["line_starts"]),
        meta_max_chars=int(meta["max_line_chars"]),
        article_end=re.compile(cfg["article_end"]),
        min_body_before_end=int(cfg["min_body_before_end"]),
        teaser_end=re.compile(cfg["teaser"]["ends_with"]),
        teaser_max_chars=int(cfg["teaser"]["max_chars"]),
        min_article_chars=int(cfg["min_article_chars"]),
        body_min_chars=int(cfg["header"]["body_min_chars"]),
        max_header_lines=int(cfg["header"]["max_header_lines"]),
    )


@dataclass
class Segment:
    """The lines of one article (or teaser) inside a file, before cleaning."""

    lines: list[str]
    kind: str = "article"  # article | teaser | trailer


@dataclass
class Metadata:
    title: str | None = None
    outlet: str | None = None
    author: str | None = None
    url: str | None = None
    published_date: str | None = None


@dataclass
class CleanArticle:
    text: str
    meta: Metadata
    removed: list[Removal] = field(default_factory=list)


def _is_meta_line(folded: str, rules: Rules) -> bool:
    return len(folded) <= rules.meta_max_chars and bool(rules.meta_line.search(folded))


def split_segments(text: str) -> list[Segment]:
    """Split an aggregated file into article segments and cut-off teasers.

    An article ends at an outlet line ("本文源自:X") met after enough body, together
    with the short metadata lines right after it; teaser lines (short, ending in
    "...") between articles are their own segments. What is left after the last
    end line and is too short to be an article becomes a ``trailer``.
    """
    rules = load_rules()
    lines = [ln.strip() for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]
    segments: list[Segment] = []
    current: list[str] = []
    body_chars = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        folded = fold_for_matching(line)
        if len(line) <= rules.teaser_max_chars and rules.teaser_end.search(line) and not current_is_open(current, body_chars, rules):
            segments.append(Segment([line], "teaser"))
            i += 1
            continue
        current.append(line)
        if not _is_meta_line(folded, rules):
            body_chars += len(line)
        i += 1
        if rules.article_end.search(folded) and body_chars >= rules.min_body_before_end:
            # Short metadata lines right after the end line belong to this article.
            while i < len(lines) and _trails_article(lines[i], rules):
                current.append(lines[i])
                i += 1
            segments.append(Segment(current))
            current, body_chars = [], 0
    if current:
        segments.append(Segment(current))
    return _mark_trailers(segments, rules)


def _trails_article(line: str, rules: Rules) -> bool:
    """A short metadata line (作者:X) after an end line, but not the next article's teaser."""
    folded = fold_for_matching(line)
    return _is_meta_line(folded, rules) and not rules.article_end.search(folded) and not rules.teaser_end.search(line)


def current_is_open(current: list[str], body_chars: int, rules: Rules) -> bool:
    """A "..." line inside a running article body is text, not a teaser."""
    return body_chars >= rules.min_article_chars and len(current) > 0


def _mark_trailers(segments: list[Segment], rules: Rules) -> list[Segment]:
    articles_seen = False
    for seg in segments:
        if seg.kind != "article":
            continue
        size = sum(len(ln) for ln in seg.lines)
        if articles_seen and size < rules.min_article_chars:
            seg.kind = "trailer"
        articles_seen = articles_seen or size >= rules.min_article_chars
    return segments


def _resolve_metadata(meta_lines: list[tuple[str, str]], meta: Metadata, rules: Rules) -> None:
    """Fill empty fields from (original, folded) lines; earlier config patterns win.

    Values are cut from the original line (its script kept) when folding kept
    the line's length, which it does for all but a few OpenCC phrases.
    """
    def value_of(m: re.Match[str], original: str, folded: str) -> str:
        span = original if len(original) == len(folded) else folded
        return span[m.start("value") : m.end("value")].strip()

    for key in ("outlet", "author", "url", "published_date"):
        if getattr(meta, key) is not None:
            continue
        for pat in rules.meta["date" if key == "published_date" else key]:
            value = next((value_of(m, orig, fold) for orig, fold in meta_lines if (m := pat.search(fold))), None)
            if key == "published_date" and value:
                value = iso_date(value)
            if value:
                setattr(meta, key, value)
                break


def iso_date(raw: str) -> str | None:
    parts = re.findall(r"\d+", raw)[:3]
    if len(parts) != 3:
        return None
    y, m, d = (int(p) for p in parts)
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _boilerplate_rule(folded: str, rules: Rules) -> str | None:
    for name, pat in rules.line_rules:
        if pat.search(folded):
            return name
    return None


def clean_segment(seg: Segment, meta: Metadata | None = None) -> CleanArticle:
    """Drop boilerplate and metadata lines from one article segment, keeping a log."""
    rules = load_rules()
    meta = meta or Metadata()
    removed: list[Removal] = []
    kept: list[str] = []
    meta_lines: list[tuple[str, str]] = []
    lines = seg.lines
    for idx, line in enumerate(lines):
        folded = fold_for_matching(line)
        cut = next((name for name, pat in rules.cut_rules if pat.search(folded)), None)
        if cut:
            removed.extend(Removal(cut, ln) for ln in lines[idx:])
            break
        if _is_meta_line(folded, rules):
            meta_lines.append((line, folded))
            removed.append(Removal("metadata", line))
            continue
        rule = _boilerplate_rule(folded, rules)
        if rule:
            removed.append(Removal(rule, line))
            continue
        kept.append(line)
    _resolve_metadata(meta_lines, meta, rules)
    kept = _strip_header(kept, meta, removed, rules)
    return CleanArticle("\n".join(kept), meta, removed)


def _strip_header(lines: list[str], meta: Metadata, removed: list[Removal], rules: Rules) -> list[str]:
    """Before the first body line: one title (a repeated line wins), the rest is site header."""
    first_body = next(
        (i for i, ln in enumerate(lines) if len(ln) >= rules.body_min_chars or (_SENTENCE_END.search(ln) and len(ln) >= 15)),
        len(lines),
    )
    if first_body == 0 or first_body > rules.max_header_lines:
        return lines
    prelude = lines[:first_body]
    repeated = [ln for ln in prelude if prelude.count(ln) > 1 and len(ln) >= 4]
    candidates = repeated or [ln for ln in prelude if len(ln) >= 4]
    title = meta.title or (max(candidates, key=len) if candidates else None)
    title_kept = False
    for ln in prelude:
        if ln == title and not title_kept:
            title_kept = True  # the title line stays out of the body; it lives in `title`
            removed.append(Removal("title", ln))
        else:
            removed.append(Removal("header", ln))
    meta.title = title
    return lines[first_body:]
