"""Linking: every mention gets an ``entity_id``.

* A surface the catalog knows (name, alias, short form, gazetteer name; compared by
  :func:`~pipeline.entities.catalog.surface_key`) links to the catalog id (``org.nvidia``).
  An ORG surface whose *core* (the surface without legal/generic suffixes such as
  有限公司, 集团, 科技, 公司) is a catalog surface links there too (华为公司 -> org.huawei).
  A place with 省/市/州... links like the bare place (广东省 -> gpe:广东).
* Any other surface gets a derived id, ``<label lower-case>:<key>``, where the key is the
  ORG core or, for places, the bare place name, or else the surface itself; keys are
  NFKC, lower-case, with ``_`` for spaces: 壁仞科技股份有限公司, 壁仞科技 and 壁仞 all give
  ``org:壁仞`` (when not in the catalog); ``product:mtt_s80``; ``person:王智``. The same
  surface gives the same id on every run and machine.
* Within an article, an ORG short form links to the long form it begins: a derived ORG
  with nothing to strip, whose id no fuller surface of the article carries, and which is
  a proper prefix of another ORG of the article (a catalog surface found in the article,
  or another derived ORG's core) takes that entity's id (华大 -> 华大九天 when both occur;
  but 峰瑞 stays org:峰瑞 beside 峰瑞资本 and 峰瑞研究所). Catalog ``short_forms`` link everywhere, ``context_short_forms`` only
  where the entity is named in full (handled in detection).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Sequence

from pipeline.config import config_dir, load_config
from pipeline.entities.catalog import PLACE_LABELS, Catalog, load_catalog, surface_key


def entity_key(surface: str) -> str:
    """The id key of a surface: NFKC, lower-case, spaces as ``_``."""
    return surface_key(surface).replace(" ", "_")


@dataclass(frozen=True)
class LinkInput:
    """What linking needs of a detected span."""

    text: str
    label: str
    entity_id: str | None = None  # already known (a catalog match)


class Linker:
    def __init__(self, catalog: Catalog, cfg: dict[str, Any]) -> None:
        self.catalog = catalog
        self.org_suffixes = sorted(cfg.get("org_suffixes") or [], key=len, reverse=True)
        self.min_core = int(cfg.get("min_core_chars", 2))

    # -- one surface ------------------------------------------------------------------------

    def org_core(self, surface: str) -> str:
        """``surface`` without trailing legal/generic suffixes (壁仞科技有限公司 -> 壁仞)."""
        core = surface.strip()
        changed = True
        while changed:
            changed = False
            for suffix in self.org_suffixes:
                if core.endswith(suffix) and len(core) - len(suffix) >= self.min_core:
                    core = core[: -len(suffix)]
                    changed = True
                    break
        return core

    def place_core(self, surface: str) -> str:
        for suffix in sorted(self.catalog.gpe_suffixes, key=len, reverse=True):
            if surface.endswith(suffix) and len(surface) - len(suffix) >= 2 and suffix != "国":
                return surface[: -len(suffix)]
        return surface

    def derived_id(self, label: str, surface: str) -> str:
        if label == "ORG":
            key = self.org_core(surface)
        elif label in PLACE_LABELS:
            key = self.place_core(surface)
        else:
            key = surface
        return f"{label.lower()}:{entity_key(key)}"

    def link(self, label: str, surface: str) -> tuple[str, str, bool]:
        """(entity_id, label, is_catalog) of one surface, without article context."""
        entity = self.catalog.lookup(surface, context_forms=False)
        if entity is None and label == "ORG":
            entity = self.catalog.lookup(self.org_core(surface), context_forms=False)
            if entity is not None and entity.label != "ORG":
                entity = None
        if entity is None and label in PLACE_LABELS:
            entity = self.catalog.place(surface)
        if entity is not None and (entity.label == "PERSON") == (label == "PERSON"):
            return entity.id, entity.label, entity.source != "gazetteer"
        return self.derived_id(label, surface), label, False

    # -- an article ---------------------------------------------------------------------------

    def link_article(self, spans: Sequence[LinkInput]) -> list[tuple[str, str]]:
        """(entity_id, label) of every span of one article, short forms resolved."""
        linked: list[tuple[str, str, bool]] = []
        for span in spans:
            if span.entity_id is not None:
                entity = self.catalog.get(span.entity_id)
                label = entity.label if entity is not None else span.label
                linked.append((span.entity_id, label, entity is not None and entity.source != "gazetteer"))
            else:
                linked.append(self.link(span.label, span.text))

        # Long forms of the article: ORG surfaces (catalog) and cores (derived) -> id.
        long_forms: Counter[tuple[str, str, bool]] = Counter()
        for span, (entity_id, label, is_catalog) in zip(spans, linked):
            if label != "ORG":
                continue
            if is_catalog:
                entity = self.catalog.get(entity_id)
                names = [entity.name, *entity.aliases] if entity is not None else [span.text]
                for name in {span.text, *names}:
                    long_forms[(surface_key(name), entity_id, True)] += 1
            else:
                long_forms[(surface_key(self.org_core(span.text)), entity_id, False)] += 1

        # A bare short form (no suffix to strip) whose own id no fuller surface of the
        # article carries takes the id of the long form it begins.
        fuller: set[str] = {
            entity_id
            for span, (entity_id, label, _) in zip(spans, linked)
            if label == "ORG" and self.org_core(span.text) != span.text
        }
        out: list[tuple[str, str]] = []
        for span, (entity_id, label, is_catalog) in zip(spans, linked):
            if label == "ORG" and not is_catalog and entity_id not in fuller and self.org_core(span.text) == span.text:
                target = self._long_form(surface_key(span.text), entity_id, long_forms)
                if target is not None:
                    entity_id = target
            out.append((entity_id, label))
        return out

    def _long_form(self, core: str, own_id: str, long_forms: Counter[tuple[str, str, bool]]) -> str | None:
        """The id of the article's long form that ``core`` begins: catalog entities first,
        then the most frequent, the shortest, the smallest id."""
        if len(core) < self.min_core:
            return None
        best: tuple[int, int, int, str] | None = None
        for (form, entity_id, is_catalog), count in long_forms.items():
            if entity_id == own_id or len(form) <= len(core) or not form.startswith(core):
                continue
            rank = (0 if is_catalog else 1, -count, len(form), entity_id)
            if best is None or rank < best:
                best = rank
        return best[3] if best is not None else None


@lru_cache(maxsize=4)
def _cached(directory: str) -> Linker:
    return Linker(load_catalog(), load_config("entities").get("linking") or {})


def load_linker() -> Linker:
    """The linker of ``configs/entities.yaml`` (cached per config directory)."""
    return _cached(str(config_dir()))


def link_surfaces(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Convenience: (label, surface) pairs of one article -> (entity_id, label)."""
    return load_linker().link_article([LinkInput(text, label) for label, text in items])
