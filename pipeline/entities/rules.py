"""Rules for entities that neither the catalog nor the statistical model knows.

Every rule reads one sentence and returns :class:`RuleSpan` s with offsets relative to
it; word lists and thresholds come from the ``rules`` section of ``configs/entities.yaml``.

* ``org_suffix``: a name before an organisation suffix (科技, 集团, 公司, 资本, 研究院, 大学,
  半导体, 微电子, ...), 2-6 Chinese characters (10 before 有限公司 and the like) or a
  Latin word (IDG资本). Finding the start: the name begins after the last *boundary
  word* in reach (由壁仞科技 -> 壁仞科技; 由 is a preposition; 华为's 为 is no boundary);
  then, walking back from the suffix over jieba's words, it stops at a function word or
  a dictionary verb/adjective of two or more characters (创投入主天迈科技 -> 天迈科技);
  leading generic words are dropped (芯片企业燧原科技 -> 燧原科技). Evidence that it is
  a name: a word jieba does not know or tags as a proper noun (or a place jieba knows
  but the gazetteer does not: 星海), or two one-character words in a row (壁/仞). Rejected:
  generic prefixes (创业公司, 人工智能, 上市公司), bare known places except before
  大学/研究院/研究所 (美国科技公司 vs 北京大学), suffixes that continue into a longer noun
  (半导体行业, 科技大学 is left to 大学). *Legal* suffixes (集团, 有限公司 ...) need no
  evidence beyond a non-generic prefix (蚂蚁集团). *Weak* suffixes (智能, 电子, 基金) also
  need a company cue right after the name (XX智能宣布, XX电子公司).
* ``product_code``: upper-case letters then digits (A100, H20, MI308, MI300X, GPT-4) and
  "MTT S80"-style pairs; not numeric formats (FP32, INT8), standards (PCIe5, HBM3),
  quarters (Q1), single letter + single digit (L2), years, or a code followed by 班/年/月.
  Codes that start with digits (910B, 7nm, 1000T, 5G) are never taken: only the catalog
  and ``brand_code`` produce those.
* ``brand_code``: a product-line name from ``brands`` with a model number (云燧T20,
  天垓100, 思元590, 曦云C500, 邃思2.0).
* ``quoted_product``: a quoted name right after a product cue (芯片“春晓”, 推出“天垓100”)
  or right before one (“星火一号”GPU); names jieba reads as a verb or adjective phrase
  (芯片“成功点亮”) are rejected.
* ``title_person``: a 2-3 character name right after a title (创始人张文, CEO赵立东,
  分析师龚明德, 董事长兼CEO李明). The first character must be a surname from the list;
  jieba's ``nr`` tag decides the length, else the third character is kept unless it is
  one of ``name_stop_chars`` (张文曾表示 -> 张文). Surnames that are also function words
  (于, 向, 和 ...) need the ``nr`` tag.
* ``speaker``: a 2-3 character name that opens a line and is followed by a colon
  (interview transcripts: 刘灿：...), with the same surname evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.config import ConfigError, config_dir, load_config

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_CHAR = re.compile(f"[{HAN}]")
_ALL_HAN = re.compile(f"[{HAN}]+")
_LATIN_NAME_CHARS = re.compile(r"[A-Za-z0-9&.\-]")

# jieba tags of proper nouns (person, other proper, organisation, abbreviation, Latin).
_PROPER_TAGS = frozenset({"nr", "nrt", "nrfg", "nz", "nt", "j", "eng"})
# First letters of jieba tags of words that never belong to a name: numerals, measure
# words, adverbs, prepositions, pronouns, time, direction and place words, interjections,
# onomatopoeia, conjunctions, particles, modal particles, morphemes (g: 曩, tg: 昔).
_FUNCTION_TAG_HEADS = "mqdprtfseocuyg"
# Tags of words that make a quoted string a phrase rather than a name.
_PHRASE_TAGS = frozenset({"v", "vd", "vn", "a", "ad", "an", "b", "d", "l", "i", "c", "p", "u", "uj", "ul", "r"})


@dataclass(frozen=True)
class RuleSpan:
    """A span found by a rule; offsets are relative to the text the rule read."""

    start: int
    end: int
    label: str
    rule: str
    confidence: float


def is_han(ch: str) -> bool:
    return bool(_HAN_CHAR.fullmatch(ch))


# --- jieba helpers --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _jieba():
    import jieba
    import jieba.posseg as posseg

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba, posseg


@lru_cache(maxsize=65536)
def pos_tokens(text: str) -> tuple[tuple[str, str, int], ...]:
    """(word, tag, dictionary frequency) of jieba's POS segmentation (HMM on)."""
    jieba, posseg = _jieba()
    freq = jieba.dt.FREQ
    return tuple((p.word, p.flag, int(freq.get(p.word) or 0)) for p in posseg.cut(text))


def word_freq(word: str) -> int:
    jieba, _ = _jieba()
    return int(jieba.dt.FREQ.get(word) or 0)


def token_kind(word: str, tag: str, freq: int) -> str:
    """``name`` (Latin, a proper noun, or a word jieba does not know), ``place`` (ns),
    ``function``, or ``common`` (any other dictionary word)."""
    if not _ALL_HAN.fullmatch(word):
        return "name"
    if (tag or "x")[0] in _FUNCTION_TAG_HEADS:
        return "function"
    if freq == 0 or tag in _PROPER_TAGS:
        return "name"
    if tag == "ns":
        return "place"
    return "common"


def _stops_name(word: str, tag: str, freq: int) -> bool:
    """A word that does not belong to a name before an organisation suffix."""
    if not _ALL_HAN.fullmatch(word):
        return tag == "x"  # punctuation; Latin words belong (IDG资本 is handled apart)
    head = (tag or "x")[0]
    if head in _FUNCTION_TAG_HEADS or head == "x" or tag in ("b", "z"):
        return True
    # Dictionary verbs and adjectives of two or more characters (not guessed words, and
    # not single characters, which jieba also cuts out of unknown names: 曦/望).
    return freq > 0 and head in "va" and len(word) >= 2


def _single_char_run(tokens: tuple[tuple[str, str, int], ...]) -> bool:
    """Two adjacent one-character tokens that are not particles: jieba's way of cutting a
    name it does not know (壁/仞, 沐/曦)."""
    run = 0
    for word, tag, _ in tokens:
        if len(word) == 1 and _HAN_CHAR.match(word) and tag not in ("p", "c", "u", "uj", "ul", "r", "d"):
            run += 1
            if run >= 2:
                return True
        else:
            run = 0
    return False


# --- the rule set ---------------------------------------------------------------------------


def _strings(cfg: dict[str, Any], key: str) -> list[str]:
    value = cfg.get(key) or []
    if isinstance(value, str):
        return list(value)
    if not isinstance(value, list):
        raise ConfigError(f"entities.yaml: rules/{key} must be a list")
    return [str(v) for v in value]


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


class RuleSet:
    """All rules, compiled once from the ``rules`` config."""

    def __init__(self, cfg: dict[str, Any], catalog=None) -> None:
        self.catalog = catalog
        org = cfg["org_suffix"]
        self.org_conf = float(org["confidence"])
        self.legal = _strings(org, "legal")
        self.strong = _strings(org, "strong")
        self.weak = _strings(org, "weak")
        self.academic = set(_strings(org, "academic"))
        self.weak_cues = _strings(org, "weak_cues_after")
        self.min_prefix = int(org.get("min_prefix", 2))
        self.max_prefix = int(org.get("max_prefix", 6))
        self.max_prefix_legal = int(org.get("max_prefix_legal", 10))
        self.boundary_words = sorted(set(_strings(org, "boundary_words")), key=len, reverse=True)
        self.generic = set(_strings(org, "generic_prefixes"))
        self.generic_upper = {g.upper() for g in self.generic}
        self.compound_after = _strings(org, "compound_after")
        self.suffix_re = re.compile(_alternation(self.legal + self.strong + self.weak))

        code = cfg["product_code"]
        self.code_conf = float(code["confidence"])
        self.code_exclude_prefixes = {p.upper() for p in _strings(code, "exclude_prefixes")}
        self.code_exclude = {p.upper() for p in _strings(code, "exclude")}
        self.code_not_before = _strings(code, "not_before")

        brand = cfg["brand_code"]
        self.brand_conf = float(brand["confidence"])
        self.brand_re = re.compile(
            rf"(?<![A-Za-z0-9])(?:{_alternation(_strings(brand, 'brands'))}) ?"
            r"[A-Za-z]{0,3}\d{1,4}(?:\.\d{1,2})?[A-Za-z]{0,3}(?![A-Za-z0-9])"
        )

        quoted = cfg["quoted_product"]
        self.quoted_conf = float(quoted["confidence"])
        self.cues_before = _strings(quoted, "cues_before")
        self.cues_after = _strings(quoted, "cues_after")
        self.quoted_re = re.compile(
            rf"“([^“”\n，。；：！？、,;:!?/]{{{int(quoted['min_chars'])},{int(quoted['max_chars'])}}})”"
        )

        person = cfg["title_person"]
        self.person_conf = float(person["confidence"])
        self.title_re = re.compile(_alternation(_strings(person, "titles")))
        self.name_stop = set("".join(_strings(person, "name_stop_chars")))
        self.surnames = set(_strings(person, "surnames"))
        self.compound_surnames = set(_strings(person, "compound_surnames"))
        self.weak_surnames = set("".join(_strings(person, "weak_surnames")))
        self.speaker_conf = float(cfg["speaker"]["confidence"])

    # -- all rules ---------------------------------------------------------------------------

    def find(self, text: str, *, line_start: bool = False) -> list[RuleSpan]:
        """Spans of every rule in ``text`` (one sentence); ``line_start``: it opens a line."""
        spans = [
            *self.org_suffix(text),
            *self.product_code(text),
            *self.brand_code(text),
            *self.quoted_product(text),
            *self.title_person(text),
        ]
        if line_start:
            spans.extend(self.speaker(text))
        return sorted(set(spans), key=lambda s: (s.start, s.end, s.rule))

    # -- organisations ---------------------------------------------------------------------

    def org_suffix(self, text: str) -> list[RuleSpan]:
        out: list[RuleSpan] = []
        for m in self.suffix_re.finditer(text):
            suffix, (s_start, s_end) = m.group(), m.span()
            kind = "legal" if suffix in self.legal else "weak" if suffix in self.weak else "strong"
            if kind != "legal" and suffix not in self.academic and any(text.startswith(w, s_end) for w in self.compound_after):
                continue
            if kind == "weak" and not any(text.startswith(c, s_end) for c in self.weak_cues):
                continue
            start = self._org_prefix_start(text, s_start, suffix, kind)
            if start is not None:
                out.append(RuleSpan(start, s_end, "ORG", "org_suffix", self.org_conf))
        return out

    def _org_prefix_start(self, text: str, s_start: int, suffix: str, kind: str) -> int | None:
        # A Latin name right before the suffix (IDG资本, TCL科技).
        if s_start > 0 and _LATIN_NAME_CHARS.match(text[s_start - 1]):
            j = s_start
            while j > 0 and s_start - j < 16 and _LATIN_NAME_CHARS.match(text[j - 1]):
                j -= 1
            while j < s_start and not text[j].isalpha():
                j += 1
            if s_start - j < 2 or (j > 0 and text[j - 1].isascii() and text[j - 1].isalnum()):
                return None
            return None if text[j:s_start].upper() in self.generic_upper else j
        limit = self.max_prefix_legal if kind == "legal" and "公司" in suffix else self.max_prefix
        lo = s_start  # a few characters more than the limit, so that jieba sees whole words
        while lo > 0 and s_start - lo < limit + 4 and is_han(text[lo - 1]):
            lo -= 1
        cut = self._boundary_cut(text, lo, s_start)
        if s_start - cut < self.min_prefix:
            return None
        tokens = list(pos_tokens(text[cut:s_start]))
        # Walk back from the suffix over words that can be part of a name; stop at a
        # function word or a dictionary verb/adjective (创投入主天迈 -> 天迈).
        keep = len(tokens)
        while keep > 0 and not _stops_name(*tokens[keep - 1]):
            keep -= 1
        for word, _, _ in tokens[:keep]:
            cut += len(word)
        tokens = tokens[keep:]
        while tokens and s_start - cut > limit:  # too long: whole words off the front
            cut += len(tokens[0][0])
            tokens = tokens[1:]
        if not tokens:
            return None
        # Drop leading generic words (芯片企业燧原 -> 燧原) while two characters remain.
        while len(tokens) > 1 and tokens[0][0] in self.generic and s_start - cut - len(tokens[0][0]) >= self.min_prefix:
            cut += len(tokens[0][0])
            tokens = tokens[1:]
        prefix = text[cut:s_start]
        if len(prefix) < self.min_prefix or prefix in self.generic:
            return None
        if kind == "legal":
            return cut
        if tokens[-1][0] in self.generic and suffix not in self.academic:
            return None  # 上市公司, 设计公司 (but 科技大学)
        if self.catalog is not None:
            place = self.catalog.place(prefix)
            if place is not None and suffix not in self.academic:
                return None  # 美国半导体, 日本电子
        kinds = [self._prefix_token_kind(*t) for t in tokens]
        if "name" in kinds or _single_char_run(tuple(tokens)):
            return cut
        if suffix in self.academic and "place" in kinds:
            return cut  # 南京大学, 香港科技大学
        return None

    def _prefix_token_kind(self, word: str, tag: str, freq: int) -> str:
        """Like :func:`token_kind`, but generic words are common, and a jieba place (ns)
        is a place only when the catalog or gazetteer knows it (星海, 蓝海 are names)."""
        if word in self.generic:
            return "common"
        kind = token_kind(word, tag, freq)
        if kind == "place" and self.catalog is not None and self.catalog.place(word) is None:
            return "name"
        return kind

    def _boundary_cut(self, text: str, lo: int, hi: int) -> int:
        """Start of the name: right after the last boundary word in ``text[lo:hi]``."""
        cut = lo
        window = text[lo:hi]
        for word in self.boundary_words:
            pos = window.find(word)
            while pos >= 0:
                end = lo + pos + len(word)
                if end > cut and not self._inside_word(text, lo + pos, word):
                    cut = end
                pos = window.find(word, pos + 1)
        return cut

    @staticmethod
    def _inside_word(text: str, pos: int, word: str) -> bool:
        """A one-character boundary word that ends a dictionary word (华为) is no boundary."""
        if len(word) != 1 or pos == 0:
            return False
        return word_freq(text[pos - 1 : pos + 1]) >= 100

    # -- products --------------------------------------------------------------------------

    _CODE = re.compile(r"(?<![A-Za-z0-9_.\-])([A-Z][A-Za-z]{0,4})(-?)(\d{1,4})([A-Za-z]{0,3})(?![A-Za-z0-9])")
    _PAIR = re.compile(r"(?<![A-Za-z0-9_.\-])([A-Z]{2,5}) ([A-Z]?\d{2,5}[A-Za-z]{0,3})(?![A-Za-z0-9])")

    def product_code(self, text: str) -> list[RuleSpan]:
        out: list[RuleSpan] = []
        for m in self._CODE.finditer(text):
            letters, _, digits, _ = m.groups()
            if self._bad_code(text, m.group(), letters, digits, m.end()):
                continue
            out.append(RuleSpan(m.start(), m.end(), "PRODUCT", "product_code", self.code_conf))
        for m in self._PAIR.finditer(text):
            head, code = m.groups()
            digits = re.sub(r"\D", "", code)
            letters = re.match(r"[A-Za-z]*", code).group()
            if self.catalog is not None and self.catalog.lookup(head) is not None:
                continue  # "AMD MI300X" is a company and a product, not one name
            if head.upper() in self.code_exclude_prefixes or self._bad_code(text, code, letters or head, digits, m.end()):
                continue
            out.append(RuleSpan(m.start(), m.end(), "PRODUCT", "product_code", self.code_conf))
        return out

    def _bad_code(self, text: str, code: str, letters: str, digits: str, end: int) -> bool:
        upper = letters.upper()
        if code.upper() in self.code_exclude or upper in self.code_exclude_prefixes:
            return True
        if any(upper.startswith(p) for p in self.code_exclude_prefixes if len(p) >= 3):
            return True  # PCIe5, LPDDR5X
        if len(letters) == 1 and len(digits) == 1:
            return True  # L2, B0
        if len(digits) == 4 and digits[:2] in ("19", "20") and len(letters) <= 2:
            return True  # FY2025, H2024
        return any(text.startswith(w, end) for w in self.code_not_before)

    def brand_code(self, text: str) -> list[RuleSpan]:
        return [RuleSpan(m.start(), m.end(), "PRODUCT", "brand_code", self.brand_conf) for m in self.brand_re.finditer(text)]

    def quoted_product(self, text: str) -> list[RuleSpan]:
        out: list[RuleSpan] = []
        for m in self.quoted_re.finditer(text):
            name = m.group(1).strip()
            if not name or name != m.group(1):
                continue
            before = text[: m.start()]
            cued = any(before.endswith(c) for c in self.cues_before) or any(
                text.startswith(c, m.end()) for c in self.cues_after
            )
            if not cued or name.isdigit():
                continue
            if any(len(w) >= 2 and tag in _PHRASE_TAGS for w, tag, _ in pos_tokens(name)):
                continue  # 芯片“成功点亮”
            out.append(RuleSpan(m.start(1), m.end(1), "PRODUCT", "quoted_product", self.quoted_conf))
        return out

    # -- people ----------------------------------------------------------------------------

    def title_person(self, text: str) -> list[RuleSpan]:
        out: list[RuleSpan] = []
        for m in self.title_re.finditer(text):
            pos = m.end()
            while text.startswith("兼", pos):  # 董事长兼CEO李明
                nxt = self.title_re.match(text, pos + 1)
                if not nxt:
                    break
                pos = nxt.end()
            end = self.name_end(text, pos)
            if end is not None:
                out.append(RuleSpan(pos, end, "PERSON", "title_person", self.person_conf))
        return out

    def speaker(self, text: str) -> list[RuleSpan]:
        m = re.match(f"([{HAN}]{{2,3}})[：:]", text)
        if not m:
            return []
        name = m.group(1)
        tokens = pos_tokens(name)
        if len(tokens) == 1 and tokens[0][1] not in ("nr", "nrfg", "nrt") and tokens[0][2] >= 100:
            return []  # 小结：, 注意：
        end = self.name_end(name, 0, whole=True)
        if end != len(name):
            return []
        return [RuleSpan(0, end, "PERSON", "speaker", self.speaker_conf)]

    def name_end(self, text: str, pos: int, *, whole: bool = False) -> int | None:
        """End of a 2-3 character Chinese name starting at ``pos``, or None."""
        k = 2 if text[pos : pos + 2] in self.compound_surnames else 1 if text[pos : pos + 1] in self.surnames else 0
        if not k or pos + k >= len(text) or not is_han(text[pos + k]) or text[pos + k] in self.name_stop:
            return None
        tokens = pos_tokens(text[pos : pos + k + 4])
        first, tag, _ = tokens[0]
        if tag.startswith("nr") and k + 1 <= len(first) <= k + 2 and _ALL_HAN.fullmatch(first):
            if len(first) == k + 2 and first[-1] in self.name_stop:
                return pos + k + 1  # jieba's guess 杨建曾 in 杨建曾向媒体...
            return pos + len(first)
        if text[pos] in self.weak_surnames and k == 1:
            return None
        if whole:
            return len(text) if len(text) - pos <= k + 2 else None
        n = k + 1
        nxt = pos + n
        if nxt < len(text) and is_han(text[nxt]) and text[nxt] not in self.name_stop:
            n += 1
        return pos + n


@lru_cache(maxsize=4)
def _cached(directory: str) -> RuleSet:
    from pipeline.entities.catalog import load_catalog

    return RuleSet(load_config("entities")["rules"], load_catalog())


def load_rules() -> RuleSet:
    """The rules of ``configs/entities.yaml`` (cached per config directory)."""
    return _cached(str(config_dir()))
