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
    outlet: str | None
    author: str | None
    url: str | None
    date: str | None
    extractor: str


_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TITLE_SEP = re.compile(r"\s*[_|｜—–]\s*|\s+-\s+")
_BYLINE_PREFIX = re.compile(r"^(?:作者|文|记者|記者|编辑|編輯)\s*[:：|｜]\s*")


def extract_html(page: str) -> HtmlDocument:
    """Main text of a web page via trafilatura; a plain lxml text dump if that finds nothing."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(page, with_metadata=True, include_comments=False)
    except Exception:  # trafilatura raises assorted parser errors on broken pages
        doc = None
    if doc is not None and doc.text:
        author = _BYLINE_PREFIX.sub("", doc.author).strip() if doc.author else None
        return HtmlDocument(doc.text, doc.title, _outlet_from_title(page, doc.title) or _sitename(doc.sitename),
                            author or None, doc.url, doc.date, "trafilatura")
    return HtmlDocument(_lxml_text(page), None, None, None, None, None, "lxml-fallback")


def _outlet_from_title(page: str, title: str | None) -> str | None:
    """`<title>Headline_Section_Outlet</title>`: the last part names the outlet."""
    m = _TITLE_TAG.search(page[:20000])
    if not m:
        return None
    parts = [p for p in _TITLE_SEP.split(html.unescape(m.group(1)).strip()) if p]
    if len(parts) > 1 and parts[-1] != title and len(parts[-1]) <= 16:
        return parts[-1]
    return None


def _sitename(name: str | None) -> str | None:
    return name if name and "." not in name else None  # a bare hostname is not an outlet name


def _lxml_text(page: str) -> str:
    import lxml.html

    try:
        root = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return re.sub(r"<[^>]*>", "\n", page)
    for bad in root.xpath("//script|//style|//nav|//footer|//header|//aside"):
        bad.drop_tree()
    return "\n".join(t.strip() for t in root.itertext() if t.strip())
