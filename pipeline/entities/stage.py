"""Stage 4, entities: mentions of people, organisations, places and products, linked.

Three detectors propose spans over ``text_final``; all of them live on one spaCy ``Doc``
of the article (blank Chinese pipeline, one token per character):

* ``doc.spans["catalog"]``: the domain catalog (``configs/entities.yaml``) applied with a
  ``PhraseMatcher`` (case-insensitive; a Latin alias never matches inside a longer Latin
  word; matches inside a ``false_friends`` string are dropped). Detector ``catalog``.
  Gazetteer places without a catalog entry are matched here too, but count as a rule
  (detector ``rule:gazetteer``).
* ``doc.spans["rules"]``: the rules of :mod:`pipeline.entities.rules`, per sentence.
  Detector ``rule:<name>``.
* ``doc.spans["model"]``: the statistical model's spans (``ner_model.predict_spans``:
  PER/ORG/LOC per sentence), labels mapped PER->PERSON, ORG->ORG, LOC->GPE when the
  catalog/gazetteer (or a 省/市/州... ending) says it is a country, region or city, else
  LOC. Leading/trailing function characters are stripped (由壁仞科技 -> 壁仞科技).
  Detector ``model``.

**Precedence** (the winners become ``doc.ents``; nothing overlaps):

1. catalog > rules > model: of two overlapping spans, the one from the earlier detector
   wins; among spans of the same rank the longer wins, then the earlier one.
2. Exceptions, which raise a span to the catalog's rank:
   a. a rule span (not PERSON) that strictly contains every higher-rank span it overlaps,
      each of which starts where it starts or is a place: a more specific name built on
      a catalog name (思元590 > 思元, 上海微电子 > 上海, 印度尼西亚 > 印度, 北京大学 > 北京);
   b. a model ORG span ending in one of ``detect.org_heads`` whose overlapping
      higher-rank spans are all places strictly inside it (上海证券交易所 > 上海).
3. Article-level recall, after the merge and only on characters no winner covers: a
   surface a rule or the model found (PERSON/ORG/PRODUCT, 2+ characters, not a common
   word) is found again elsewhere in the article (detector ``rule:propagate``), and an
   ORG's core without its suffix (澜舟科技 -> 澜舟) likewise (``rule:short_form``).

Every winner is then linked (:mod:`pipeline.entities.link`). A mention lies inside one
sentence; ``text[start:end] == mention.text`` always.
"""

from __future__ import annotations

import dataclasses

import bisect
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Sequence

from pipeline.config import ConfigError, config_dir, load_config
from pipeline.entities.catalog import ALIAS, CONTEXT_SHORT, GAZETTEER, PLACE_LABELS, Catalog, load_catalog
from pipeline.entities.link import Linker, LinkInput, load_linker
from pipeline.entities.rules import RuleSet, load_rules, pos_tokens, token_kind
from pipeline.model import ArticleDoc, Sentence

log = logging.getLogger(__name__)

ModelSpans = list[list[tuple[str, str, int, int]]]

GROUPS = ("catalog", "rules", "model")
_MODEL_LABELS = {"PER": "PERSON", "PERSON": "PERSON", "NR": "PERSON", "ORG": "ORG", "NT": "ORG", "LOC": "LOC", "GPE": "LOC", "NS": "LOC"}


@dataclass(frozen=True)
class Mention:
    sent_index: int
    start: int  # offsets in text_final
    end: int
    text: str
    label: str  # PERSON | ORG | GPE | LOC | PRODUCT
    entity_id: str
    confidence: float
    detector: str  # catalog | rule:<name> | model


@dataclass(frozen=True)
class EntityRecord:
    entity_id: str
    name: str
    label: str
    aliases: list[str]
    mention_count: int


@dataclass(frozen=True)
class Candidate:
    """A span proposed by one detector (offsets in the article text)."""

    start: int
    end: int
    label: str
    detector: str
    confidence: float
    group: str  # catalog | rules | model
    entity_id: str | None = None

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: "Candidate") -> bool:
        return self.start < other.end and other.start < self.end

    def strictly_contains(self, other: "Candidate") -> bool:
        return self.start <= other.start and other.end <= self.end and self.length > other.length


# --- public API -------------------------------------------------------------------------------


def find_mentions(
    text: str,
    sentences: list[Sentence],
    model_spans: ModelSpans | None = None,
) -> list[Mention]:
    """Entity mentions of ``text`` (= ``text_final``), sorted by position.

    ``model_spans`` holds the statistical model's ``(text, label, start, end)`` spans per
    sentence, offsets relative to the sentence; ``None`` runs
    ``pipeline.entities.ner_model.predict_spans`` (when no trained model exists and
    ``detect.model.required`` is false, the catalog and the rules work alone).
    """
    return load_detector().find(text, sentences, model_spans)[1]


def build_doc(text: str, sentences: list[Sentence], model_spans: ModelSpans | None = None):
    """The spaCy ``Doc`` of an article, with ``spans["catalog"|"rules"|"model"]`` and the
    merged ``ents`` (``kb_id_`` = entity id, ``id_`` = detector); for inspection."""
    return load_detector().find(text, sentences, model_spans)[0]


def aggregate_entities(mentions: Iterable[Mention]) -> list[EntityRecord]:
    """Corpus-level entities of ``mentions``, sorted by ``entity_id``.

    ``name``: the catalog name for catalog ids, else the most frequent surface (ties: the
    longer, then the smaller string); ``label``: the catalog's, else the most frequent;
    ``aliases``: distinct surfaces seen plus the catalog's aliases and short forms,
    without the name, sorted.
    """
    catalog = load_catalog()
    by_id: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_id[m.entity_id].append(m)
    records = []
    for entity_id in sorted(by_id):
        group = by_id[entity_id]
        surfaces = Counter(m.text for m in group)
        entity = catalog.get(entity_id)
        aliases = set(surfaces)
        if entity is not None:
            name, label = entity.name, entity.label
            if entity.source != "gazetteer":
                aliases.update(entity.declared_aliases())
        else:
            name = min(surfaces, key=lambda s: (-surfaces[s], -len(s), s))
            labels = Counter(m.label for m in group)
            label = min(labels, key=lambda lab: (-labels[lab], lab))
        aliases.discard(name)
        records.append(EntityRecord(entity_id, name, label, sorted(aliases), len(group)))
    return records


def mention_rows(article_id: str, mentions: Iterable[Mention]) -> list[dict[str, Any]]:
    """Rows of the ``mentions`` table."""
    return [
        {
            "article_id": article_id,
            "sent_index": m.sent_index,
            "start": m.start,
            "end": m.end,
            "text": m.text,
            "label": m.label,
            "entity_id": m.entity_id,
            "confidence": m.confidence,
            "detector": m.detector,
        }
        for m in mentions
    ]


def entity_rows(records: Iterable[EntityRecord]) -> list[dict[str, Any]]:
    """Rows of the ``entities`` table."""
    return [
        {"entity_id": r.entity_id, "name": r.name, "label": r.label, "aliases": list(r.aliases), "mention_count": r.mention_count}
        for r in records
    ]


def aggregate_entity_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entities`` rows from ``mentions`` rows (e.g. the whole table, read back)."""
    mentions = (
        Mention(r["sent_index"], r["start"], r["end"], r["text"], r["label"], r["entity_id"], r["confidence"], r["detector"])
        for r in rows
    )
    return entity_rows(aggregate_entities(mentions))


def run_entities(doc: ArticleDoc, model_spans: ModelSpans | None = None) -> list[Mention]:
    """The stage: mentions of ``doc.text_final`` into ``doc.extra_rows["mentions"]``."""
    mentions = find_mentions(doc.text_final, doc.sentences, model_spans)
    doc.extra_rows["mentions"] = mention_rows(doc.article_id, mentions)
    return mentions


def entities_stage_rows(doc: ArticleDoc) -> dict[str, list[dict[str, Any]]]:
    """The rows the stage contributes (set by :func:`run_entities`)."""
    return {"mentions": list(doc.extra_rows.get("mentions", []))}


# --- the detector ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def blank_zh():
    """spaCy's blank Chinese pipeline with one token per character (no downloads)."""
    import spacy

    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})


class _Sentences:
    def __init__(self, text: str, sentences: Sequence[Sentence]) -> None:
        self.sentences = sorted(sentences, key=lambda s: s.start)
        self.starts = [s.start for s in self.sentences]
        for s in self.sentences:
            if text[s.start : s.end] != s.text:
                raise ValueError(f"sentence {s.sent_index} does not slice the text at {s.start}:{s.end}")

    def of(self, start: int, end: int) -> Sentence | None:
        i = bisect.bisect_right(self.starts, start) - 1
        if i >= 0 and self.sentences[i].start <= start and end <= self.sentences[i].end:
            return self.sentences[i]
        return None


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def latin_bounded(text: str, start: int, end: int) -> bool:
    """A span starting/ending with a Latin letter or digit is not part of a longer word."""
    if _is_ascii_alnum(text[start]) and start > 0 and _is_ascii_alnum(text[start - 1]):
        return False
    if _is_ascii_alnum(text[end - 1]) and end < len(text) and _is_ascii_alnum(text[end]):
        return False
    return True


class Detector:
    def __init__(self, catalog: Catalog, rules: RuleSet, linker: Linker, cfg: dict[str, Any]) -> None:
        self.catalog, self.rules, self.linker = catalog, rules, linker
        detect = cfg.get("detect") or {}
        precedence = detect.get("precedence") or list(GROUPS)
        if sorted(precedence) != sorted(GROUPS):
            raise ConfigError(f"entities.yaml: detect/precedence must order {GROUPS}")
        self.rank = {g: i for i, g in enumerate(precedence)}
        self.org_heads = tuple(detect.get("org_heads") or ())
        conf = detect.get("confidence") or {}
        self.conf = {k: float(conf.get(k, d)) for k, d in (
            ("catalog", 0.97), ("catalog_short", 0.88), ("catalog_context", 0.8),
            ("gazetteer", 0.9), ("model", 0.7), ("propagated", 0.9),
        )}
        model = detect.get("model") or {}
        self.model_required = bool(model.get("required", False))
        self.strip_leading = set(str(model.get("strip_leading") or ""))
        self.strip_trailing = set(str(model.get("strip_trailing") or ""))
        self.model_min = int(model.get("min_chars", 2))
        self.not_names = {str(w).lower() for w in model.get("not_names") or ()}
        short = (cfg.get("rules") or {}).get("short_form") or {}
        self.short_conf = float(short.get("confidence", 0.7))
        self.short_min = int(short.get("min_chars", 2))
        self._warned = False

        from spacy.matcher import PhraseMatcher

        self.nlp = blank_zh()
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        patterns: dict[str, list] = defaultdict(list)
        for surface in catalog.surfaces:
            patterns[f"{surface.entity_id}|{surface.kind}"].append(self.nlp.make_doc(surface.text))
        self._keys: dict[int, tuple[str, str]] = {}
        for key, docs in patterns.items():
            self.matcher.add(key, docs)
            entity_id, kind = key.rsplit("|", 1)
            self._keys[self.nlp.vocab.strings[key]] = (entity_id, kind)

    # -- detection ------------------------------------------------------------------------

    def find(self, text: str, sentences: list[Sentence], model_spans: ModelSpans | None):
        index = _Sentences(text, sentences)
        doc = self.nlp.make_doc(text)
        if model_spans is None:
            model_spans = self._predict(sentences)
        if len(model_spans) != len(sentences):
            raise ValueError(f"model_spans has {len(model_spans)} entries for {len(sentences)} sentences")

        catalog = self._catalog_candidates(doc, text, index)
        rules = self._rule_candidates(text, sentences)
        model = self._trim_person_tails(self._model_candidates(sentences, model_spans), catalog + rules, text)
        winners = self._resolve(catalog + rules + model, text)
        winners += self._propagate(text, index, winners)
        winners.sort(key=lambda c: (c.start, c.end))

        links = self.linker.link_article([LinkInput(text[c.start : c.end], c.label, c.entity_id) for c in winners])
        mentions = []
        for c, (entity_id, label) in zip(winners, links):
            sent = index.of(c.start, c.end)
            mentions.append(
                Mention(sent.sent_index, c.start, c.end, text[c.start : c.end], label, entity_id, round(c.confidence, 4), c.detector)
            )

        for group, cands in (("catalog", catalog), ("rules", rules), ("model", model)):
            doc.spans[group] = [s for s in (self._span(doc, c) for c in cands) if s is not None]
        doc.ents = [
            s for s in (self._span(doc, Candidate(m.start, m.end, m.label, m.detector, m.confidence, "", m.entity_id)) for m in mentions)
            if s is not None
        ]
        return doc, mentions

    @staticmethod
    def _span(doc, c: Candidate):
        return doc.char_span(c.start, c.end, label=c.label, kb_id=c.entity_id or "", span_id=c.detector)

    def _predict(self, sentences: list[Sentence]) -> ModelSpans:
        try:
            from pipeline.entities import ner_model

            return ner_model.predict_spans([s.text for s in sentences])
        except (FileNotFoundError, ImportError) as exc:
            if self.model_required:
                raise
            if not self._warned:
                log.warning("entities: NER model unavailable (%s); using catalog and rules only", exc)
                self._warned = True
            return [[] for _ in sentences]

    def _catalog_candidates(self, doc, text: str, index: _Sentences) -> list[Candidate]:
        friends = [(p, p + len(f)) for f in self.catalog.false_friends for p in _find_all(text, f)]
        found: list[Candidate] = []
        context: list[Candidate] = []
        named_in_full: set[str] = set()
        for match_id, s, e in self.matcher(doc):
            span = doc[s:e]
            start, end = span.start_char, span.end_char
            entity_id, kind = self._keys[match_id]
            if not latin_bounded(text, start, end) or index.of(start, end) is None:
                continue
            if any(fs <= start and end <= fe for fs, fe in friends):
                continue
            label = self.catalog.entities[entity_id].label
            if kind == GAZETTEER:
                found.append(Candidate(start, end, label, "rule:gazetteer", self.conf["gazetteer"], "rules", entity_id))
            elif kind == CONTEXT_SHORT:
                context.append(Candidate(start, end, label, "catalog", self.conf["catalog_context"], "catalog", entity_id))
            else:
                conf = self.conf["catalog"] if kind == ALIAS else self.conf["catalog_short"]
                found.append(Candidate(start, end, label, "catalog", conf, "catalog", entity_id))
                if kind == ALIAS:
                    named_in_full.add(entity_id)
        found.extend(c for c in context if c.entity_id in named_in_full)
        return found

    def _rule_candidates(self, text: str, sentences: list[Sentence]) -> list[Candidate]:
        out = []
        for sent in sentences:
            line_start = text[text.rfind("\n", 0, sent.start) + 1 : sent.start].strip() == ""
            for r in self.rules.find(sent.text, line_start=line_start):
                out.append(Candidate(sent.start + r.start, sent.start + r.end, r.label, f"rule:{r.rule}", r.confidence, "rules"))
        return out

    def _model_candidates(self, sentences: list[Sentence], model_spans: ModelSpans) -> list[Candidate]:
        out = []
        for sent, spans in zip(sentences, model_spans):
            for span in spans:
                surface, label, start, end = span
                if not (0 <= start < end <= len(sent.text)) or sent.text[start:end] != surface:
                    log.debug("entities: model span %r does not slice its sentence; skipped", span)
                    continue
                mapped = _MODEL_LABELS.get(str(label).upper())
                if mapped is None:
                    continue
                while end - start > self.model_min and sent.text[start] in self.strip_leading:
                    start += 1
                while end - start > self.model_min and sent.text[end - 1] in self.strip_trailing:
                    end -= 1
                surface = sent.text[start:end]
                if end - start < self.model_min or not surface.strip() or surface != surface.strip():
                    continue
                # A piece of a Latin word (elerator of Accelerator) or a role word is no name.
                if not latin_bounded(sent.text, start, end) or surface.lower() in self.not_names:
                    continue
                if mapped == "LOC" and self.catalog.looks_like_gpe(surface):
                    mapped = "GPE"
                out.append(Candidate(sent.start + start, sent.start + end, mapped, "model", self.conf["model"], "model"))
        return out

    @staticmethod
    def _trim_person_tails(model: list[Candidate], others: list[Candidate], text: str) -> list[Candidate]:
        """The model often tags a name plus the verb after it (王智认为 -> 王智认): a model
        PERSON span that is a name found elsewhere in the article plus one more char is
        cut back to that name."""
        names = {text[c.start : c.end] for c in model + others if c.label == "PERSON"}
        out = []
        for c in model:
            surface = text[c.start : c.end]
            if c.label == "PERSON" and len(surface) >= 3 and surface[:-1] in names:
                c = dataclasses.replace(c, end=c.end - 1)
            out.append(c)
        return out

    # -- precedence --------------------------------------------------------------------------

    def _resolve(self, cands: list[Candidate], text: str) -> list[Candidate]:
        cands = sorted(set(cands), key=lambda c: (c.start, c.end, c.group, c.detector, c.label))
        covering: dict[int, list[Candidate]] = defaultdict(list)  # char -> candidates over it
        for c in cands:
            for pos in range(c.start, c.end):
                covering[pos].append(c)
        ranks = [self._effective_rank(c, covering, text) for c in cands]
        order = sorted(range(len(cands)), key=lambda i: (ranks[i], -cands[i].length, cands[i].start, cands[i].end, cands[i].detector, cands[i].label))
        taken = bytearray(len(text))
        winners = []
        for i in order:
            c = cands[i]
            if any(taken[c.start : c.end]):
                continue
            taken[c.start : c.end] = b"\x01" * c.length
            winners.append(c)
        return winners

    def _effective_rank(self, c: Candidate, covering: dict[int, list[Candidate]], text: str) -> int:
        rank = self.rank[c.group]
        higher = {h for pos in range(c.start, c.end) for h in covering[pos] if self.rank[h.group] < rank}
        if not higher:
            return rank
        if c.group == "rules" and c.label != "PERSON":
            if all(c.strictly_contains(h) and (h.start == c.start or h.label in PLACE_LABELS) for h in higher):
                return min(self.rank[h.group] for h in higher)
        if c.group == "model" and c.label == "ORG" and text[c.start : c.end].endswith(self.org_heads):
            if all(c.strictly_contains(h) and h.label in PLACE_LABELS for h in higher):
                return min(self.rank[h.group] for h in higher)
        return rank

    # -- article-level recall ---------------------------------------------------------------

    def _propagate(self, text: str, index: _Sentences, winners: list[Candidate]) -> list[Candidate]:
        sources: dict[str, tuple[str, float, str]] = {}
        for w in sorted(winners, key=lambda c: (c.start, c.end)):
            if w.group == "catalog" or w.detector == "rule:gazetteer" or w.label not in ("PERSON", "ORG", "PRODUCT"):
                continue
            surface = text[w.start : w.end]
            if len(surface) >= 2 and not _common_word(surface):
                sources.setdefault(surface, (w.label, w.confidence * self.conf["propagated"], "rule:propagate"))
            if w.label == "ORG":
                core = self.linker.org_core(surface)
                if core != surface and len(core) >= self.short_min and not _common_word(core):
                    sources.setdefault(core, ("ORG", self.short_conf, "rule:short_form"))
        taken = bytearray(len(text))
        for w in winners:
            taken[w.start : w.end] = b"\x01" * w.length
        out = []
        for surface in sorted(sources, key=lambda s: (-len(s), s)):
            label, conf, detector = sources[surface]
            for pos in _find_all(text, surface):
                end = pos + len(surface)
                if any(taken[pos:end]) or not latin_bounded(text, pos, end) or index.of(pos, end) is None:
                    continue
                taken[pos:end] = b"\x01" * len(surface)
                out.append(Candidate(pos, end, label, detector, conf, "rules"))
        return out


def _common_word(surface: str) -> bool:
    tokens = pos_tokens(surface)
    return len(tokens) == 1 and token_kind(*tokens[0]) in ("common", "function")


def _find_all(text: str, needle: str) -> list[int]:
    out, pos = [], text.find(needle)
    while pos >= 0:
        out.append(pos)
        pos = text.find(needle, pos + 1)
    return out


@lru_cache(maxsize=4)
def _cached(directory: str) -> Detector:
    return Detector(load_catalog(), load_rules(), load_linker(), load_config("entities"))


def load_detector() -> Detector:
    """The detector of ``configs/entities.yaml`` (cached per config directory)."""
    return _cached(str(config_dir()))
