"""Markup: main-content extraction from HTML pages and removal of tag remnants in text."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# Tags and entities that leak into scraped plain text (`</p>`, `<br/>`, `&nbsp;`).
_TAG = re.compile(r"</?(?:p|br|div|span|strong|em|b|i|a|img|section|h[1-6]|li|ul|ol|font|center)\b[^<>]{0,200}?/?>", re.I)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});", re.I)
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|section|h[1-6]|li)\b", re.I)


def strip_markup_remnants(text: str) -> tuple[str, int]:
    """Remove stray tags and decode entities; return the text and how many were fixed."""
    count = 0

    def _tag(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return "\n" if _BLOCK_TAG.match(m.group(0)) else ""

    text = _TAG.sub(_tag, text)

    def _entity(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return html.unescape(m.group(0)).replace("\xa0", " ")

    text = _ENTITY.sub(_entity, text)
    return text, count


@dataclass
class HtmlDocument:
    text: str
    title: str | None
    author: str | None
    url: str | None
    date: str | None
    extractor: str


def extract_html(page: str) -> HtmlDocument:
    """Main text of a web page via trafilatura; a plain lxml text dump if that finds nothing."""
    import json

    import trafilatura

    try:
        result = trafilatura.extract(page, output_format="json", with_metadata=True, include_comments=False)
    except Exception:  # trafilatura raises assorted parser errors on broken pages
        result = None
    if result:
        data = json.loads(result)
        return HtmlDocument(
            text=data.get("text") or "",
            title=data.get("title"),
            author=data.get("author"),
            url=data.get("source") or data.get("url"),
            date=data.get("date"),
            extractor="trafilatura",
        )
    return HtmlDocument(_lxml_text(page), None, None, None, None, "lxml-fallback")


def _lxml_text(page: str) -> str:
    import lxml.html

    try:
        root = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return re.sub(r"<[^>]*>", "\n", page)
    for bad in root.xpath("//script|//style|//nav|//footer|//header|//aside"):
        bad.drop_tree()
    return "\n".join(t.strip() for t in root.itertext() if t.strip())
