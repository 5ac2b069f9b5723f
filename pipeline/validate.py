"""Contract checks over the written datasets: schemas, keys, spans, foreign keys, labels."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pipeline import schemas

ALLOWED = {
    ("articles", "script"): {"hans", "hant"},
    ("articles", "region"): {"cn", "tw", "hk", "unknown"},
    ("mentions", "label"): {"PERSON", "ORG", "GPE", "LOC", "PRODUCT"},
    ("entities", "label"): {"PERSON", "ORG", "GPE", "LOC", "PRODUCT"},
    ("claims", "kind"): {"reported", "forecast"},
    ("claims", "aspect"): {"level", "change", "base"},
    ("stance", "scope"): {"sentence", "article"},
    ("stance", "label"): {"bullish", "skeptical", "neutral", "mixed"},
    ("stance", "target_kind"): {"industry", "domestic", "foreign"},
}
UNIQUE = {
    "articles": ("article_id",),
    "sentences": ("article_id", "sent_index"),
    "spin_edits": ("article_id", "start"),
    "mentions": ("article_id", "start", "end"),
    "entities": ("entity_id",),
    "quantities": ("quantity_id",),
    "claims": ("claim_id",),
    "stance": ("article_id", "scope", "sent_index"),
    "sources": ("source_path",),
    "runs": ("run_id",),
}


def validate_store(out: str | Path | None = None) -> list[str]:
    """Every breach of the contract as a readable line; empty when all is well."""
    from pipeline.runner import default_out_dir
    from pipeline.store import Store

    root = Path(out) if out else default_out_dir()
    if not root.exists():
        return [f"{root}: no datasets here (run `zhnews run` first)"]
    store = Store(root)
    problems: list[str] = []
    tables = {}
    for name, schema in schemas.SCHEMAS.items():
        if not (root / name).is_dir():
            problems.append(f"{name}: table directory missing")
            continue
        table = store.read(name)
        for field in schema:
            if field.name not in table.column_names:
                problems.append(f"{name}: column {field.name} missing")
        tables[name] = table.to_pylist()
    if problems:
        return problems
    for name, cols in UNIQUE.items():
        counts = Counter(tuple(r[c] for c in cols) for r in tables[name])
        dups = [k for k, n in counts.items() if n > 1]
        if dups:
            problems.append(f"{name}: {len(dups)} duplicate key(s) on {cols}, e.g. {dups[0]}")
    for (name, col), allowed in ALLOWED.items():
        bad = {r[col] for r in tables[name]} - allowed
        if bad:
            problems.append(f"{name}.{col}: values outside {sorted(allowed)}: {sorted(map(str, bad))}")
    articles = {r["article_id"]: r for r in tables["articles"]}
    for name, text_col in schemas.SPAN_TABLES.items():
        for r in tables[name]:
            art = articles.get(r["article_id"])
            if art is None:
                problems.append(f"{name}: article_id {r['article_id']} not in articles")
                continue
            text = art[text_col]
            key = next(k for k in ("text", "surface", "spun") if k in r)
            if not (0 <= r["start"] <= r["end"] <= len(text)) or text[r["start"] : r["end"]] != r[key]:
                problems.append(f"{name}: span {r['start']}:{r['end']} of {r['article_id']} does not slice {text_col} to {r[key]!r}")
    known_entities = {r["entity_id"] for r in tables["entities"]}
    dangling = {r["entity_id"] for r in tables["mentions"]} - known_entities
    if dangling:
        problems.append(f"mentions: {len(dangling)} entity_id(s) not in entities, e.g. {sorted(dangling)[0]}")
    for aid, art in articles.items():
        offsets = art["norm_offsets"] or []
        if len(offsets) != len(art["text_normalized"]) + 1 or (offsets and offsets[-1] != len(art["text_original"])):
            problems.append(f"articles: offset map of {aid} does not cover text_normalized")
    return problems
