"""Stable, content-derived identifiers."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Layout and punctuation do not make an article different.
_NOT_CONTENT = re.compile(r"[\s\W_]+", re.UNICODE)


def content_key(text_normalized: str) -> str:
    return _NOT_CONTENT.sub("", unicodedata.normalize("NFKC", text_normalized)).lower()


def article_id(text_normalized: str) -> str:
    """Same article, whatever its file, encoding, script or wrapping → same id."""
    return "a_" + hashlib.sha256(content_key(text_normalized).encode("utf-8")).hexdigest()[:16]


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
