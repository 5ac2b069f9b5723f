"""Remove pinyin annotations glued after characters, e.g. ``數(shù)據(jù)`` → ``數據``.

Some republished articles carry a reading after many characters. An
annotation is a parenthesised lowercase pinyin syllable:

* after a Han character: when pypinyin gives it that reading (tones
  ignored, heteronyms allowed), so ``愛(ai)`` goes but ``(reset)``, ``(AI)``
  (uppercase is never pinyin) or ``(a)`` after an unrelated character stay;
* after any other non-space character (a mojibake ``?``, a Latin letter the
  garbling left behind): only a well-formed *toned* syllable, which is
  practically never real text.

Garbled neighbours sometimes ate one parenthesis: ``?shù)`` or ``系統(tǒng`` at a
line end. Those cut forms go only when toned and right after a Han character
(or the ``?``/U+FFFD that stands in for one).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, pinyin

from pipeline.ingest.charmodel import is_han

# Letters that occur in pypinyin's toned syllables, combining marks included.
_TONED_LETTERS = "āáǎàēéěèêếềīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ\u0300\u0301\u0304\u030c"
_L = "a-z" + _TONED_LETTERS
_ANNOTATION = re.compile(
    rf"[(（](?P<full>[{_L}]{{1,7}})[)）]"  # complete: (shù)
    rf"|(?<![(（{_L}])(?P<open_lost>[{_L}]{{1,7}})[)）]"  # opening paren lost: shù)
    rf"|[(（](?P<close_lost>[{_L}]{{1,7}})(?=\r?\n|\Z)"  # closing paren lost at line end: (shù
)
_STANDS_FOR_HAN = "?\ufffd"
_U_UMLAUT = str.maketrans(dict.fromkeys("ǖǘǚǜü", "v"))


@lru_cache(maxsize=1)
def _toned_syllables() -> frozenset[str]:
    """Every toned reading pypinyin knows for a single character."""
    from pypinyin.pinyin_dict import pinyin_dict

    return frozenset(s for readings in pinyin_dict.values() for s in readings.split(","))


@dataclass(frozen=True)
class _Fragments:
    """Toned pieces of syllables that a cut annotation may have kept."""

    tails: frozenset[str]  # the opening parenthesis and maybe the syllable's head were lost: iàn)
    heads: frozenset[str]  # the closing parenthesis and maybe the syllable's tail were lost: (tǒ


@lru_cache(maxsize=1)
def _fragments() -> _Fragments:
    syllables = _toned_syllables()
    tails = {syl[i:] for syl in syllables for i in range(len(syl))}
    heads = {syl[: i + 1] for syl in syllables for i in range(len(syl))}
    return _Fragments(frozenset(filter(_has_tone, tails)), frozenset(filter(_has_tone, heads)))


def _has_tone(syl: str) -> bool:
    return any(ch not in "abcdefghijklmnopqrstuvwxyz" for ch in syl)


def _toneless(syl: str) -> str:
    """``lǜ`` → ``lv``: pypinyin's NORMAL style writes ü as v."""
    syl = syl.translate(_U_UMLAUT)
    return "".join(c for c in unicodedata.normalize("NFD", syl) if not unicodedata.combining(c))


@lru_cache(maxsize=8192)
def _is_reading(ch: str, syl: str) -> bool:
    """Whether the toneless syllable is one of the character's readings (heteronyms too)."""
    readings = pinyin(ch, heteronym=True, style=Style.NORMAL, errors="ignore")
    return bool(readings) and syl in readings[0]


def _is_annotation(m: re.Match[str], text: str) -> bool:
    prev = text[m.start() - 1] if m.start() else " "
    syl = m.group("full")
    if syl is not None:
        if is_han(prev):
            return (not _has_tone(syl) or syl in _toned_syllables()) and _is_reading(prev, _toneless(syl))
        return not prev.isspace() and _has_tone(syl) and syl in _toned_syllables()
    if not (is_han(prev) or prev in _STANDS_FOR_HAN):
        return False
    if m.group("open_lost") is not None:
        return m.group("open_lost") in _fragments().tails
    return m.group("close_lost") in _fragments().heads


def strip_pinyin(text: str) -> tuple[str, int]:
    """Text without pinyin annotations, and how many were removed."""
    removed = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal removed
        if _is_annotation(m, text):
            removed += 1
            return ""
        return m.group()

    return _ANNOTATION.sub(replace, text), removed
