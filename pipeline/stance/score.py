"""Sentence and article stance: the scoring rules over :mod:`pipeline.stance.lexicon`.

A sentence's ``score`` is ``raw / (|raw| + 1)`` where ``raw`` is the sum of its cue
contributions (bullish > 0, skeptical < 0); ``label`` is bullish / skeptical when
``|score| >= thresholds.sentence``, else neutral. The stance is always about the Chinese
AI-chip industry (or the one domestic entity the sentence is about): cues in a clause about
a foreign firm only are seen but not counted.

``evidence`` lists the cues that decided it, in text order, space-separated::

    +量产 +订单…大增(x1.5:大幅) -泡沫 +高估(neg:并非) ~营收…大增(foreign) [question]

* ``+`` / ``-``: the cue's contribution after all modifiers is bullish / skeptical;
  ``~``: seen, not counted (in a foreign firm's clause, or a weak cue in an off-topic sentence).
* ``A…B``: a metric and its direction (使用率…高 = "usage rate … high").
* modifiers in parentheses, comma-separated: ``neg:W`` negated by W (``neg2:WV`` a double
  negation, which cancels), ``xF:W`` intensified or
  damped by W, ``resolved:W`` a problem overcome by W (卡脖子…攻克), ``concession`` /
  ``contrast`` / ``before_contrast`` / ``condition`` the clause's role, ``foreign`` /
  ``off-topic`` why a cue was not counted.
* at most 8 items (the strongest) are listed.
* sentence flags in brackets: ``[question]`` damped, ``[rhetorical]`` flipped,
  ``[undecided]`` damped (业界存在不同看法).

Article rows (``aggregate``): see ``configs/stance.yaml`` (``article``); their evidence reads
``bullish=5(+2.31) skeptical=2(-0.84) balance=+0.47; +#12 +#30 -#7``: counts and summed
(weighted) scores of opinionated sentences, the balance, and the strongest sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from pipeline.stance.lexicon import (
    CONCESSION,
    CONDITION,
    CONTEXT,
    CONTRAST,
    DOMESTIC,
    FOREIGN,
    Lexicon,
    Role,
    entity_matcher,
    load_lexicon,
)

BULLISH, SKEPTICAL, NEUTRAL, MIXED = "bullish", "skeptical", "neutral", "mixed"
INDUSTRY = "industry"
MAX_EVIDENCE_ITEMS = 8

_CLAUSE_BREAK = re.compile(r"[，,；;：:！!？?。\n]")
_QUESTION_END = re.compile(r"[？?][”」』\"')）]*\s*$")
_QUESTION_WORD = re.compile(r"吗|呢|什么|为什么|为何|如何|怎么|怎样|哪|多少|多大|多久|是否|会不会|能不能|是不是|有没有|可不可以|难道|岂")


def _starts_condition(clause: str, lex: Lexicon) -> bool:
    return any(clause.lstrip().startswith(w) for w, r in lex.roles.items() if r.marker == CONDITION)


@dataclass(frozen=True)
class Hit:
    """One cue and what it contributed."""

    start: int  # offsets in the sentence
    end: int
    text: str  # as shown in evidence
    contribution: float
    mods: tuple[str, ...]
    counted: bool

    def evidence(self) -> str:
        sign = "~" if not self.counted else ("+" if self.contribution > 0 else "-")
        mods = f"({','.join(self.mods)})" if self.mods else ""
        return f"{sign}{self.text}{mods}"


@dataclass(frozen=True)
class SentenceStance:
    label: str
    score: float
    target: str  # industry | entity id
    target_kind: str  # industry | domestic | foreign
    evidence: str
    raw: float
    subject: str | None  # class of the last clause (domestic | foreign | None): context for the next sentence
    topic: bool  # names the topic (chips, semiconductors, a configured entity ...)
    verdict: bool = False  # states a verdict (总体上…, 我对…充满信心): weighs more in its article
    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class ArticleStance:
    label: str
    score: float
    evidence: str
    bullish_mass: float
    skeptical_mass: float


@dataclass
class _Token:
    start: int
    end: int
    text: str
    role: Role
    consumed: bool = False


@dataclass
class _Cue:
    start: int  # span used for negation / intensifier look-back (the direction for metric cues)
    end: int
    show_start: int
    show_end: int
    text: str
    weight: float
    industry: bool
    look_from: int  # negators may sit from here back (metric start for metric cues)
    metric: bool = False


# --- sentences -----------------------------------------------------------------------------------


def squash(raw: float) -> float:
    return raw / (abs(raw) + 1.0)


def label_of(score: float, threshold: float) -> str:
    if score >= threshold:
        return BULLISH
    if score <= -threshold:
        return SKEPTICAL
    return NEUTRAL


def clauses(text: str) -> list[tuple[int, int]]:
    """Clause spans of a sentence (cut after each clause punctuation mark)."""
    out, start = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        if m.start() > start:
            out.append((start, m.start()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def score_sentence(
    text: str,
    mentions: Sequence[tuple[int, int, str]] | None = None,
    context: SentenceStance | None = None,
    lexicon: Lexicon | None = None,
) -> SentenceStance:
    """Stance of one sentence of ``text_final``.

    ``mentions``: ``(start, end, entity_id)`` relative to the sentence (from the entities
    stage); ``None`` finds the configured entities with the catalog. ``context``: the
    stance of the previous sentence of the same paragraph: a sentence naming no entity
    continues its predecessor's subject (英伟达…。它…), and its topic.
    """
    lex = lexicon or load_lexicon()
    if mentions is None:
        mentions = entity_matcher().find(text)
    classed = []
    for start, end, entity_id in mentions:
        cls, owner = lex.entity_class(entity_id)
        if cls is not None:
            classed.append((start, end, cls, owner))
    topic_here = bool(classed) or bool(lex.topic and lex.topic.search(text))
    on_topic = topic_here or bool(context and context.topic)

    hits: list[Hit] = []
    subject = context.subject if context else None
    in_contrast = False  # a contrast marker was seen: later cues are boosted
    concession_seen = False  # a concessive clause ended: later clauses are the main ones
    before: list[int] = []  # hits before any marker: damped if a contrast follows
    counted_domestic: set[str] = set()
    all_domestic: set[str] = set()
    foreign_owners: set[str] = set()
    anchored = False

    for c_start, c_end in clauses(text):
        clause = text[c_start:c_end]
        ents = [(cls, owner) for s, e, cls, owner in classed if c_start <= s and e <= c_end]
        domestic_here = {owner for cls, owner in ents if cls == DOMESTIC}
        all_domestic |= domestic_here
        anchor = bool(lex.anchors and lex.anchors.search(clause)) or any(cls == CONTEXT for cls, _ in ents)
        anchored |= anchor
        if domestic_here or anchor:
            subject = DOMESTIC
        elif any(cls == FOREIGN for cls, _ in ents):
            subject = FOREIGN
        if subject == FOREIGN:
            foreign_owners |= {owner for cls, owner in ents if cls == FOREIGN}

        tokens, pattern_cues = _tokens(clause, lex)
        cues = _cues(tokens, pattern_cues, lex)
        negations, negated_resolvers, spent = _negations(tokens, cues, lex)
        resolvers = [t for t in tokens if t.role.resolver and id(t) not in negated_resolvers]
        markers = [(t.start, t.role.marker) for t in tokens if t.role.marker]
        condition = any(m == CONDITION for _, m in markers)

        for cue in cues:
            mods: list[str] = []
            w = cue.weight
            negs = negations.get(id(cue), [])
            if len(negs) % 2 == 1:
                w = -w * (lex.factors["negated_negative"] if w < 0 else 1.0)
                mods.append("neg:" + "".join(n.text for n in negs))
            elif negs:
                mods.append("neg2:" + "".join(n.text for n in negs))
            inten = _intensifier(cue, tokens, lex)
            if inten is not None and inten.role.intensifier is not None:
                w *= inten.role.intensifier
                mods.append(f"x{inten.role.intensifier:g}:{inten.text}")
            if w < 0 and cue.weight < 0:
                res = [r for r in resolvers if not (cue.show_start <= r.start and r.end <= cue.show_end)]
                if res:
                    w = -w * lex.factors["resolved"]
                    mods.append("resolved:" + res[0].text)
            weak = cue.metric or abs(w) <= lex.weak_max
            marker_before = {m for pos, m in markers if pos <= cue.show_start}
            plain = not (in_contrast or concession_seen or marker_before)
            if in_contrast or CONTRAST in marker_before or (concession_seen and CONCESSION not in marker_before):
                w *= lex.factors["contrast"]
                mods.append("contrast")
            elif CONCESSION in marker_before:
                w *= lex.factors["concession"]
                mods.append("concession")
            if condition:
                w *= lex.factors["condition"]
                mods.append("condition")
            counted = subject != FOREIGN or cue.industry
            if not counted:
                mods.append("foreign")
            elif weak and not on_topic:
                counted = False
                mods.append("off-topic")
            if counted and w != 0:
                counted_domestic |= domestic_here
                if plain:
                    before.append(len(hits))
            hits.append(Hit(c_start + cue.show_start, c_start + cue.show_end, cue.text, w, tuple(mods), counted))

        # negators with nothing to negate that carry a weight of their own (难以, 无法 ...)
        used = {id(n) for negs in negations.values() for n in negs} | spent
        for t in tokens:
            if t.role.negator and id(t) not in used:
                w = t.role.negator
                mods = []
                counted = subject != FOREIGN
                if not counted:
                    mods.append("foreign")
                elif abs(w) <= lex.weak_max and not on_topic:
                    counted = False
                    mods.append("off-topic")
                hits.append(Hit(c_start + t.start, c_start + t.end, t.text, w, tuple(mods), counted))

        kinds = {m for _, m in markers}
        if CONTRAST in kinds:
            if not concession_seen:
                for i in before:
                    h = hits[i]
                    hits[i] = Hit(h.start, h.end, h.text, h.contribution * lex.factors["before_contrast"], h.mods + ("before_contrast",), h.counted)
            before = []
            in_contrast = True
        elif CONCESSION in kinds:
            concession_seen = True

    flags = []
    if _QUESTION_END.search(text):
        # the question proper: from the first clause with a question word (or a condition)
        # to the end; declarative clauses before it keep their weight (还是有短板的，该如何突破？)
        q_start = next(
            (cs for cs, ce in clauses(text) if _QUESTION_WORD.search(text[cs:ce]) or _starts_condition(text[cs:ce], lex)),
            clauses(text)[-1][0] if text.strip() else 0,
        )
        if lex.rhetorical and lex.rhetorical.search(text[q_start:]):
            factor, flag = -lex.factors["rhetorical"], "[rhetorical]"
        else:
            factor, flag = lex.factors["question"], "[question]"
        hits = [
            Hit(h.start, h.end, h.text, h.contribution * factor, h.mods, h.counted) if h.start >= q_start else h
            for h in hits
        ]
        flags.append(flag)
    if lex.undecided and lex.undecided.search(text):
        hits = [Hit(h.start, h.end, h.text, h.contribution * lex.factors["undecided"], h.mods, h.counted) for h in hits]
        flags.append("[undecided]")
    hits.sort(key=lambda h: (h.start, h.end))
    raw = sum(h.contribution for h in hits if h.counted)
    score = round(squash(raw), 4)
    label = label_of(score, lex.sentence_threshold)

    if len(counted_domestic) == 1:
        target, kind = next(iter(counted_domestic)), DOMESTIC
    elif not counted_domestic and len(all_domestic) == 1 and not foreign_owners:
        target, kind = next(iter(all_domestic)), DOMESTIC
    elif not all_domestic and not anchored and len(foreign_owners) == 1:
        target, kind = next(iter(foreign_owners)), FOREIGN
    else:
        target, kind = INDUSTRY, INDUSTRY

    shown = _strongest([h for h in hits if h.contribution != 0], MAX_EVIDENCE_ITEMS)
    evidence = " ".join([h.evidence() for h in shown] + flags)
    verdict = bool(lex.verdict and lex.verdict.search(text))
    return SentenceStance(label, score, target, kind, evidence, round(raw, 4), subject, topic_here, verdict, tuple(hits))


def _strongest(hits: list[Hit], n: int) -> list[Hit]:
    if len(hits) <= n:
        return hits
    keep = sorted(sorted(hits, key=lambda h: -abs(h.contribution))[:n], key=lambda h: (h.start, h.end))
    return keep


def _tokens(clause: str, lex: Lexicon) -> tuple[list[_Token], list[_Cue]]:
    """Pattern cues first, then lexicon tokens that do not overlap them."""
    taken = bytearray(len(clause))
    pattern_cues: list[_Cue] = []
    for p in lex.patterns:
        for m in p.regex.finditer(clause):
            s, e = m.span()
            if e <= s or any(taken[s:e]):
                continue
            taken[s:e] = b"\x01" * (e - s)
            pattern_cues.append(_Cue(s, e, s, e, p.name or m.group(0), p.weight, False, s))
    tokens = []
    for m in lex.token_re.finditer(clause):
        s, e = m.span()
        if any(taken[s:e]):
            continue
        word = m.group(0)
        role = lex.roles.get(word) or lex.roles_lower.get(word.lower()) or Role()
        tokens.append(_Token(s, e, word, role))
    return tokens, pattern_cues


def _cues(tokens: list[_Token], pattern_cues: list[_Cue], lex: Lexicon) -> list[_Cue]:
    cues = list(pattern_cues)
    window = lex.windows["metric"]
    metric_w = lex.factors["metric"]
    # metric + direction pairs
    for i, t in enumerate(tokens):
        if t.role.metric is None or t.consumed:
            continue
        pair = None
        for u in tokens[i + 1:]:
            if u.start - t.end > window or (u.role.metric is not None and u.role.direction is None):
                break
            if u.role.direction is not None and not u.consumed:
                pair = u
                break
        if pair is None:
            for u in reversed(tokens[:i]):
                if t.start - u.end > window // 2:
                    break
                if u.role.direction is not None and not u.consumed and u.role.metric is None:
                    pair = u
                    break
        if pair is None or t.role.metric == 0:
            continue
        t.consumed = pair.consumed = True
        first, last = (t, pair) if t.start < pair.start else (pair, t)
        shown = first.text + ("" if last.start == first.end else "…") + last.text
        weight = metric_w * t.role.metric * (pair.role.direction or 0)
        look_from = min(t.start, pair.start)
        cues.append(_Cue(pair.start, pair.end, first.start, last.end, shown, weight, t.role.industry, look_from, True))
    for t in tokens:
        if t.consumed or not t.role.cue:
            continue
        cues.append(_Cue(t.start, t.end, t.start, t.end, t.text, t.role.cue, t.role.industry, t.start))
    cues.sort(key=lambda c: (c.start, c.end))
    return cues


def _negations(tokens: list[_Token], cues: list[_Cue], lex: Lexicon) -> tuple[dict[int, list[_Token]], set[int], set[int]]:
    """Negators per cue (by ``id``): a negator attaches to the first cue (or resolver) after
    it, within its window; a clause negator to every cue after it. A metric cue may have its
    negator between the metric and the direction (使用率并不高). Returns the negators per cue,
    the ids of negated resolvers (很难跨过: no resolution) and the ids of the negators spent
    on them."""
    out: dict[int, list[_Token]] = {}
    negated_resolvers: set[int] = set()
    spent: set[int] = set()
    cue_spans = {(c.show_start, c.show_end) for c in cues}
    plain_resolvers = [t for t in tokens if t.role.resolver and not t.role.cue and (t.start, t.end) not in cue_spans]
    for t in tokens:
        if not t.role.is_negator or t.consumed:
            continue
        after: list[tuple[int, object]] = [
            (c.start, c) for c in cues if c.start >= t.end and (c.look_from >= t.end or c.look_from < t.start)
        ]
        if t.role.clause_negator:
            for _, c in after:
                out.setdefault(id(c), []).append(t)
            continue
        after += [(r.start, r) for r in plain_resolvers if r.start >= t.end]
        after.sort(key=lambda x: x[0])
        window = lex.windows["short_negator"] if len(t.text) == 1 else lex.windows["negator"]
        for _, c in after:
            if isinstance(c, _Token):  # a resolver: 很难跨过 (the negation is spent on it)
                if c.start - t.end <= window:
                    negated_resolvers.add(id(c))
                    spent.add(id(t))
                break
            dist = c.start - t.end if c.look_from < t.start else c.look_from - t.end
            if dist <= window:
                out.setdefault(id(c), []).append(t)
            break
    return out, negated_resolvers, spent


def _intensifier(cue: _Cue, tokens: list[_Token], lex: Lexicon) -> _Token | None:
    """The nearest intensifier before the cue, within its window."""
    best = None
    for t in tokens:
        if t.role.intensifier is None or t.consumed:
            continue
        if t.end <= cue.start and cue.start - t.end <= lex.windows["intensifier"]:
            best = t
    return best


# --- articles ------------------------------------------------------------------------------------


def aggregate(sentences: Sequence[SentenceStance], title: SentenceStance | None = None, lexicon: Lexicon | None = None) -> ArticleStance:
    """Article stance from its sentences' stances (in order) and, optionally, its title's.

    Only opinionated sentences count. P / N: the weighted sums of bullish scores and of
    |skeptical| scores; the last ``conclusion_share`` of sentences weigh
    ``conclusion_weight``, verdict sentences ``verdict_weight``, the title ``title_weight``. Below ``min_mass`` (P + N) the
    article is neutral; otherwise balance = (P - N) / (P + N) decides bullish / skeptical
    (beyond +/- ``lean``) or mixed (both sides strong). score = (P - N) / (P + N + prior).
    """
    lex = lexicon or load_lexicon()
    a = lex.article
    n = len(sentences)
    tail = max(2, int(round(n * a["conclusion_share"])))
    weighted: list[tuple[float, str]] = []
    for i, s in enumerate(sentences):
        if s.label == NEUTRAL:
            continue
        w = a["conclusion_weight"] if i >= n - tail else 1.0
        if s.verdict:
            w *= a["verdict_weight"]
        weighted.append((s.score * w, f"#{i}"))
    if title is not None and title.label != NEUTRAL:
        weighted.append((title.score * a["title_weight"], "title"))
    pos = sum(v for v, _ in weighted if v > 0)
    neg = -sum(v for v, _ in weighted if v < 0)
    mass = pos + neg
    balance = (pos - neg) / mass if mass else 0.0
    if mass < a["min_mass"]:
        label = NEUTRAL
    elif balance >= a["lean"]:
        label = BULLISH
    elif balance <= -a["lean"]:
        label = SKEPTICAL
    else:
        label = MIXED
    score = round((pos - neg) / (mass + a["prior"]), 4)
    top = int(a["top"])
    ups = [ref for v, ref in sorted((x for x in weighted if x[0] > 0), key=lambda x: -x[0])[:top]]
    downs = [ref for v, ref in sorted((x for x in weighted if x[0] < 0), key=lambda x: x[0])[:top]]
    n_pos = sum(1 for v, _ in weighted if v > 0)
    n_neg = sum(1 for v, _ in weighted if v < 0)
    evidence = (
        f"bullish={n_pos}(+{pos:.2f}) skeptical={n_neg}(-{neg:.2f}) balance={balance:+.2f}"
        + ("; " + " ".join([f"+{r}" for r in ups] + [f"-{r}" for r in downs]) if ups or downs else "")
    )
    return ArticleStance(label, score, evidence, round(pos, 4), round(neg, 4))


def score_sentences(texts: Iterable[str], lexicon: Lexicon | None = None) -> list[SentenceStance]:
    """Independent sentences (no mentions, no context): for evaluation."""
    return [score_sentence(t, lexicon=lexicon) for t in texts]
