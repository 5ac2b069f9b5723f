"""File formats: turn a decoded file into one or more documents with known metadata."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from pipeline.ingest.errors import InputRejected
from pipeline.ingest.markup import extract_html

_TEXT_KEYS = ("text", "content", "body", "article")
_META_KEYS = {
    "title": ("title", "headline"),
    "outlet": ("outlet", "source", "site", "publisher"),
    "author": ("author", "authors", "byline"),
    "url": ("url", "link"),
    "published_date": ("published", "published_date", "date", "pub_date"),
}


@dataclass
class Document:
    text: str
    meta: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


def read_documents(suffix: str, text: str) -> list[Document]:
    suffix = suffix.lower()
    if suffix in (".html", ".htm"):
        return [_html_document(text)]
    if suffix in (".jsonl", ".json"):
        return _json_documents(text)
    if suffix in (".md", ".markdown"):
        return [_markdown_document(text)]
    if re.match(r"\s*<(?:!doctype html|html)\b", text[:500], re.I):
        return [_html_document(text)]
    return [Document(text)]


def _html_document(page: str) -> Document:
    doc = extract_html(page)
    if not doc.text.strip():
        raise InputRejected("no_text", f"HTML page has no extractable main text ({doc.extractor})")
    meta = {k: v for k, v in (("title", doc.title), ("outlet", doc.outlet), ("author", doc.author), ("url", doc.url), ("published_date", doc.date)) if v}
    return Document(doc.text, meta, [f"extractor:{doc.extractor}"])


def _json_documents(text: str) -> list[Document]:
    stripped = text.strip()
    records: list[object]
    try:
        loaded = json.loads(stripped)
        records = loaded if isinstance(loaded, list) else [loaded]
    except json.JSONDecodeError:
        records = []
        for n, line in enumerate(stripped.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputRejected("bad_json", f"line {n}: {exc.msg}") from exc
    docs = []
    for rec in records:
        if not isinstance(rec, dict):
            continue
        body = next((rec[k] for k in _TEXT_KEYS if isinstance(rec.get(k), str) and rec[k].strip()), None)
        if body is None:
            continue
        meta = {}
        for field_name, keys in _META_KEYS.items():
            value = next((rec[k] for k in keys if rec.get(k)), None)
            if isinstance(value, list):
                value = "、".join(map(str, value))
            if value:
                meta[field_name] = str(value)
        docs.append(Document(body, meta))
    if not docs:
        raise InputRejected("no_text", "JSON holds no record with a text/content/body field")
    return docs


_MD_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def _markdown_document(text: str) -> Document:
    """Headings, links and emphasis to plain text; hard-wrapped paragraphs joined."""
    meta: dict[str, str] = {}
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.splitlines() + [""]:
        line = line.strip()
        m = _MD_HEADING.match(line)
        if m and "title" not in meta:
            meta["title"] = m.group(1).strip()
            continue
        if m or not line:
            if current:
                paragraphs.append("".join(current))
                current = []
            if m:
                paragraphs.append(m.group(1))
            continue
        current.append(_MD_EMPHASIS.sub(r"\2", _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", line))))
    return Document("\n".join(paragraphs), meta)
