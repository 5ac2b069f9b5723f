"""Decode raw bytes to text: detect the encoding instead of assuming it.

Order: BOM → strict UTF-8 → BOM-less UTF-16 → the CJK legacy codecs (GB18030,
Big5) judged by how plausible the decoded characters are → charset-normalizer's
guess → a per-line mixed decode. Binary data is refused.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from pipeline.ingest.errors import InputRejected

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# BOM-less UTF-16 of pure CJK text has no NUL bytes, so it competes here too.
_LEGACY = ("gb18030", "big5hkscs", "utf-16-le", "utf-16-be")
_NAMES = {"big5hkscs": "big5", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Decoded:
    text: str
    encoding: str
    flags: list[str] = field(default_factory=list)


def plausibility(text: str) -> float:
    """Share of Han characters that are common ones (after folding to Simplified).

    Correctly decoded Chinese scores ~0.95+; GBK bytes read as Big5 (or the
    reverse) give mostly rare characters and score far lower.
    """
    from pipeline.ingest.charmodel import common_chars, to_simplified

    han = [ch for ch in to_simplified(text[:20000]) if "\u4e00" <= ch <= "\u9fff"]
    if not han:
        return 0.0
    common = common_chars()
    return sum(ch in common for ch in han) / len(han)


def _utf16_without_bom(data: bytes) -> str | None:
    """Text with NUL bytes is UTF-16 if one byte order decodes to plausible text."""
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        sample = text[:5000]
        printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in sample) / max(len(sample), 1)
        if printable > 0.97 and (plausibility(sample) >= 0.6 or sample.isascii()):
            return text
    return None


def decode_bytes(data: bytes) -> Decoded:
    """Decode ``data`` or raise ``InputRejected`` with a reject reason."""
    if not data.strip():
        raise InputRejected("empty", "file is empty or whitespace only")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(codec), codec.replace("-sig", "") + "-bom")
            except UnicodeDecodeError as exc:
                raise InputRejected("undecodable", f"has a {codec} BOM but does not decode: {exc}") from exc
    if b"\x00" in data[:8192]:
        text = _utf16_without_bom(data)
        if text is None:
            raise InputRejected("binary", "contains NUL bytes and is not UTF-16 text")
        return _checked(text, "utf-16")
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    salvaged = _mostly_utf8(data)
    if salvaged is not None:
        return salvaged
    best: Decoded | None = None
    best_score = -1.0
    for codec in _LEGACY:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        score = plausibility(text)
        if score > best_score:
            best, best_score = Decoded(text, _NAMES.get(codec, codec)), score
    if best is not None and best_score >= 0.6:
        return _checked(best.text, best.encoding)
    mixed = _decode_mixed(data)
    if mixed is not None:
        return mixed
    guess = _charset_normalizer_guess(data)
    if guess is not None:
        return guess
    raise InputRejected("undecodable", "bytes are not valid UTF-8, UTF-16, GB18030 or Big5 text")


def _mostly_utf8(data: bytes) -> Decoded | None:
    """UTF-8 with a few corrupt bytes: keep it, with U+FFFD marking each bad spot."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad > max(3, len(text) // 1000):
        return None
    decoded = _checked(text, "utf-8")
    decoded.flags.append(f"undecodable_bytes:{bad}")
    return decoded


def _decode_mixed(data: bytes) -> Decoded | None:
    """Files concatenated from several sources: decode each line on its own."""
    lines = data.split(b"\n")
    out: list[str] = []
    used: set[str] = set()
    for raw in lines:
        try:
            out.append(raw.decode("utf-8"))
            used.add("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        options = []
        for codec in ("gb18030", "big5hkscs"):
            try:
                options.append((plausibility(raw.decode(codec)), codec, raw.decode(codec)))
            except UnicodeDecodeError:
                continue
        if not options:
            return None
        _, codec, line = max(options)
        out.append(line)
        used.add(_NAMES.get(codec, codec))
    text = "\n".join(out)
    if len(used) < 2 or plausibility(text) < 0.6:
        return None
    decoded = _checked(text, "mixed:" + "+".join(sorted(used)))
    decoded.flags.append("mixed_encoding")
    return decoded


def _charset_normalizer_guess(data: bytes) -> Decoded | None:
    from charset_normalizer import from_bytes

    match = from_bytes(data[:200_000]).best()
    if match is None:
        return None
    text = data.decode(match.encoding, errors="replace")
    bad = text.count("\ufffd")
    if bad / max(len(text), 1) > 0.01 or plausibility(text) < 0.6:
        return None
    decoded = _checked(text, match.encoding)
    if bad:
        decoded.flags.append(f"undecodable_bytes:{bad}")
    return decoded


def _checked(text: str, encoding: str) -> Decoded:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    controls = len(_CONTROL.findall(text[:100_000]))
    if controls > max(20, len(text[:100_000]) // 50):
        raise InputRejected("binary", f"decodes as {encoding} but has {controls} control characters")
    if not text.strip():
        raise InputRejected("empty", "file holds no visible text")
    return Decoded(_CONTROL.sub("", text), encoding)
