"""Numerals: Arabic (1,200 / 1.2 / 1.2万 / 350亿), Chinese (二百六十, 百亿, 两千, 零点五),
fractions (1/3, 四分之一), percent words (百分之三十), approximate numerals (五百多, 数十亿,
十几, 一两). Chinese numerals are read by ``cn2an``; scale words after Arabic digits and the
approximate forms are ours.

:func:`parse_numeral` reads one numeral *token* as found by :data:`NUMERAL` and returns a
:class:`Numeral` (value, or low/high for 数十亿 and 一两; whether a scale word was written;
the inner qualifier 多/余/来).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCALES = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
CN_DIGITS = "零〇一二两三四五六七八九"
CN_NUM = CN_DIGITS + "十百千万亿"
_DIGIT_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

AR = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?"
_CN = rf"[{CN_NUM}]+(?:点[{CN_DIGITS}]+)?"
_SCALE = r"[十百千万亿]+"

# One numeral token. Group names tell the form; order matters (longest forms first).
NUMERAL = re.compile(
    rf"(?P<pct>百分之(?:{AR}|{_CN}))"
    rf"|(?P<frac>(?P<den>{AR}|[{CN_NUM}]+)分之(?P<num>{AR}|{_CN}))"
    rf"|(?P<slash>(?P<sn>\d+)/(?P<sd>\d+))(?![\d/])"
    rf"|(?P<ar>{AR})(?P<ar_inner>多|余|来)?(?:\s?(?P<ar_scale>{_SCALE}))?"
    rf"|(?P<sev>[数几])(?P<sev_scale>{_SCALE})"
    rf"|(?P<pair>一两|两三|三四|四五|五六|六七|七八|八九)(?P<pair_scale>{_SCALE})?"
    rf"|(?P<cn>{_CN})(?P<cn_inner>多|余|几)?(?P<cn_scale>{_SCALE})?"
)


@dataclass(frozen=True)
class Numeral:
    value: float | None  # None for a spread (数十亿, 一两)
    low: float | None = None
    high: float | None = None
    form: str = "arabic"  # arabic | chinese | fraction | percent | several | pair
    scaled: bool = False  # a scale word (万, 亿 ...) was written
    inner: str | None = None  # 多 / 余 / 来 / 几 between digits and scale
    single_cn: bool = False  # one Chinese digit or one bare scale character (一, 两, 百)

    def scaled_by(self, factor: float) -> "Numeral":
        mul = lambda v: None if v is None else v * factor  # noqa: E731
        return Numeral(mul(self.value), mul(self.low), mul(self.high), self.form, True, self.inner, self.single_cn)


def scale_value(chars: str) -> float:
    """万亿 -> 1e12, 亿 -> 1e8, 千万 -> 1e7."""
    out = 1.0
    for ch in chars:
        out *= SCALES[ch]
    return out


def parse_arabic(s: str) -> float:
    return float(s.replace(",", ""))


def parse_chinese(s: str) -> float | None:
    """A Chinese numeral (二百六十, 百亿, 两千, 零点五, 一万二); None when it is not one."""
    if not s:
        return None
    if s[0] in "百千万亿":
        s = "一" + s
    try:
        import cn2an

        return float(cn2an.cn2an(s, "normal"))
    except Exception:
        return _fallback_chinese(s)


def _fallback_chinese(s: str) -> float | None:
    """Digit-by-digit (二〇二三) or simple positional numerals cn2an rejects."""
    if all(c in _DIGIT_VALUE for c in s):
        return float("".join(str(_DIGIT_VALUE[c]) for c in s))
    total, section, digit = 0.0, 0.0, None
    for ch in s:
        if ch in _DIGIT_VALUE:
            digit = _DIGIT_VALUE[ch]
        elif ch in "十百千":
            section += (1 if digit is None else digit) * SCALES[ch]
            digit = None
        elif ch in "万亿":
            section += digit or 0
            total = (total + section) * SCALES[ch] if ch == "亿" or total == 0 else total + section * SCALES[ch]
            section, digit = 0.0, None
        else:
            return None
    return total + section + (digit or 0)


def parse_numeral(m: re.Match) -> Numeral | None:
    """The :class:`Numeral` of a :data:`NUMERAL` match; None when the match is no number."""
    g = m.group
    if g("pct"):
        body = g("pct")[3:]
        v = parse_arabic(body) if body[0].isdigit() else parse_chinese(body)
        return None if v is None else Numeral(v, form="percent")
    if g("frac"):
        den = parse_arabic(g("den")) if g("den")[0].isdigit() else parse_chinese(g("den"))
        num = parse_arabic(g("num")) if g("num")[0].isdigit() else parse_chinese(g("num"))
        if not den or num is None:
            return None
        return Numeral(num / den, form="fraction")
    if g("slash"):
        den = int(g("sd"))
        if den == 0:
            return None
        return Numeral(int(g("sn")) / den, form="fraction")
    if g("ar"):
        v = parse_arabic(g("ar"))
        n = Numeral(v, form="arabic", inner=g("ar_inner"))
        return n.scaled_by(scale_value(g("ar_scale"))) if g("ar_scale") else n
    if g("sev"):
        s = scale_value(g("sev_scale"))
        return Numeral(None, 2 * s, 9 * s, form="several", scaled=True)
    if g("pair"):
        a, b = _DIGIT_VALUE[g("pair")[0]], _DIGIT_VALUE[g("pair")[1]]
        n = Numeral(None, float(a), float(b), form="pair")
        return n.scaled_by(scale_value(g("pair_scale"))) if g("pair_scale") else n
    if g("cn"):
        body = g("cn")
        inner, tail = g("cn_inner"), g("cn_scale")
        if inner == "几":  # 十几, 二十几万: the ones digit is unknown
            base = parse_chinese(body)
            if base is None:
                return None
            n = Numeral(None, base + 1, base + 9, form="several")
            return n.scaled_by(scale_value(tail)) if tail else n
        if len(body) > 1 and not any(c in "十百千万亿点" for c in body):
            return None  # 一一, 三五: digit strings are years or words, not figures
        v = parse_chinese(body)
        if v is None:
            return None
        single = len(body) == 1
        n = Numeral(v, form="chinese", inner=inner, single_cn=single and not tail,
                    scaled=any(c in "万亿" for c in body))
        return n.scaled_by(scale_value(tail)) if tail else n
    return None
