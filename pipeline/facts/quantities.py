"""Quantities in ``text_final``: every figure with its value, unit, kind and qualifier.

A quantity is ``[qualifier] [currency symbol] numeral [inner 多/余] [unit] [range] [qualifier]``:

* numerals (:mod:`pipeline.facts.numbers`): 350亿, 1.2万, 1,200, 二百六十, 百亿, 四分之一, 1/3,
  百分之三十, 五百多, 数十亿, 一两;
* units (``units`` in ``configs/facts.yaml``, longest surface first): currencies as ISO codes
  with the value scaled (1.2万美元 -> 12000 USD), per-share prices (561元/股 -> CNY/share),
  percent (15%, 三成 = 30%, 7折 = 70%), multipliers (2-3倍 -> x), technology units (nm, TFLOPS,
  GB/s, mm2, transistor, card ...), time spans (year, month, day ...), counts with their
  classifier (家, 颗, 片, 张, 个, 人 ...);
* ranges (``range_separators``): 5-10亿 (the scale of the high end goes to the low end),
  1.2万-1.5万美元, 120亿至150亿美元, 90-95%, 四分之一到三分之一, 4、5块 (consecutive integers);
  ``value`` is None and ``value_low``/``value_high`` hold the ends;
* qualifiers (``approx``): ``about`` (约, 左右), ``nearly`` (近), ``over`` (超过, 逾, 以上, 多),
  ``under`` (不到, 以下), ``at_least``, ``at_most``, ``several`` (数十亿: 2e9..9e9). A point
  value has ``value_low == value_high == value`` unless a bound opens one side: over/at_least
  keep ``value_low`` only, under/nearly/at_most keep ``value_high`` only.

Not quantities: dates and periods (:mod:`pipeline.facts.periods`), numbers inside entity
mentions (model numbers after a product line), codes glued to Latin letters (A100, FP32, GPT-2, 688256.SH, 2.5D),
ordinals (第二), idioms (百家争鸣), ``一`` as an article (一家公司), bare years (2024全球...),
bare Chinese numerals below 亿, and bare Arabic numbers glued to a name (XX384 stays only when
the character before is one that introduces figures, ``bare_left_context``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Sequence

from pipeline.config import config_dir, load_config
from pipeline.facts.numbers import NUMERAL, Numeral, parse_numeral
from pipeline.facts.periods import Period, find_periods
from pipeline.model import Sentence

LOWER_BOUND = ("over", "at_least")
UPPER_BOUND = ("under", "nearly", "at_most")


@dataclass(frozen=True)
class Quantity:
    quantity_id: str
    sent_index: int | None
    start: int
    end: int
    surface: str
    value: float | None
    value_low: float | None
    value_high: float | None
    unit: str | None
    unit_kind: str  # currency | price | percent | ratio | multiplier | tech | time | count | number
    approx: str | None

    def row(self, article_id: str) -> dict[str, Any]:
        return {
            "article_id": article_id,
            "quantity_id": self.quantity_id,
            "sent_index": self.sent_index,
            "start": self.start,
            "end": self.end,
            "surface": self.surface,
            "value": self.value,
            "value_low": self.value_low,
            "value_high": self.value_high,
            "unit": self.unit,
            "unit_kind": self.unit_kind,
            "approx": self.approx,
        }


def quantity_id(article_id: str, start: int) -> str:
    return f"q_{article_id}_{start}"


@dataclass(frozen=True)
class _Unit:
    surface: str
    unit: str
    kind: str
    factor: float
    not_before: str
    before: re.Pattern | None
    add: float = 0.0


@dataclass
class _Piece:
    """One numeral with what is glued to it."""

    start: int  # of the numeral (after any currency symbol)
    end: int  # after the unit (or the numeral)
    num: Numeral
    token: str
    unit: _Unit | None
    inner: str | None


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


class QuantityFinder:
    def __init__(self, cfg: dict[str, Any]) -> None:
        nums = cfg.get("numbers") or {}
        self.range_seps = sorted((str(s) for s in nums.get("range_separators") or []), key=len, reverse=True)
        self.idioms = sorted((str(s) for s in nums.get("idioms") or []), key=len, reverse=True)
        self.bare_left = set(str(nums.get("bare_left_context") or ""))
        self.article_one = set(str(s) for s in nums.get("article_one_classifiers") or [])
        self.one_not_after = str(nums.get("one_not_after") or "")
        self.weekday = tuple(str(s) for s in nums.get("weekday_prefixes") or [])
        approx = cfg.get("approx") or {}
        self.prefixes = {str(k): str(v) for k, v in (approx.get("prefixes") or {}).items()}
        self.prefix_not_after = {str(k): str(v) for k, v in (approx.get("prefix_not_after") or {}).items()}
        self.inner = {str(k): str(v) for k, v in (approx.get("inner") or {}).items()}
        self.suffixes = {str(k): str(v) for k, v in (approx.get("suffixes") or {}).items()}
        self.before_scale = {str(k): str(v) for k, v in (approx.get("before_scale") or {}).items()}
        self.per_share = tuple(str(s) for s in cfg.get("per_share_prefixes") or ())
        self.currency_prefixes = {str(k): str(v) for k, v in (cfg.get("currency_prefixes") or {}).items()}
        self.currency_symbols = sorted(self.currency_prefixes, key=len, reverse=True)
        self.units: dict[str, list[_Unit]] = {}
        for entry in cfg.get("units") or []:
            before = entry.get("before")
            for surface in entry["surfaces"]:
                surface = str(surface)
                key = surface.lower() if surface.isascii() else surface
                self.units.setdefault(key, []).append(
                    _Unit(surface, str(entry["unit"]), str(entry["kind"]), float(entry.get("factor", 1)),
                          str(entry.get("not_before") or ""), re.compile(before) if before else None,
                          float(entry.get("add", 0)))
                )
        self.unit_lengths = sorted({len(k) for k in self.units}, reverse=True)
        self.prefix_lengths = sorted({len(k) for k in self.prefixes}, reverse=True)
        self.suffix_items = sorted(self.suffixes.items(), key=lambda kv: -len(kv[0]))
        self.idiom_re = re.compile("|".join(re.escape(i) for i in self.idioms)) if self.idioms else None

    # -- public ---------------------------------------------------------------------------------

    def find(
        self,
        text: str,
        article_id: str,
        sentences: Sequence[Sentence] = (),
        mentions: Iterable[dict[str, Any]] = (),
        periods: Sequence[Period] | None = None,
    ) -> list[Quantity]:
        if periods is None:
            periods = find_periods(text)
        blocked = bytearray(len(text))
        for p in periods:
            blocked[p.start : p.end] = b"\x01" * (p.end - p.start)
        mention_ends: set[int] = set()
        for m in mentions:
            s, e = int(m["start"]), int(m["end"])
            if any(c.isdigit() or c in "〇零一二两三四五六七八九十百千万亿" for c in text[s:e]):
                blocked[s:e] = b"\x01" * (e - s)
            if m.get("label") in ("ORG", "PRODUCT"):
                mention_ends.add(e)
        if self.idiom_re is not None:
            for im in self.idiom_re.finditer(text):
                blocked[im.start() : im.end()] = b"\x01" * (im.end() - im.start())
        starts = [s.start for s in sentences]
        out: list[Quantity] = []
        pos = 0
        while True:
            m = NUMERAL.search(text, pos)
            if m is None:
                break
            q = self._quantity(text, m, blocked, mention_ends)
            if q is None:
                pos = m.end()
                continue
            start, end, fields = q
            sent_index = None
            if sentences:
                i = bisect.bisect_right(starts, start) - 1
                if i >= 0 and sentences[i].start <= start < sentences[i].end:
                    sent_index = sentences[i].sent_index
            out.append(Quantity(quantity_id(article_id, start), sent_index, start, end, text[start:end], *fields))
            pos = end
        return out

    # -- one quantity ---------------------------------------------------------------------------

    def _quantity(self, text: str, m: re.Match, blocked: bytearray, mention_ends: set[int]):
        s, e = m.span()
        if any(blocked[s:e]):
            return None
        num = parse_numeral(m)
        if num is None:
            return None
        if not self._left_ok(text, m, num):
            return None
        first = self._piece(text, m, num)
        if first is None:
            return None
        # currency symbol before the numeral
        start = s
        prefix_unit = None
        for sym in self.currency_symbols:
            if s - len(sym) >= 0 and text.startswith(sym, s - len(sym)):
                prefix_unit = self.currency_prefixes[sym]
                start = s - len(sym)
                break
        pieces = [first]
        second = self._range_end(text, first, blocked)
        if second is not None:
            pieces.append(second)
        end = pieces[-1].end
        # qualifier after
        approx = None
        for word, norm in self.suffix_items:
            if text.startswith(word, end):
                nxt = text[end + len(word) : end + len(word) + 1]
                if word in ("多", "余") and nxt and nxt in "元万亿":
                    continue
                if word == "+" and nxt.isdigit():
                    continue  # 1+1
                approx = norm
                end += len(word)
                break
        # a sign before: 同比-12.3%, 负增长 is a word, 负5% is a number
        sign = 1.0
        if start > 0 and text[start - 1] in "-−－负" and first.token[0].isdigit():
            before_sign = text[start - 2] if start >= 2 else ""
            if not (before_sign and (_is_ascii_alnum(before_sign) or before_sign in "-−－")):
                sign = -1.0
                start -= 1
        # qualifier before
        pre = self._prefix(text, start)
        if pre is None and first.token in ("百", "千", "万", "亿") and start > 0 and text[start - 1] in self.before_scale:
            pre = (text[start - 1], self.before_scale[text[start - 1]])  # 上亿元
        if pre is not None:
            word, norm = pre
            start -= len(word)
            approx = norm  # the word before wins (约15%左右 -> about)
        inner = next((p.inner for p in pieces if p.inner), None)
        if approx is None and inner:
            approx = self.inner.get(inner, "over") if inner != "几" else "several"
        if approx is None and any(p.num.form == "several" for p in pieces):
            approx = "several"

        unit = pieces[-1].unit  # the high end's unit covers both (120亿至150亿美元)
        lo_num, hi_num = pieces[0].num, pieces[-1].num
        if len(pieces) == 2:
            lo_num = _low_end(pieces[0], pieces[1])

        # unit, kind, factor
        if unit is not None:
            unit_name, kind, factor = unit.unit, unit.kind, unit.factor
        elif prefix_unit is not None:
            unit_name, kind, factor = prefix_unit, "currency", 1.0
        elif hi_num.form == "percent" or lo_num.form == "percent":
            unit_name, kind, factor = "%", "percent", 1.0
        elif hi_num.form == "fraction":
            unit_name, kind, factor = "ratio", "ratio", 1.0
        else:
            unit_name, kind, factor = None, "number", 1.0
        if prefix_unit is not None and kind == "number":
            unit_name, kind = prefix_unit, "currency"
        if kind == "currency" and text.endswith(self.per_share, 0, start) and self.per_share:
            unit_name, kind = f"{unit_name}/share", "price"  # 每股18港元

        # bare numbers that are not figures
        if unit_name is None and not self._bare_ok(text, m, pieces, mention_ends, start, approx):
            return None
        # 一家公司: the article, not a count
        if len(pieces) == 1 and unit is not None and first.num.single_cn and m.group(0) == "一" and unit.surface in self.article_one:
            return None
        if len(pieces) == 1 and first.num.single_cn and unit is None:
            return None

        add = unit.add if unit is not None else 0.0

        def scaled(v):
            return None if v is None else _clean(sign * (v + add) * factor)

        if len(pieces) == 2:
            lo = lo_num.value if lo_num.value is not None else lo_num.low
            hi = hi_num.value if hi_num.value is not None else hi_num.high
            value, low, high = None, scaled(lo), scaled(hi)
            if sign < 0:
                low, high = high, low
        elif first.num.value is None:
            value, low, high = None, scaled(first.num.low), scaled(first.num.high)
        else:
            value = scaled(first.num.value)
            low = None if approx in UPPER_BOUND else value
            high = None if approx in LOWER_BOUND else value
        return start, end, (value, low, high, unit_name, kind, approx)

    def _left_ok(self, text: str, m: re.Match, num: Numeral) -> bool:
        s = m.start()
        if s == 0:
            return True
        left = text[s - 1]
        if num.form in ("arabic", "fraction") and m.group(0)[0].isdigit():
            if _is_latin(left):
                return False  # A100, FP32, H20
            if left in "-_./" and s >= 2 and _is_ascii_alnum(text[s - 2]):
                return False  # GPT-2, v1.2
            if left.isdigit():
                return False
        if left == "第":
            return False  # ordinal
        if num.single_cn and any(text.endswith(w, 0, s) for w in self.weekday):
            return False  # 周一
        if m.group(0) == "一" and left in self.one_not_after:
            return False  # 之一, 唯一, 这一年
        return True

    def _piece(self, text: str, m: re.Match, num: Numeral) -> _Piece | None:
        e = m.end()
        token = m.group(0)
        inner = m.group("ar_inner") or m.group("cn_inner")
        # a Latin letter right after an Arabic numeral: a unit (7nm, 40TFLOPS) or a code (910B, 2.5D)
        unit, uend = self._unit_at(text, e)
        if unit is None and token[-1].isdigit() and e < len(text):
            nxt = text[e]
            if _is_latin(nxt):
                return None
            if nxt in ".-" and e + 1 < len(text) and _is_latin(text[e + 1]):
                return None  # 688256.SH, 20-F
        return _Piece(m.start(), uend if unit is not None else e, num, token, unit, inner)

    def _unit_at(self, text: str, pos: int) -> tuple[_Unit | None, int]:
        for space in (0, 1):
            p = pos + space
            if space and not text.startswith(" ", pos):
                break
            if space and pos > 0 and not (text[pos - 1].isdigit() or text[pos - 1] in "十百千万亿"):
                break
            for length in self.unit_lengths:
                cand = text[p : p + length]
                if len(cand) < length:
                    continue
                key = cand.lower() if cand.isascii() else cand
                for u in self.units.get(key, ()):
                    after = text[p + length : p + length + 1]
                    if u.surface.isascii() and u.surface[-1].isalnum() and after and _is_ascii_alnum(after):
                        continue
                    if after and after in u.not_before:
                        continue
                    if u.before is not None and not u.before.match(text, p + length):
                        continue
                    return u, p + length
        return None, pos

    def _range_end(self, text: str, first: _Piece, blocked: bytearray) -> _Piece | None:
        p = first.end
        for sep in self.range_seps + ["、"]:
            if not text.startswith(sep, p):
                continue
            q = p + len(sep)
            m = NUMERAL.match(text, q)
            if m is None or any(blocked[m.start() : m.end()]):
                return None
            num = parse_numeral(m)
            if num is None:
                return None
            piece = self._piece(text, m, num)
            if piece is None:
                return None
            if first.unit is not None and (piece.unit is None or piece.unit.unit != first.unit.unit):
                return None
            if first.num.form == "percent" and piece.num.form != "percent":
                return None
            if sep == "、":
                # 4、5块: only consecutive integers with a unit after the second only (7纳米、5纳米 lists)
                if first.unit is not None or first.num.form == "percent":
                    return None
                if piece.unit is None or first.num.value is None or piece.num.value != first.num.value + 1:
                    return None
            if first.token.isdigit() and m.group(0).isdigit() and piece.unit is None and first.unit is None:
                if 1900 <= int(first.token) <= 2100 and 1900 <= int(m.group(0)) <= 2100:
                    return None  # 2019-2020: years
            lo_num, hi_num = _low_end(first, piece), piece.num
            lo = lo_num.value if lo_num.value is not None else lo_num.low
            hi = hi_num.value if hi_num.value is not None else hi_num.high
            if lo is None or hi is None or lo > hi:
                return None  # 12-5: not a range; the first number stands alone
            return piece
        return None

    def _prefix(self, text: str, start: int) -> tuple[str, str] | None:
        for length in self.prefix_lengths:
            if start - length < 0:
                continue
            word = text[start - length : start]
            norm = self.prefixes.get(word)
            if norm is None:
                continue
            before = text[start - length - 1] if start - length - 1 >= 0 else ""
            if before and before in self.prefix_not_after.get(word, ""):
                continue
            return word, norm
        return None

    def _bare_ok(self, text: str, m: re.Match, pieces: list[_Piece], mention_ends: set[int], start: int, approx) -> bool:
        token = pieces[0].token
        if not token[0].isdigit():
            # Chinese bare numerals only from 亿 up (百亿, 数十亿); 一 / 千万 / 万一 are words
            return "亿" in "".join(p.token for p in pieces)
        if len(pieces) == 1 and re.fullmatch(r"\d{4}", token) and 1900 <= int(token) <= 2100:
            return False  # a year (2024全球开发者大会)
        s = m.start()
        if s in mention_ends:
            return False  # a model number right after a name
        if any(p.num.scaled for p in pieces):
            return True  # 5-10亿, 1.2万: a scale word makes it a figure
        if s >= 2 and text[s - 1] == " " and _is_latin(text[s - 2]):
            return False  # MUSA Toolkit 1.0, DirectX 11
        left = text[start - 1] if start > 0 else ""
        if left and _is_cjk(left) and left not in self.bare_left and approx is None:
            return False  # 某某100: a model number
        return True


def _low_end(first: _Piece, second: _Piece) -> Numeral:
    """The low end of a range; 5-10亿: the scale written on the high end applies to it."""
    lo, hi = first.num, second.num
    if not lo.scaled and hi.scaled and lo.value is not None and hi.value is not None:
        factor = _scale_of(second.token)
        if factor > 1 and lo.value * factor <= hi.value:
            return lo.scaled_by(factor)
    return lo


def _scale_of(token: str) -> float:
    from pipeline.facts.numbers import scale_value

    tail = re.search(r"[十百千万亿]+$", token)
    return scale_value(tail.group(0)) if tail else 1.0


def _clean(v: float) -> float:
    """Round away binary noise (1.2 * 1e4 = 12000.000000000002)."""
    return float(f"{v:.12g}")


@lru_cache(maxsize=4)
def _cached(directory: str) -> QuantityFinder:
    return QuantityFinder(load_config("facts"))


def load_quantity_finder() -> QuantityFinder:
    return _cached(str(config_dir()))


def find_quantities(
    text: str,
    article_id: str = "a",
    sentences: Sequence[Sentence] = (),
    mentions: Iterable[dict[str, Any]] = (),
    periods: Sequence[Period] | None = None,
) -> list[Quantity]:
    """Quantities of ``text`` (= ``text_final``) in order; ``text[q.start:q.end] == q.surface``."""
    return load_quantity_finder().find(text, article_id, sentences, mentions, periods)
