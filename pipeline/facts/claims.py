"""Claims: clauses that assert a checkable fact, usually with a figure.

Per sentence, per clause (split at ，；：), using the article's quantities, periods and entity
mentions; all words come from ``configs/facts.yaml``:

* **metric**: each figure takes the nearest metric trigger before it in the clause whose
  ``kinds`` accept the figure's unit kind (bare numbers fit any), else one just after it
  (5亿元的研发费用), else the metric its unit implies (nm -> 制程, TFLOPS -> 算力, 元/股 -> 股价,
  家 -> 企业数量, counts from ``min_inferred_count`` up), else -- when the clause has no trigger --
  the metric of the sentence's previous claim for a change or base figure or one with that
  claim's unit (营收80亿元，同比增长12%). Weak triggers (占, 占据) count only when no other does.
  Figures are grouped by (metric, aspect): one claim each.
* **aspect**: ``change`` for multipliers and for percentages after a change word (同比增长, 下滑,
  较 ... 低) or right before one (15.3%下滑); ``base`` for the figure a comparison starts from
  (比上年同期的30亿元增长20%: 30亿元, with the comparison's own period); ``level`` otherwise (a
  change word followed by 至/到/达/为 gives a level: 增长至).
* **subject**: the first ORG/PRODUCT mention of the clause before the metric (a GPE/LOC/PERSON
  there only when the sentence is not already about an organisation); a clause-initial
  该公司/公司/其/这款 refers back to the last ORG/PRODUCT of the paragraph; else an ORG/PRODUCT
  later in the clause (一台80GB显存的X9服务器价格); else the most recent of: the previous claim's
  subject, the topic of a clause (an ORG/PRODUCT opening it), a company that is the speaker;
  else what the sentence's opening anaphor refers to, else the sentence's first mention. Never
  a mention inside the attribution (据Wind数据, 海关数据显示), a listener (向本报记者表示), a
  base of comparison (较上一代的A100), a vendor or venue (采用台积电工艺, 在港交所上市), the
  speaking person, or a mention followed by 数据/指数/显示/区.
* **period**: the first period of the clause that is not a comparison base (较2022年同期), else
  the last one earlier in the sentence, else the previous claim's.
* **speaker**: a quotation's attribution (“……”张三说 / 李四表示：“……”) for clauses inside it;
  else the sentence's attribution (据X / X数据显示 / X表示，...; a pronoun goes to the last person
  named); else the interview label of the paragraph (李四：...); else ``author``. An unnamed
  source (据悉, 有消息称) leaves ``author`` and makes the claim hedged.
* **hedged** / **kind**: a hedge cue (据称, 或达, 可能, 预计 ...) or a forecast cue (预计, 将达, 有望,
  目标, 计划 ...) from the sentence start to the clause end; ``kind`` is ``forecast`` for a
  forecast cue or a period after the article's year, else ``reported``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Sequence

from pipeline.config import config_dir, load_config
from pipeline.facts.periods import Period
from pipeline.facts.quantities import Quantity
from pipeline.model import Sentence

_QUOTES = {"“": "”", "「": "」", "『": "』"}
_PUNCT = "，,。；;：:！？!?、“”「」『』《》（）()\"' \t\n"


@dataclass(frozen=True)
class Claim:
    claim_id: str
    sent_index: int
    start: int
    end: int
    text: str
    subject_entity_id: str | None
    subject_text: str | None
    metric: str | None
    aspect: str  # level | change
    quantity_ids: list[str]
    period: str | None
    period_norm: str | None
    kind: str  # reported | forecast
    speaker: str
    speaker_entity_id: str | None
    hedged: bool
    hedge_cue: str | None

    def row(self, article_id: str) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "article_id": article_id,
            "sent_index": self.sent_index,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "subject_entity_id": self.subject_entity_id,
            "subject_text": self.subject_text,
            "metric": self.metric,
            "aspect": self.aspect,
            "quantity_ids": list(self.quantity_ids),
            "period": self.period,
            "period_norm": self.period_norm,
            "kind": self.kind,
            "speaker": self.speaker,
            "speaker_entity_id": self.speaker_entity_id,
            "hedged": self.hedged,
            "hedge_cue": self.hedge_cue,
        }


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    text: str
    label: str
    entity_id: str


@dataclass
class _Speaker:
    text: str
    entity_id: str | None
    span: tuple[int, int]  # the attribution (excluded from subjects)
    anonymous: bool = False
    label: str | None = None  # the mention's label when the speaker is one
    via: str = "verb"  # verb (X表示) | source (X数据显示) | according (据X) | quote | label


@dataclass
class _Metric:
    name: str
    kinds: frozenset[str]
    units: frozenset[str]


@dataclass
class _Trigger:
    start: int
    end: int
    metric: str
    weak: bool = False


@dataclass
class _Group:
    metric: str | None
    aspect: str
    quantities: list[Quantity] = field(default_factory=list)
    anchor: int = 0  # where the metric is named (or the first figure)
    base_at: int | None = None  # aspect "base": where 比/较 opens the comparison


def _alt(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


class ClaimFinder:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.metrics: dict[str, _Metric] = {}
        self.weak: set[str] = set()
        trigger_of: dict[str, str] = {}
        self.unit_metric: dict[str, str] = {}
        for name, spec in (cfg.get("metrics") or {}).items():
            spec = spec or {}
            self.metrics[name] = _Metric(name, frozenset(spec.get("kinds") or []), frozenset(spec.get("units") or []))
            for t in spec.get("triggers") or []:
                trigger_of.setdefault(str(t), name)
            for t in spec.get("weak_triggers") or []:
                trigger_of.setdefault(str(t), name)
                self.weak.add(str(t))
            for u in spec.get("units") or []:
                self.unit_metric.setdefault(str(u), name)
        self.trigger_of = trigger_of
        self.trigger_re = re.compile(_alt(trigger_of)) if trigger_of else None
        aspect = cfg.get("aspect") or {}
        self.change_words_list = [str(w) for w in aspect.get("change_words") or ["增长"]]
        self.change_re = re.compile(_alt(self.change_words_list))
        base = [str(w) for w in aspect.get("base_markers") or []]
        not_base = [str(w) for w in aspect.get("not_base") or []]
        self.base_re = re.compile(
            rf"(?P<nb>{_alt(not_base) if not_base else '(?!x)x'})|(?P<b>{_alt(base) if base else '(?!x)x'})"
        )
        self.level_markers = tuple(aspect.get("level_markers") or ())
        self.relative_kinds = set(aspect.get("relative_kinds") or ())
        self.changeable_kinds = set(aspect.get("changeable_kinds") or ())
        self.inherit_aspects = set(aspect.get("inherit_metric_aspects") or ("change", "base"))
        self.inherit_parallel_kinds = set(aspect.get("inherit_parallel_kinds") or ())
        c = cfg.get("claims") or {}
        self.metricless_kinds = set(c.get("metricless_kinds") or ())
        self.ignore_kinds = set(c.get("ignore_kinds") or ())
        self.clause_re = re.compile("[" + re.escape(str(c.get("clause_separators") or "，,；;：:")) + "]")
        self.window = int(c.get("trigger_after_window", 8))
        self.min_inferred_count = float(c.get("min_inferred_count", 10))
        self.subject_rank = {str(k): int(v) for k, v in (c.get("subject_labels") or {"ORG": 0, "PRODUCT": 0}).items()}
        self.not_subject_before = tuple(c.get("not_subject_before") or ())
        self.not_subject_after = tuple(c.get("not_subject_after") or ())
        self.possessive_ok_after = tuple(c.get("possessive_ok_after") or ())
        self.anaphora = sorted((str(a) for a in c.get("anaphora") or ()), key=len, reverse=True)
        self.topic_lead = str(c.get("topic_lead") or "而但还并且也则又即就")
        self.anaphora_not = ("其中", "其他", "其它", "其实", "其余", "其次", "尤其", "极其", "与其", "及其")
        s = cfg.get("speakers") or {}
        self.author = str(s.get("author") or "author")
        self.verbs = [str(v) for v in s.get("verbs") or []]
        self.source_markers = [str(v) for v in s.get("source_markers") or []]
        self.according = [str(v) for v in s.get("according") or ["据"]]
        self.according_tail = [str(v) for v in s.get("according_tail") or []]
        self.anonymous = set(str(v) for v in s.get("anonymous") or [])
        self.np_cut = sorted((str(v) for v in s.get("np_cut") or []), key=len, reverse=True)
        self.np_strip = sorted((str(v) for v in s.get("np_strip_leading") or []), key=len, reverse=True)
        self.pronouns = set(str(v) for v in s.get("pronouns") or [])
        self.recipient = tuple(str(v) for v in s.get("recipient_markers") or ())
        self.max_chars = int(s.get("max_chars", 24))
        self.np_strip_trailing = sorted((str(v) for v in s.get("np_strip_trailing") or []), key=len, reverse=True)
        self.np_reject_start = str(s.get("np_reject_start") or "")
        self.np_reject_end = tuple(str(v) for v in s.get("np_reject_end") or ())
        self.verb_re = re.compile(
            rf"(?:{_alt(self.verbs)})(?:[^，。；：:,]{{0,12}}?(?:记者|媒体))?(?=[，,：:“\"。])" if self.verbs else r"(?!x)x"
        )
        self.source_re = re.compile(rf"(?:{_alt(self.source_markers)})(?=[，,：:])") if self.source_markers else re.compile(r"(?!x)x")
        self.according_re = re.compile(
            rf"(?<![^\s，,。；;：:“”（(而但另并且又])(?:{_alt(self.according)})(?P<src>[^，。；：,:]{{1,30}}?)(?:{_alt(self.according_tail)})*(?=[，,：:])"
        )
        self.hedges = sorted((str(v) for v in cfg.get("hedges") or []), key=len, reverse=True)
        self.forecasts = sorted((str(v) for v in cfg.get("forecasts") or []), key=len, reverse=True)
        self.hedge_re = re.compile(_alt(self.hedges)) if self.hedges else None
        self.forecast_re = re.compile(_alt(self.forecasts)) if self.forecasts else None
        p = cfg.get("periods") or {}
        self.cmp_before = tuple(p.get("comparison_before") or ())
        self.cmp_after = tuple(p.get("comparison_after") or ())
        self.label_re = re.compile(r"^[ \t]*(?P<label>[^\s：:，。“”「」,（）()]{1,12})[：:]")

    # -- public ---------------------------------------------------------------------------------

    def find(
        self,
        text: str,
        article_id: str,
        sentences: Sequence[Sentence],
        mentions: Iterable[dict[str, Any]],
        quantities: Sequence[Quantity],
        periods: Sequence[Period],
        ref_year: int | None = None,
    ) -> list[Claim]:
        ments = sorted(
            (_Mention(int(m["start"]), int(m["end"]), str(m["text"]), str(m["label"]), str(m["entity_id"])) for m in mentions),
            key=lambda m: (m.start, m.end),
        )
        ment_starts = [m.start for m in ments]
        masked = self._masked(text, quantities, ments)
        labels = self._interview_labels(text, ments)
        quotes = self._quotes(text, ments)
        q_by_sent: dict[int, list[Quantity]] = {}
        for q in quantities:
            if q.sent_index is not None:
                q_by_sent.setdefault(q.sent_index, []).append(q)
        claims: list[Claim] = []
        for sent in sentences:
            qs = q_by_sent.get(sent.sent_index)
            if not qs:
                continue
            claims.extend(
                self._sentence_claims(text, masked, article_id, sent, qs, ments, ment_starts, periods, labels, quotes, ref_year)
            )
        return claims

    # -- per sentence ---------------------------------------------------------------------------

    def _sentence_claims(self, text, masked, article_id, sent, qs, ments, ment_starts, periods, labels, quotes, ref_year):
        s0, s1 = sent.start, sent.end
        sent_ments = ments[bisect.bisect_left(ment_starts, s0) : bisect.bisect_left(ment_starts, s1)]
        sent_ments = [m for m in sent_ments if m.end <= s1]
        speaker = self._attribution(text, s0, s1, ments, ment_starts)
        label = labels.get(text.rfind("\n", 0, s0) + 1)
        all_periods = [p for p in periods if s0 <= p.start and p.end <= s1]
        sent_periods = [p for p in all_periods if not self._comparison(text, p)]
        out: list[Claim] = []
        clauses = self._clauses(text, s0, s1)
        sent_first = self._anaphor(text, clauses[0][0], clauses[0][1], ments) if clauses else None
        prev: Claim | None = None
        recent: list[tuple[int, _Mention]] = []  # (where, whom): claim subjects and clause topics so far
        if speaker is not None and speaker.entity_id and speaker.label == "ORG" and speaker.via == "verb":
            recent.append((speaker.span[0], _Mention(-1, -1, speaker.text, "SPEAKER", speaker.entity_id)))  # a company on itself
        prev_metric: str | None = None
        prev_unit: str | None = None
        for c0, c1 in clauses:
            cqs = [q for q in qs if c0 <= q.start and q.end <= c1]
            if speaker is not None:
                cqs = [q for q in cqs if not (speaker.span[0] <= q.start < speaker.span[1])]
            topic = self._topic(text, c0, c1, sent_ments, speaker)
            if topic is not None:
                recent.append((topic.start, topic))  # 甲公司参与了六次，...，持股比例约20%: the chain's topic
            if not cqs:
                continue
            triggers = self._triggers(masked, c0, c1)
            groups = self._groups(masked, c0, c1, cqs, triggers, prev_metric, prev_unit)
            for k, g in enumerate(groups):
                spk = self._speaker_for(c0, c1, speaker, label, quotes)
                prior = [r for r in recent if r[0] < c0]
                prev_subj = max(prior, key=lambda r: r[0])[1] if prior else None
                subject = self._subject(text, c0, c1, g.anchor, sent_ments, spk, prev_subj, s0, ments, sent_first)
                if g.aspect == "base":
                    period = next((p for p in all_periods if g.base_at <= p.start and p.end <= g.quantities[0].start), None)
                else:
                    period = self._period(sent_periods, c0, c1, prev)
                scope = text[s0:c1]
                hedge = self._first(self.hedge_re, scope)
                if hedge is None and spk is not None and spk.anonymous:
                    hedge = spk.text or "据悉"
                forecast = self._first(self.forecast_re, scope) is not None
                if not forecast and period is not None and ref_year is not None and period.year is not None:
                    forecast = period.year > ref_year
                start, end = _strip(text, c0, c1)
                claim = Claim(
                    claim_id=f"c_{article_id}_{start}_{k}",
                    sent_index=sent.sent_index,
                    start=start,
                    end=end,
                    text=text[start:end],
                    subject_entity_id=subject.entity_id if subject else None,
                    subject_text=subject.text if subject else None,
                    metric=g.metric,
                    aspect=g.aspect,
                    quantity_ids=[q.quantity_id for q in g.quantities],
                    period=period.text if period else None,
                    period_norm=period.norm if period else None,
                    kind="forecast" if forecast else "reported",
                    speaker=(spk.text if spk and not spk.anonymous else self.author),
                    speaker_entity_id=(spk.entity_id if spk and not spk.anonymous else None),
                    hedged=hedge is not None,
                    hedge_cue=hedge,
                )
                out.append(claim)
                prev = claim
                if subject is not None:
                    recent.append((c0, subject))
                if g.metric is not None:
                    prev_metric = g.metric
                    prev_unit = g.quantities[-1].unit
        return out

    def _clauses(self, text: str, s0: int, s1: int) -> list[tuple[int, int]]:
        out, start = [], s0
        for m in self.clause_re.finditer(text, s0, s1):
            if m.start() > start:
                out.append((start, m.start()))
            start = m.end()
        if start < s1:
            out.append((start, s1))
        return out

    # -- metrics and aspects --------------------------------------------------------------------

    @staticmethod
    def _masked(text: str, quantities: Sequence[Quantity], ments: Sequence[_Mention]) -> str:
        chars = list(text)
        for q in quantities:
            chars[q.start : q.end] = "＃" * (q.end - q.start)
        for m in ments:
            chars[m.start : m.end] = "＠" * (m.end - m.start)
        return "".join(chars)

    def _triggers(self, masked: str, c0: int, c1: int) -> list[_Trigger]:
        if self.trigger_re is None:
            return []
        return [
            _Trigger(m.start(), m.end(), self.trigger_of[m.group(0)], m.group(0) in self.weak)
            for m in self.trigger_re.finditer(masked, c0, c1)
        ]

    def _groups(self, masked, c0, c1, cqs, triggers, prev_metric, prev_unit) -> list[_Group]:
        # change words are looked for where neither figures, names nor triggers are
        chars = list(masked[c0:c1])
        for t in triggers:
            chars[t.start - c0 : t.end - c0] = "＊" * (t.end - t.start)
        clean = "".join(chars)
        # words like 比例, 比重 hold no change word (比) and open no comparison
        clean = self.base_re.sub(lambda m: "＊" * len(m.group(0)) if m.group("nb") else m.group(0), clean)
        groups: dict[tuple[str | None, str], _Group] = {}
        for q in cqs:
            base_at = self._base_marker(clean, c0, q)
            aspect = "base" if base_at is not None else self._aspect(clean, c0, q)
            metric, anchor = self._metric_of(q, aspect, triggers, prev_metric, prev_unit)
            if metric is None and (q.unit_kind not in self.metricless_kinds):
                continue
            if metric is not None and q.unit_kind in self.ignore_kinds and not self._trigger_named(q, metric, triggers):
                continue
            key = (metric, aspect)
            g = groups.get(key)
            if g is None:
                g = groups[key] = _Group(metric, aspect, anchor=anchor, base_at=base_at)
            g.quantities.append(q)
        return sorted(groups.values(), key=lambda g: g.quantities[0].start)

    def _base_marker(self, clean: str, c0: int, q: Quantity) -> int | None:
        """Where 比/较/相比 opens the comparison base this figure is (比上年同期的30亿元), if it is one."""
        before = clean[: q.start - c0]
        last = None
        for m in self.base_re.finditer(before):
            if m.group("b"):
                last = m
        if last is None or len(before) - last.end() > 12:
            return None
        segment = before[last.end() :]
        if self.change_re.search(segment) or "＃" in segment:
            return None
        if not clean[q.end - c0 :].lstrip("的").startswith(tuple(self.change_words_list)) and q.unit_kind in self.changeable_kinds:
            return None
        return c0 + last.start()

    def _trigger_named(self, q: Quantity, metric: str, triggers: list[_Trigger]) -> bool:
        return any(t.metric == metric for t in triggers)

    def _aspect(self, clean: str, c0: int, q: Quantity) -> str:
        if q.unit_kind in self.relative_kinds:
            return "change"
        if q.unit_kind not in self.changeable_kinds:
            return "level"
        before = clean[: q.start - c0]
        last = None
        for m in self.change_re.finditer(before):
            last = m
        if last is not None:
            after = before[last.end() :]
            if after.startswith(self.level_markers):
                return "level"
            return "change"
        after_q = clean[q.end - c0 : q.end - c0 + 3]
        m = self.change_re.match(after_q)
        if m is not None and not after_q[m.end() :].startswith(self.level_markers):
            return "change"
        return "level"

    def _accepts(self, metric: str, q: Quantity, aspect: str) -> bool:
        if aspect == "change" or q.unit_kind == "number":
            return True
        spec = self.metrics[metric]
        return q.unit_kind in spec.kinds or (q.unit is not None and q.unit in spec.units)

    def _metric_of(self, q: Quantity, aspect: str, triggers: list[_Trigger], prev_metric: str | None, prev_unit: str | None):
        before = [t for t in triggers if t.end <= q.start]
        after = [t for t in triggers if t.start >= q.end and t.start - q.end <= self.window]
        for weak in (False, True):
            for t in reversed(before):
                if t.weak == weak and self._accepts(t.metric, q, aspect):
                    return t.metric, t.start
            for t in after:
                if t.weak == weak and self._accepts(t.metric, q, aspect):
                    return t.metric, t.start
        if q.unit is not None and q.unit in self.unit_metric:
            size = q.value if q.value is not None else (q.value_high or q.value_low or 0)
            if q.unit_kind != "count" or size >= self.min_inferred_count:
                return self.unit_metric[q.unit], q.start
        parallel = q.unit is not None and q.unit == prev_unit and q.unit_kind in self.inherit_parallel_kinds
        if not triggers and prev_metric is not None and (aspect in self.inherit_aspects or parallel) and self._accepts(prev_metric, q, aspect):
            return prev_metric, q.start
        return None, q.start

    # -- subjects -------------------------------------------------------------------------------

    def _eligible(self, text: str, m: _Mention, speaker: _Speaker | None) -> bool:
        if m.label not in self.subject_rank:
            return False
        if speaker is not None and speaker.span[0] <= m.start < speaker.span[1]:
            return False
        window = text[max(0, m.start - 8) : m.start]
        cut = max(window.rfind(ch) for ch in "，,；;：:。") + 1
        if any(mm.group("b") for mm in self.base_re.finditer(window[cut:])):
            return False  # inside a comparison: 较上一代的A100
        if text.startswith(self.not_subject_before, m.end):
            return False
        left = text[max(0, m.start - 3) : m.start].rstrip("《“「")
        if left.endswith(self.recipient):
            return False
        if m.text in self.anaphora:
            return False  # 公司 tagged as a name: resolved as an anaphor instead
        after_word = text[max(0, m.start - 4) : m.start]
        if after_word.endswith(self.not_subject_after):
            possessive = text.startswith("的", m.end) and after_word.endswith(self.possessive_ok_after)
            if not possessive:
                return False  # 采用台积电..., 在港交所上市 (but 在燧原科技的融资中 keeps it)
        if speaker is not None and speaker.entity_id and m.entity_id == speaker.entity_id and m.label == "PERSON":
            return False
        return True

    def _subject(self, text, c0, c1, anchor, sent_ments, speaker, prev_subject, s0, ments, sent_first):
        in_clause = [m for m in sent_ments if c0 <= m.start and m.end <= c1 and self._eligible(text, m, speaker)]
        before = [m for m in in_clause if m.end <= max(anchor, c0)]
        ana = self._anaphor(text, c0, c1, ments)
        if ana is not None:
            pos, antecedent = ana
            if antecedent is not None and not any(m.start < pos and self.subject_rank[m.label] == 0 for m in before):
                return antecedent
        best = self._best(before)
        if best is not None and (
            self.subject_rank[best.label] == 0 or prev_subject is None or self.subject_rank.get(prev_subject.label, 9) != 0
        ):  # (a speaking company, label SPEAKER, never outranks a place named in the clause)
            return best  # a place or person loses to an organisation the sentence is already about
        after = self._best([m for m in in_clause if m not in before and self.subject_rank[m.label] == 0])
        if after is not None:
            return after  # 一台141GB显存的H20服务器
        if prev_subject is not None:
            if prev_subject.label == "SPEAKER":
                return _Mention(-1, -1, prev_subject.text, "ORG", prev_subject.entity_id)
            return prev_subject
        if best is not None:
            return best
        if sent_first is not None and sent_first[1] is not None and sent_first[0] < c0:
            return sent_first[1]  # 这款...芯片，...，单卡价格...: the sentence is about what it refers to
        after = self._best([m for m in in_clause if m not in before])
        if after is not None:
            return after
        earlier = [m for m in sent_ments if s0 <= m.start and m.end <= c0 and self._eligible(text, m, speaker)]
        return self._best(earlier)

    def _topic(self, text, c0, c1, sent_ments, speaker) -> _Mention | None:
        """An organisation or product opening a clause (after at most one of 而/但/还 ...)."""
        for m in sent_ments:
            if m.start == c0 or (m.start == c0 + 1 and text[c0] in self.topic_lead):
                if m.end <= c1 and self.subject_rank.get(m.label) == 0 and self._eligible(text, m, speaker):
                    return m
        return None

    def _best(self, cands: list[_Mention]) -> _Mention | None:
        if not cands:
            return None
        return min(cands, key=lambda m: (self.subject_rank[m.label], m.start))

    def _anaphor(self, text, c0, c1, ments):
        head = text[c0 : min(c1, c0 + 6)]
        for word in self.anaphora:
            i = head.find(word)
            if i < 0 or i > 2:
                continue
            pos = c0 + i
            around = text[max(0, pos - 1) : pos + len(word) + 1]
            if any(x in around for x in self.anaphora_not):
                continue
            if any(m.start <= pos < m.end and m.text != word for m in ments):
                continue  # part of a name (某某证券股份有限公司)
            para = text.rfind("\n", 0, c0) + 1
            prior = [m for m in ments if para <= m.start and m.end <= pos and m.label in ("ORG", "PRODUCT") and m.text not in self.anaphora]
            if word in ("该芯片", "该产品", "这款芯片", "这款"):
                prior = [m for m in prior if m.label == "PRODUCT"] or prior
            elif word != "其":
                prior = [m for m in prior if m.label == "ORG"] or prior
            return pos, (prior[-1] if prior else None)
        return None

    # -- periods --------------------------------------------------------------------------------

    def _comparison(self, text: str, p: Period) -> bool:
        before = text[max(0, p.start - 4) : p.start]
        if any(before.endswith(w) or before.endswith(w + "的") for w in self.cmp_before):
            return True
        return text.startswith(self.cmp_after, p.end) or text.startswith(tuple("的" + w for w in self.cmp_after), p.end)

    @staticmethod
    def _period(sent_periods: list[Period], c0: int, c1: int, prev: Claim | None) -> Period | None:
        inside = [p for p in sent_periods if c0 <= p.start and p.end <= c1]
        if inside:
            return inside[0]
        earlier = [p for p in sent_periods if p.end <= c0]
        if earlier:
            return earlier[-1]
        if prev is not None and prev.period is not None:
            return Period(-1, -1, prev.period, prev.period_norm, None)
        return None

    # -- speakers -------------------------------------------------------------------------------

    def _speaker_for(self, c0, c1, speaker, label, quotes) -> _Speaker | None:
        for qs, qe, spk in quotes:
            if qs <= c0 and c1 <= qe:
                return spk
        if speaker is not None:
            return speaker
        return label

    def _attribution(self, text: str, s0: int, s1: int, ments, ment_starts) -> _Speaker | None:
        found: list[tuple[int, _Speaker]] = []
        m = self.according_re.search(text, s0, s1)
        if m is not None:
            src = m.group("src").strip().strip("《》“”「」")
            core = src
            for w in sorted(self.anonymous, key=len, reverse=True):
                if core == w or core.endswith(w) and len(core) <= len(w) + 1:
                    core = ""
                    break
            spk = self._resolve(text, m.start("src"), m.end("src"), ments, ment_starts, src)
            if spk is None or not core:
                spk = _Speaker(src, None, (m.start(), m.end()), anonymous=True)
            spk.span = (m.start(), m.end())
            spk.via = "according"
            found.append((m.start(), spk))
        for rx in (self.source_re, self.verb_re):
            for vm in rx.finditer(text, s0, s1):
                c0 = max(text.rfind(ch, s0, vm.start()) for ch in "，,；;：:“”。\n") + 1
                c0 = max(c0, s0)
                np_start, np_end = self._np(text, c0, vm.start())
                if np_end <= np_start:
                    continue
                np_text = text[np_start:np_end]
                spk = self._resolve(text, np_start, np_end, ments, ment_starts, np_text, verb_end=vm.end())
                if spk is None:
                    continue
                spk.via = "source" if rx is self.source_re else "verb"
                found.append((np_start, spk))
                break
        if not found:
            return None
        return min(found, key=lambda x: x[0])[1]

    def _np(self, text: str, c0: int, v: int) -> tuple[int, int]:
        start = c0
        changed = True
        while changed:
            changed = False
            for w in self.np_strip:
                if text.startswith(w, start) and start + len(w) < v:
                    start += len(w)
                    changed = True
                    break
        end = v
        for i in range(start + 1, v):
            if any(text.startswith(w, i) for w in self.np_cut):
                end = i
                break
        changed = True
        while changed:
            changed = False
            for w in self.np_strip_trailing:
                if end - len(w) > start and text.startswith(w, end - len(w)):
                    end -= len(w)
                    changed = True
                    break
        while start < end and text[start] in _PUNCT:
            start += 1
        while end > start and text[end - 1] in _PUNCT:
            end -= 1
        return start, end

    def _resolve(self, text, np_start, np_end, ments, ment_starts, np_text, verb_end=None) -> _Speaker | None:
        span_end = verb_end if verb_end is not None else np_end
        if not np_text:
            return None
        inside = [
            m for m in ments[bisect.bisect_left(ment_starts, np_start) : bisect.bisect_left(ment_starts, np_end)]
            if m.end <= np_end and m.label in ("PERSON", "ORG") and not text[max(0, m.start - 2) : m.start].rstrip("《“").endswith(self.recipient)
        ]
        people = [m for m in inside if m.label == "PERSON"]
        if people:
            p = people[-1]  # 某大学教授张三 -> 张三
            return _Speaker(p.text, p.entity_id, (np_start, span_end), label="PERSON")
        if np_text in self.pronouns:
            prior = [m for m in ments[: bisect.bisect_left(ment_starts, np_start)] if m.label == "PERSON"]
            if prior:
                return _Speaker(prior[-1].text, prior[-1].entity_id, (np_start, span_end), label="PERSON")
            return None
        if len(np_text) > self.max_chars or any(ch.isdigit() for ch in np_text):
            return None
        if len(np_text) < 2 or np_text[0] in self.np_reject_start or np_text.endswith(self.np_reject_end):
            return None  # 也就是说, 简单来说, 坦率地说: not a speaker
        if np_text in self.anonymous or any(np_text.endswith(w) for w in self.anonymous if len(w) >= 2):
            return _Speaker(np_text, None, (np_start, span_end), anonymous=True)  # 有消息称, 今年有消息说
        orgs = [m for m in inside if m.label == "ORG"]
        if orgs and orgs[-1].end == np_end and orgs[-1].start == np_start:
            return _Speaker(orgs[-1].text, orgs[-1].entity_id, (np_start, span_end), label="ORG")
        return _Speaker(np_text, orgs[-1].entity_id if orgs else None, (np_start, span_end), label="ORG" if orgs else None)

    def _interview_labels(self, text: str, ments) -> dict[int, _Speaker]:
        """Paragraphs opening with ``NAME：`` where NAME opens 2+ paragraphs or is a person."""
        found: dict[int, tuple[str, int]] = {}
        counts: dict[str, int] = {}
        pos = 0
        for line in text.split("\n"):
            m = self.label_re.match(line)
            if m is not None:
                label = m.group("label")
                found[pos] = (label, pos + m.start("label"))
                counts[label] = counts.get(label, 0) + 1
            pos += len(line) + 1
        out: dict[int, _Speaker] = {}
        by_start = {m.start: m for m in ments}
        for line_start, (label, lstart) in found.items():
            ment = by_start.get(lstart)
            is_person = ment is not None and ment.label == "PERSON" and ment.end == lstart + len(label)
            if counts[label] >= 2 or is_person:
                whole = ment is not None and ment.end == lstart + len(label)
                out[line_start] = _Speaker(label, ment.entity_id if whole else None, (lstart, lstart + len(label)),
                                           label=ment.label if whole else None)
        return out

    def _quotes(self, text: str, ments) -> list[tuple[int, int, _Speaker]]:
        """Quotations with an attribution right before (X说：“) or right after (”X说。)."""
        ment_starts = [m.start for m in ments]
        out = []
        pos = 0
        while True:
            qs = min((i for i in (text.find(o, pos) for o in _QUOTES) if i >= 0), default=-1)
            if qs < 0:
                break
            close = _QUOTES[text[qs]]
            qe = text.find(close, qs + 1)
            if qe < 0:
                break
            spk = None
            # after: ”张三说。 / ”，李四指出。
            tail = text[qe + 1 : qe + 1 + 30]
            vm = self.verb_re.search(tail)
            if vm is not None and "\n" not in tail[: vm.start()] and not any(ch in "。！？" for ch in tail[: vm.start()]):
                a = qe + 1 + (1 if tail[:1] in "，," else 0)
                n0, n1 = self._np(text, a, qe + 1 + vm.start())
                if n1 > n0:
                    spk = self._resolve(text, n0, n1, ments, ment_starts, text[n0:n1], verb_end=qe + 1 + vm.end())
            if spk is None:
                # before: 张三说：“ / 他表示：“
                head_start = max(text.rfind(ch, 0, qs) for ch in "。！？\n") + 1
                head = text[head_start:qs]
                hm = None
                for hm in self.verb_re.finditer(head):
                    pass
                if hm is not None and head[hm.end() :].strip() in ("：", ":", "，", ",", ""):
                    c0 = max(max(text.rfind(ch, head_start, head_start + hm.start()) for ch in "，,；;") + 1, head_start)
                    n0, n1 = self._np(text, c0, head_start + hm.start())
                    if n1 > n0:
                        spk = self._resolve(text, n0, n1, ments, ment_starts, text[n0:n1], verb_end=head_start + hm.end())
            if spk is not None and not spk.anonymous:
                out.append((qs, qe + 1, spk))
            pos = qe + 1
        return out

    @staticmethod
    def _first(rx: re.Pattern | None, s: str) -> str | None:
        if rx is None:
            return None
        m = rx.search(s)
        return m.group(0) if m else None


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in " \t\u3000":
        a += 1
    while b > a and text[b - 1] in " \t\u3000":
        b -= 1
    return a, b


@lru_cache(maxsize=4)
def _cached(directory: str) -> ClaimFinder:
    return ClaimFinder(load_config("facts"))


def load_claim_finder() -> ClaimFinder:
    return _cached(str(config_dir()))


def find_claims(
    text: str,
    article_id: str,
    sentences: Sequence[Sentence],
    mentions: Iterable[dict[str, Any]],
    quantities: Sequence[Quantity],
    periods: Sequence[Period],
    ref_year: int | None = None,
) -> list[Claim]:
    """Claims of ``text`` (= ``text_final``); ``text[c.start:c.end] == c.text``."""
    return load_claim_finder().find(text, article_id, sentences, mentions, quantities, periods, ref_year)
