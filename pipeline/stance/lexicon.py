"""The stance lexicon: ``configs/stance.yaml`` compiled for matching.

Every surface of the config gets a :class:`Role` (one word may play several: 差距 is a
skeptical cue and a metric, 突破 a cue, a direction and a resolver). All surfaces go into
one regex, longest first, so that at any position the longest entry wins: 不断 (a blocker)
hides the negator 不, 并不容易 (a cue) hides 并不.

Entity classes (domestic / foreign / context) are read from the same file; a fallback
matcher finds those entities in a bare sentence from the catalog of
``configs/entities.yaml`` when no ``mentions`` rows are at hand (evaluation, single
sentences).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pipeline.config import ConfigError, config_dir, load_config

DOMESTIC, FOREIGN, CONTEXT = "domestic", "foreign", "context"
CONCESSION, CONTRAST, CONDITION = "concession", "contrast", "condition"


@dataclass
class Role:
    """What a surface can do in a clause."""

    cue: float | None = None  # phrase cue weight (0 = blocker)
    metric: int | None = None  # +1 / -1 / 0
    direction: int | None = None  # +1 up / -1 down
    negator: float | None = None  # standalone weight when it negates nothing
    clause_negator: bool = False
    intensifier: float | None = None
    resolver: bool = False
    marker: str | None = None  # concession | contrast | condition
    industry: bool = False  # counted even in a foreign clause

    @property
    def is_negator(self) -> bool:
        return self.negator is not None or self.clause_negator


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    weight: float
    name: str | None


@dataclass
class Lexicon:
    roles: dict[str, Role]
    token_re: re.Pattern[str]
    patterns: list[Pattern]
    anchors: re.Pattern[str] | None
    rhetorical: re.Pattern[str] | None
    topic: re.Pattern[str] | None
    verdict: re.Pattern[str] | None
    undecided: re.Pattern[str] | None
    weak_max: float
    sentence_threshold: float
    windows: dict[str, int]
    factors: dict[str, float]
    article: dict[str, float]
    domestic: list[str]
    foreign: list[str]
    context: list[str]
    owners: dict[str, str]
    known_orgs: list[str] = field(default_factory=list)
    roles_lower: dict[str, Role] = field(default_factory=dict)

    # -- entities ---------------------------------------------------------------------------

    def owner(self, entity_id: str) -> str:
        """The company an entity counts for: products by id prefix, persons by ``owners``."""
        if entity_id in self.owners:
            return self.owners[entity_id]
        if entity_id.startswith("product."):
            slug = entity_id[len("product."):]
            best = None
            for org in self.known_orgs:
                org_slug = org[len("org."):]
                if slug.startswith(org_slug + "_") and (best is None or len(org) > len(best)):
                    best = org
            if best:
                return best
        return entity_id

    def entity_class(self, entity_id: str) -> tuple[str | None, str]:
        """(domestic | foreign | context | None, owner id) of a catalog entity id."""
        owner = self.owner(entity_id)
        for cls, globs in ((DOMESTIC, self.domestic), (FOREIGN, self.foreign), (CONTEXT, self.context)):
            if any(fnmatch.fnmatchcase(owner, g) for g in globs):
                return cls, owner
        return None, owner


def _float_map(section: Any, name: str) -> dict[str, float]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"stance.yaml: {name} must be a mapping")
    try:
        return {str(k): float(v) for k, v in section.items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"stance.yaml: {name}: {exc}") from exc


def _str_list(section: Any, name: str) -> list[str]:
    if section is None:
        return []
    if not isinstance(section, list):
        raise ConfigError(f"stance.yaml: {name} must be a list")
    return [str(x) for x in section]


def build_lexicon(cfg: dict[str, Any]) -> Lexicon:
    roles: dict[str, Role] = {}

    def role(word: str) -> Role:
        if not word:
            raise ConfigError("stance.yaml: empty word")
        return roles.setdefault(word, Role())

    for word, w in _float_map(cfg.get("cues"), "cues").items():
        role(word).cue = w
    for word, sign in _float_map(cfg.get("metrics"), "metrics").items():
        role(word).metric = int(sign)
    directions = cfg.get("directions") or {}
    for word in _str_list(directions.get("up"), "directions/up"):
        role(word).direction = 1
    for word in _str_list(directions.get("down"), "directions/down"):
        role(word).direction = -1
    for word, w in _float_map(cfg.get("negators"), "negators").items():
        role(word).negator = w
    for word in _str_list(cfg.get("clause_negators"), "clause_negators"):
        role(word).clause_negator = True
    for word, w in _float_map(cfg.get("intensifiers"), "intensifiers").items():
        role(word).intensifier = w
    for word in _str_list(cfg.get("resolvers"), "resolvers"):
        role(word).resolver = True
    for marker in (CONCESSION, CONTRAST, CONDITION):
        for word in _str_list(cfg.get(marker), marker):
            role(word).marker = marker
    for word in _str_list(cfg.get("industry_cues"), "industry_cues"):
        role(word).industry = True

    surfaces = sorted(roles, key=lambda s: (-len(s), s))
    token_re = re.compile("|".join(re.escape(s) for s in surfaces), re.IGNORECASE)

    patterns = []
    for i, p in enumerate(cfg.get("patterns") or []):
        if not isinstance(p, dict) or "re" not in p or "weight" not in p:
            raise ConfigError(f"stance.yaml: patterns[{i}] needs re and weight")
        try:
            patterns.append(Pattern(re.compile(str(p["re"])), float(p["weight"]), p.get("name")))
        except re.error as exc:
            raise ConfigError(f"stance.yaml: patterns[{i}]: {exc}") from exc

    def alternation(items: list[str], flags: int = 0) -> re.Pattern[str] | None:
        try:
            return re.compile("|".join(f"(?:{x})" for x in items), flags) if items else None
        except re.error as exc:
            raise ConfigError(f"stance.yaml: bad regex among {items[:3]}...: {exc}") from exc

    th = cfg.get("thresholds") or {}
    windows = {"negator": 6, "short_negator": 3, "intensifier": 4, "metric": 8}
    windows.update({k: int(v) for k, v in (th.get("window") or {}).items()})
    factors = {
        "concession": 0.4, "contrast": 1.2, "before_contrast": 0.6, "condition": 0.7, "question": 0.3, "undecided": 0.3,
        "rhetorical": 0.9, "negated_negative": 0.8, "resolved": 0.8, "metric": 0.7,
    }
    factors.update(_float_map(th.get("factors"), "thresholds/factors"))
    article = {
        "min_mass": 1.2, "lean": 0.3, "prior": 2.0, "conclusion_share": 0.1, "conclusion_weight": 1.5,
        "title_weight": 1.5, "verdict_weight": 2.5, "top": 3,
    }
    article.update(_float_map(cfg.get("article"), "article"))

    topic = cfg.get("topic") or {}
    ents = cfg.get("entities") or {}
    owners = {str(k): str(v) for k, v in (ents.get("owners") or {}).items()}
    domestic = _str_list(ents.get("domestic"), "entities/domestic")
    foreign = _str_list(ents.get("foreign"), "entities/foreign")
    context = _str_list(ents.get("context"), "entities/context")
    known_orgs = sorted({x for x in domestic + foreign + context if x.startswith("org.") and "*" not in x})
    return Lexicon(
        roles=roles,
        token_re=token_re,
        patterns=patterns,
        anchors=alternation(_str_list(cfg.get("anchors"), "anchors")),
        rhetorical=alternation(_str_list(cfg.get("rhetorical"), "rhetorical")),
        topic=alternation(_str_list(topic.get("words"), "topic/words"), re.IGNORECASE),
        weak_max=float(topic.get("weak_max", 0.5)),
        verdict=alternation(_str_list(cfg.get("verdict"), "verdict")),
        undecided=alternation([re.escape(w) for w in _str_list(cfg.get("undecided"), "undecided")]),
        sentence_threshold=float(th.get("sentence", 0.2)),
        windows=windows,
        factors=factors,
        article=article,
        domestic=domestic,
        foreign=foreign,
        context=context,
        owners=owners,
        known_orgs=known_orgs,
        roles_lower={k.lower(): v for k, v in roles.items()},
    )


@lru_cache(maxsize=4)
def _cached(directory: str) -> Lexicon:
    return build_lexicon(load_config("stance"))


def load_lexicon() -> Lexicon:
    """The lexicon of ``configs/stance.yaml`` (cached per config directory)."""
    return _cached(str(config_dir()))


# --- fallback entity matcher ------------------------------------------------------------------


@dataclass(frozen=True)
class EntityMatcher:
    regex: re.Pattern[str] | None
    ids: dict[str, str]  # lower-cased surface -> entity id

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, entity_id) of the classed entities named in ``text``."""
        if self.regex is None:
            return []
        out = []
        for m in self.regex.finditer(text):
            s, e = m.span()
            if _ascii_alnum(text[s]) and s > 0 and _ascii_alnum(text[s - 1]):
                continue
            if _ascii_alnum(text[e - 1]) and e < len(text) and _ascii_alnum(text[e]):
                continue
            out.append((s, e, self.ids[m.group(0).lower()]))
        return out


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@lru_cache(maxsize=4)
def _matcher(directory: str) -> EntityMatcher:
    from pipeline.entities.catalog import ALIAS, SHORT, load_catalog

    lex = load_lexicon()
    ids: dict[str, str] = {}
    for surface in load_catalog().surfaces:
        if surface.kind not in (ALIAS, SHORT):
            continue
        if lex.entity_class(surface.entity_id)[0] is None:
            continue
        ids.setdefault(surface.text.lower(), surface.entity_id)
    if not ids:
        return EntityMatcher(None, {})
    words = sorted(ids, key=lambda s: (-len(s), s))
    return EntityMatcher(re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE), ids)


def entity_matcher() -> EntityMatcher:
    """Catalog names of the domestic/foreign/context entities, for bare sentences."""
    return _matcher(str(config_dir()))
