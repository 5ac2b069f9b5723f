"""The domain catalog of named entities (``configs/entities.yaml``) and its gazetteer.

The catalog has three sources, all read through :func:`pipeline.config.load_config`:

* ``entities``: companies, products, people, agencies; each ``{id, name, label, aliases}``
  with optional ``short_forms`` (always matched, lower confidence), ``context_short_forms``
  (matched only in an article that names the entity in full) and ``en``. These names are
  also despin's protected terms.
* ``places``: countries, regions and cities with catalog ids (``gpe.china``); same format.
* ``gazetteer``: plain lists of countries, regions and cities. A gazetteer name without a
  catalog entry gets the id ``gpe:<name>``; provinces/regions also match with
  省/自治区/州/市, cities with 市.

Every surface is indexed under :func:`surface_key` (NFKC, lower-case, single spaces), and
the OpenCC ``t2s`` form of every alias is indexed too, so Traditional-script aliases find
their entity however the text was converted. Two entities claiming one surface is a
config error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

from pipeline.config import ConfigError, config_dir, load_config

LABELS = ("PERSON", "ORG", "GPE", "LOC", "PRODUCT")
PLACE_LABELS = frozenset({"GPE", "LOC"})

# How a surface refers to its entity; decides the confidence of a match.
ALIAS, SHORT, CONTEXT_SHORT, GAZETTEER = "alias", "short", "context_short", "gazetteer"

_SPACES = re.compile(r"\s+")
_LATIN = re.compile(r"[A-Za-z0-9]")


def surface_key(surface: str) -> str:
    """The form under which surfaces are compared: NFKC, lower-case, single spaces."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", surface)).strip().lower()


def has_latin(surface: str) -> bool:
    return bool(_LATIN.search(surface))


def t2s(text: str) -> str:
    from pipeline.textfold import opencc_converter

    return opencc_converter("t2s").convert(text)


@dataclass(frozen=True)
class CatalogEntity:
    id: str
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    short_forms: tuple[str, ...] = ()
    context_short_forms: tuple[str, ...] = ()
    en: str | None = None
    source: str = "entities"  # entities | places | gazetteer

    @property
    def is_place(self) -> bool:
        return self.label in PLACE_LABELS

    def declared_aliases(self) -> list[str]:
        """Aliases and short forms as written in the config (for the entities table)."""
        seen: dict[str, None] = {}
        for s in (*self.aliases, *self.short_forms, *self.context_short_forms):
            if s != self.name:
                seen.setdefault(s, None)
        return list(seen)


@dataclass(frozen=True)
class Surface:
    """One string that names a catalog entity, and how (alias, short form ...)."""

    text: str
    entity_id: str
    kind: str


@dataclass
class Catalog:
    entities: dict[str, CatalogEntity]
    surfaces: list[Surface]
    _by_key: dict[str, Surface] = field(default_factory=dict, repr=False)
    gpe_suffixes: tuple[str, ...] = ()
    false_friends: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._by_key = {}
        for s in self.surfaces:
            self._by_key.setdefault(surface_key(s.text), s)

    def __len__(self) -> int:
        return len(self.entities)

    def get(self, entity_id: str) -> CatalogEntity | None:
        return self.entities.get(entity_id)

    def lookup(self, surface: str, *, context_forms: bool = True) -> CatalogEntity | None:
        """The entity a surface names (any alias, short form or gazetteer name), if any."""
        hit = self._by_key.get(surface_key(surface))
        if hit is None or (hit.kind == CONTEXT_SHORT and not context_forms):
            return None
        return self.entities[hit.entity_id]

    def surface_kind(self, surface: str) -> str | None:
        hit = self._by_key.get(surface_key(surface))
        return hit.kind if hit else None

    def place(self, surface: str) -> CatalogEntity | None:
        """The place a surface names, also with a trailing 省/市/州... (北京市, 广东省)."""
        for candidate in self._place_forms(surface):
            entity = self.lookup(candidate)
            if entity is not None and entity.is_place:
                return entity
        return None

    def _place_forms(self, surface: str) -> Iterable[str]:
        yield surface
        for suffix in sorted(self.gpe_suffixes, key=len, reverse=True):
            if surface.endswith(suffix) and len(surface) - len(suffix) >= 2:
                yield surface[: -len(suffix)]

    def looks_like_gpe(self, surface: str) -> bool:
        """Whether a LOC-type surface is a country/region/city (catalog, gazetteer, 省/市...)."""
        entity = self.place(surface)
        if entity is not None:
            return entity.label == "GPE"
        return any(surface.endswith(s) and len(surface) > len(s) for s in self.gpe_suffixes)


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"entities.yaml: {where} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _entity(raw: Any, source: str) -> CatalogEntity:
    if not isinstance(raw, dict):
        raise ConfigError(f"entities.yaml: every entry of `{source}` must be a mapping")
    missing = [k for k in ("id", "name", "label") if not raw.get(k)]
    if missing:
        raise ConfigError(f"entities.yaml: {source} entry {raw!r} lacks {missing}")
    label = str(raw["label"])
    if label not in LABELS:
        raise ConfigError(f"entities.yaml: {raw['id']}: label {label!r} is not one of {LABELS}")
    where = f"{source}/{raw['id']}"
    return CatalogEntity(
        id=str(raw["id"]),
        name=str(raw["name"]),
        label=label,
        aliases=_str_list(raw.get("aliases"), f"{where}/aliases"),
        short_forms=_str_list(raw.get("short_forms"), f"{where}/short_forms"),
        context_short_forms=_str_list(raw.get("context_short_forms"), f"{where}/context_short_forms"),
        en=raw.get("en"),
        source=source,
    )


def build_catalog(cfg: dict[str, Any]) -> Catalog:
    """A :class:`Catalog` from a parsed ``entities`` config (see the module docstring)."""
    entities: dict[str, CatalogEntity] = {}
    for source in ("entities", "places"):
        for raw in cfg.get(source) or []:
            entity = _entity(raw, source)
            if entity.id in entities:
                raise ConfigError(f"entities.yaml: duplicate id {entity.id!r}")
            entities[entity.id] = entity

    surfaces: list[Surface] = []
    owner: dict[str, Surface] = {}

    def add(text: str, entity_id: str, kind: str) -> None:
        key = surface_key(text)
        if not key:
            return
        prior = owner.get(key)
        if prior is not None:
            if prior.entity_id == entity_id:
                return
            if kind == GAZETTEER:  # a catalog place already owns the name
                return
            raise ConfigError(
                f"entities.yaml: surface {text!r} names both {prior.entity_id!r} and {entity_id!r}"
            )
        surface = Surface(text, entity_id, kind)
        owner[key] = surface
        surfaces.append(surface)

    for entity in entities.values():
        for text in (entity.name, *entity.aliases):
            add(text, entity.id, ALIAS)
        for text in entity.short_forms:
            add(text, entity.id, SHORT)
        for text in entity.context_short_forms:
            add(text, entity.id, CONTEXT_SHORT)
    # t2s forms after all declared surfaces, so a declared surface always wins.
    for entity in entities.values():
        for kind, texts in ((ALIAS, (entity.name, *entity.aliases)), (SHORT, entity.short_forms), (CONTEXT_SHORT, entity.context_short_forms)):
            for text in texts:
                simplified = t2s(text)
                if simplified != text and surface_key(simplified) not in owner:
                    add(simplified, entity.id, kind)

    gaz = cfg.get("gazetteer") or {}
    suffixes = {
        "countries": (),
        "regions": ("省", "自治区", "州", "市"),
        "cities": ("市",),
    }
    for group, forms in suffixes.items():
        for name in _str_list(gaz.get(group), f"gazetteer/{group}"):
            known = owner.get(surface_key(name))
            if known is not None:
                entity_id = known.entity_id
            else:
                entity_id = f"gpe:{name}"
                if entity_id not in entities:
                    entities[entity_id] = CatalogEntity(entity_id, name, "GPE", source="gazetteer")
                add(name, entity_id, GAZETTEER)
            for suffix in forms:
                add(name + suffix, entity_id, GAZETTEER)

    return Catalog(
        entities=entities,
        surfaces=surfaces,
        gpe_suffixes=_str_list(gaz.get("gpe_suffixes"), "gazetteer/gpe_suffixes"),
        false_friends=_str_list(cfg.get("false_friends"), "false_friends"),
    )


@lru_cache(maxsize=4)
def _cached(directory: str) -> Catalog:
    return build_catalog(load_config("entities"))


def load_catalog() -> Catalog:
    """The catalog of ``configs/entities.yaml`` (cached per config directory)."""
    return _cached(str(config_dir()))
