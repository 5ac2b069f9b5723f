"""Stage 1, ingest: a file on disk becomes clean articles (original script) and rejects.

Steps, each in its own module: decode (encoding), read the format (formats,
markup), repair the text (markup remnants, pinyin, mojibake), then split it into
articles and drop boilerplate (structure).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pipeline.config import load_config
from pipeline.ingest.encoding import decode_bytes
from pipeline.ingest.errors import InputRejected
from pipeline.ingest.formats import Document, read_documents
from pipeline.ingest.markup import strip_markup_remnants
from pipeline.ingest.mojibake import repair_misaligned_gbk
from pipeline.ingest.pinyin import strip_pinyin
from pipeline.ingest.structure import Metadata, clean_segment, iso_date, split_segments
from pipeline.model import IngestResult, RawArticle, Reject, Removal

_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u200b]+")


def max_file_bytes() -> int:
    return int(float(load_config("ingest")["max_file_mb"]) * 1024 * 1024)


def ingest_file(path: str | os.PathLike[str], source_path: str | None = None) -> IngestResult:
    """Read one file into articles; every problem becomes a ``Reject``, never an exception."""
    path = Path(path)
    source = source_path or str(path)
    try:
        size = path.stat().st_size
        if size > max_file_bytes():
            return _reject(source, "too_large", f"{size / 1e6:.1f} MB exceeds max_file_mb in configs/ingest.yaml")
        data = path.read_bytes()
    except OSError as exc:
        return _reject(source, "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
    return ingest_bytes(data, source, path.suffix)


def ingest_bytes(data: bytes, source_path: str, suffix: str = ".txt") -> IngestResult:
    try:
        decoded = decode_bytes(data)
        documents = read_documents(suffix, decoded.text)
    except InputRejected as exc:
        return _reject(source_path, exc.reason, exc.detail)
    articles: list[RawArticle] = []
    rejects: list[Reject] = []
    for doc in documents:
        found, lost = _articles_of(doc, source_path, decoded.encoding, decoded.flags, len(articles))
        articles.extend(found)
        rejects.extend(lost)
    if not articles and not rejects:
        rejects.append(Reject(source_path, "no_article", "nothing left after removing boilerplate"))
    return IngestResult(articles, rejects)


def repair_text(text: str) -> tuple[str, list[str]]:
    """Markup remnants, pinyin annotations and misaligned GBK runs, with quality flags."""
    flags: list[str] = []
    text, n_markup = strip_markup_remnants(text)
    if n_markup:
        flags.append(f"markup_removed:{n_markup}")
    text, n_pinyin = strip_pinyin(text)
    if n_pinyin:
        flags.append(f"pinyin_removed:{n_pinyin}")
    repair = repair_misaligned_gbk(text)
    if repair.runs_repaired:
        flags.append(f"mojibake_runs_repaired:{repair.runs_repaired}")
    if repair.unrecoverable:
        flags.append(f"unrecoverable_chars:{repair.unrecoverable}")
    lines = (_SPACES.sub(" ", ln).strip() for ln in repair.text.split("\n"))
    return "\n".join(ln for ln in lines if ln), flags


def _articles_of(
    doc: Document, source_path: str, encoding: str, file_flags: list[str], first_index: int
) -> tuple[list[RawArticle], list[Reject]]:
    text, flags = repair_text(doc.text)
    flags = file_flags + doc.flags + flags
    articles: list[RawArticle] = []
    rejects: list[Reject] = []
    min_chars = int(load_config("ingest")["min_article_chars"])
    for seg in split_segments(text):
        if seg.kind == "teaser":
            rejects.append(Reject(source_path, "teaser", f"cut-off snippet: {seg.lines[0][:60]}"))
            continue
        if seg.kind == "trailer":
            if articles:
                articles[-1].removed.extend(Removal("trailer", ln) for ln in seg.lines)
            continue
        meta = Metadata(**{k: v for k, v in doc.meta.items() if k in Metadata.__dataclass_fields__})
        if meta.published_date:
            meta.published_date = iso_date(meta.published_date)
        clean = clean_segment(seg, meta)
        if len(clean.text) < min_chars and articles:
            # Footer matter after an article's end line (disclaimers, ads): part of that article's removals.
            articles[-1].removed.extend(clean.removed + [Removal("trailer", ln) for ln in clean.text.split("\n") if ln])
            continue
        if len(clean.text) < 20:
            rejects.append(Reject(source_path, "no_article", f"segment has no body after cleaning: {seg.lines[0][:60]}"))
            continue
        n_marks = clean.text.count("\ufffd")
        article_flags = flags + ([f"replacement_chars:{n_marks}"] if n_marks else [])
        articles.append(
            RawArticle(
                source_path=source_path,
                part_index=first_index + len(articles),
                text=clean.text,
                title=clean.meta.title,
                outlet=clean.meta.outlet,
                author=clean.meta.author,
                url=clean.meta.url,
                published_date=clean.meta.published_date,
                encoding=encoding,
                removed=clean.removed,
                quality_flags=article_flags,
            )
        )
    return articles, rejects


def _reject(source: str, reason: str, detail: str) -> IngestResult:
    return IngestResult([], [Reject(source, reason, detail)])
