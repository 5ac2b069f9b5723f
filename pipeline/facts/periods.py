"""Dates and periods in ``text_final``: recognised so their numbers are not quantities, and
normalized so claims can say which period they are about.

Forms (words from the ``periods`` section of ``configs/facts.yaml``):

* years: 2023年, 2022全年, 2024自然年, 2025财年, 二〇二三年, 今年/去年/明年 (resolved with the
  article's year when it is known), 同年/次年 (from the last absolute year before them);
* parts of a year: 2024年前三季度, 2025财年第一季度, 2025年Q1, 同年二季度, 2025年上半年, 2022年底;
* months and days: 今年5月, 2019年5月16日, 2023年1~2月, 7月初, 7月26日-7月29日;
* ranges of any of those: 2019年至2020年, 2014年到2018年, 2019-2020年; decades: 50年代.

``norm`` is an EDTF-like string: ``2023``, ``2023-05``, ``2019-05-16``, ``2024-Q3``,
``2025-H1``, ``FY2025``, ``FY2025-Q1``; spans are ``start/end`` (``2024-Q1/2024-Q3``,
``2023-01/2023-02``); an unknown year is ``XXXX`` (``XXXX-07``); ``None`` when nothing
can be said (今年 in an undated article). A month without a year takes the year of the
last dated period earlier in the same paragraph (2020年5月流片，12月点亮 -> 2020-12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.config import config_dir, load_config


@dataclass(frozen=True)
class Period:
    start: int
    end: int
    text: str
    norm: str | None
    year: int | None  # the (first) year it falls in, when known


_CN_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_RSEP = r"(?:-|–|—|~|～|至|到)"
_YEAR4 = r"(?:19|20)\d{2}"
_CNYEAR = r"[〇零一二三四五六七八九]{4}"
_MON = r"(?:1[0-2]|0?[1-9]|十[一二]|[一二三四五六七八九十])"
_DAY = r"(?:3[01]|[12]\d|0?[1-9]|三十一|三十|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))


def small_number(s: str) -> int | None:
    """1..99 written in Arabic or Chinese digits (月 and 日 numbers)."""
    if s.isdigit():
        return int(s)
    if not s:
        return None
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN_DIGIT.get(s[1], 0)
    if "十" in s:
        tens, _, ones = s.partition("十")
        return _CN_DIGIT.get(tens, 0) * 10 + (_CN_DIGIT.get(ones, 0) if ones else 0)
    if len(s) == 1:
        return _CN_DIGIT.get(s)
    return None


def _year_value(s: str) -> int:
    if s.isdigit():
        return int(s)
    return int("".join(str(_CN_DIGIT[c]) for c in s))


class PeriodFinder:
    def __init__(self, cfg: dict[str, Any]) -> None:
        p = cfg.get("periods") or {}
        self.relative = {str(k): int(v) for k, v in (p.get("relative_years") or {}).items()}
        self.anaphoric = {str(k): int(v) for k, v in (p.get("anaphoric_years") or {}).items()}
        self.quarters = {str(k): int(v) for k, v in (p.get("quarters") or {}).items()}
        self.quarter_spans = {str(k): tuple(v) for k, v in (p.get("quarter_spans") or {}).items()}
        self.halves = {str(k): int(v) for k, v in (p.get("halves") or {}).items()}
        year_suffixes = list(p.get("year_suffixes") or ["年"])
        parts = list(p.get("parts") or [])
        rel_words = set(self.relative) | set(self.anaphoric)
        year_part = (
            rf"(?:(?P<yabs>{_YEAR4}|{_CNYEAR})\s?(?P<ysuf>{_alt(year_suffixes)})"
            rf"|(?P<ybare>{_YEAR4})(?=Q[1-4]|H[12])"
            rf"|(?P<yrel>{_alt(rel_words)}))"
        )
        sub_part = (
            rf"(?:(?P<qspan>{_alt(self.quarter_spans)})|(?P<q>{_alt(self.quarters)})|(?P<h>{_alt(self.halves)})"
            rf"|(?P<m1>{_MON})(?:\s?{_RSEP}\s?(?P<m2>{_MON}))?\s?月(?:份)?(?:\s?(?P<d>{_DAY})\s?[日号])?)"
        )
        part = rf"(?P<part>{_alt(parts)})?" if parts else ""
        # Both parts are optional in the pattern; a match with neither is rejected in code.
        one = rf"(?:(?P<yonly>年初|年底|年末|年中|年头)|{year_part}?{sub_part}?{part})"
        self.one = re.compile(one)
        words = rel_words | set(self.quarter_spans) | set(self.halves) | set(self.quarters)
        firsts = "".join(sorted({w[0] for w in words}))  # where a period can start
        self.head = re.compile(
            rf"(?P<decade>(?:(?:19|20)?\d0|[一二三四五六七八九]十)年代"
            rf"|(?:\d{{1,2}}|[一二]?十[一二三四五六七八九]?|[一二三四五六七八九])世纪)"
            rf"|(?P<iso>(?P<iy>{_YEAR4})(?P<isep>[-/.])(?P<im>1[0-2]|0?[1-9])(?P=isep)(?P<id>3[01]|[12]\d|0?[1-9]))(?!\d)"
            rf"|(?P<y1>{_YEAR4})\s?{_RSEP}\s?(?P<y2>{_YEAR4})\s?年"
            rf"|(?P<cand>[0-9〇零一二三四五六七八九十QH{re.escape(firsts)}年])"
        )
        self.rsep = re.compile(rf"\s?{_RSEP}\s?")

    # -- scanning -----------------------------------------------------------------------------

    def find(self, text: str, ref_year: int | None = None) -> list[Period]:
        out: list[Period] = []
        last_abs: int | None = None  # last absolute year seen (for 同年/次年)
        line_year: dict[int, tuple[int, int]] = {}  # paragraph start -> (last resolved year, where it ended)
        pos = 0
        while True:
            m = self.head.search(text, pos)
            if m is None:
                break
            start = m.start()
            if start > 0 and text[start - 1].isascii() and text[start - 1].isalnum():
                pos = start + 1  # inside a Latin word or a longer number (A2023年? 12023年)
                continue
            if m.group("decade"):
                out.append(Period(start, m.end(), m.group(0), None, None))
                pos = m.end()
                continue
            if m.group("iso"):
                y = int(m.group("iy"))
                norm = f"{y}-{int(m.group('im')):02d}-{int(m.group('id')):02d}"
                out.append(Period(start, m.end(), m.group(0), norm, y))
                last_abs = y
                line_year[self._line_start(text, start)] = (y, m.end())
                pos = m.end()
                continue
            if m.group("y1"):
                y1, y2 = int(m.group("y1")), int(m.group("y2"))
                out.append(Period(start, m.end(), m.group(0), f"{y1}/{y2}", y1))
                last_abs = y2
                line_year[self._line_start(text, start)] = (y2, m.end())
                pos = m.end()
                continue
            first = self.one.match(text, start)
            if first is None or not self._substantive(first) or self._glued(text, first.end()):
                pos = start + 1
                continue
            lstart = self._line_start(text, start)
            inherited = line_year.get(lstart)
            if inherited is not None and any(ch in text[inherited[1] : start] for ch in "。！？!?"):
                inherited = None  # a month takes the year of its own sentence only
            norm1, year1, fiscal, last_abs = self._norm(first, ref_year, last_abs, inherited[0] if inherited else None)
            end, norm = first.end(), norm1
            sep = self.rsep.match(text, end)
            if sep is not None:
                second = self.one.match(text, sep.end())
                if second is not None and self._substantive(second) and not self._glued(text, second.end()) and self._rangeable(first, second):
                    norm2, _, _, last_abs = self._norm(second, ref_year, last_abs, year1, fiscal=fiscal)
                    end = second.end()
                    norm = f"{norm1}/{norm2}" if norm1 and norm2 else None
            if year1 is not None:
                line_year[lstart] = (year1, end)
            out.append(Period(start, end, text[start:end], norm, year1))
            pos = end
        return out

    @staticmethod
    def _line_start(text: str, pos: int) -> int:
        return text.rfind("\n", 0, pos) + 1

    @staticmethod
    def _glued(text: str, end: int) -> bool:
        """A period ending in a Latin letter or digit runs on into a code (H20, Q1X)."""
        return 0 < end < len(text) and text[end - 1].isascii() and text[end - 1].isalnum() and text[end].isascii() and text[end].isalnum()

    @staticmethod
    def _substantive(m: re.Match) -> bool:
        return any(m.group(g) for g in ("yonly", "yabs", "ybare", "yrel", "qspan", "q", "h", "m1"))

    @staticmethod
    def _rangeable(a: re.Match, b: re.Match) -> bool:
        """Both ends are dates of a comparable kind (2019年至2020年, 7月26日-7月29日)."""
        has_year = lambda m: bool(m.group("yabs") or m.group("yrel") or m.group("ybare"))  # noqa: E731
        has_month = lambda m: bool(m.group("m1"))  # noqa: E731
        if has_year(b):
            return has_year(a)
        return has_month(a) and has_month(b)

    def _norm(self, m: re.Match, ref_year, last_abs, inherited, fiscal: bool = False):
        """(norm, year, fiscal, last_abs) of one period expression."""
        year: int | None = None
        if m.group("yabs") or m.group("ybare"):
            year = _year_value(m.group("yabs") or m.group("ybare"))
            last_abs = year
            fiscal = (m.group("ysuf") or "").endswith("财年")
        elif m.group("yrel"):
            word = m.group("yrel")
            if word in self.relative:
                year = ref_year + self.relative[word] if ref_year is not None else None
            else:
                year = last_abs + self.anaphoric[word] if last_abs is not None else None
        elif m.group("yonly"):
            year = ref_year
        else:
            # a month or quarter alone: its sentence's year, else the article's
            year = inherited if inherited is not None else ref_year
        ytxt = ("FY" if fiscal else "") + (str(year) if year is not None else "XXXX")
        known_year = year is not None
        if m.group("qspan"):
            a, b = self.quarter_spans[m.group("qspan")]
            norm = f"{ytxt}-Q{a}/{ytxt}-Q{b}"
        elif m.group("q"):
            norm = f"{ytxt}-Q{self.quarters[m.group('q')]}"
        elif m.group("h"):
            norm = f"{ytxt}-H{self.halves[m.group('h')]}"
        elif m.group("m1"):
            m1 = small_number(m.group("m1"))
            if m.group("m2"):
                m2 = small_number(m.group("m2"))
                norm = f"{ytxt}-{m1:02d}/{ytxt}-{m2:02d}"
            elif m.group("d"):
                norm = f"{ytxt}-{m1:02d}-{small_number(m.group('d')):02d}"
            else:
                norm = f"{ytxt}-{m1:02d}"
        else:
            norm = ytxt if known_year else None
        if norm is not None and not known_year and not (m.group("m1") or m.group("q") or m.group("qspan") or m.group("h")):
            norm = None
        return norm, year, fiscal, last_abs


@lru_cache(maxsize=4)
def _cached(directory: str) -> PeriodFinder:
    return PeriodFinder(load_config("facts"))


def load_period_finder() -> PeriodFinder:
    return _cached(str(config_dir()))


def find_periods(text: str, ref_year: int | None = None) -> list[Period]:
    """Dates and periods of ``text`` in order; ``text[p.start:p.end] == p.text``."""
    return load_period_finder().find(text, ref_year)
