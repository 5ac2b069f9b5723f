"""``zhnews validate``: the written datasets checked against the data contract.

Per table, a pandera schema generated from ``pipeline.schemas`` (every column present with
its exact Arrow type, non-null keys, unique keys, allowed labels, ranges, ``start <= end``);
across tables, DuckDB queries (spans slice their text, foreign keys, offset maps), which
run out of core, so a corpus larger than memory validates too. Tables are read the way
consumers read them: the Parquet files of each table directory, with no schema imposed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from pipeline import schemas

LABELS = ["PERSON", "ORG", "GPE", "LOC", "PRODUCT"]


@dataclass(frozen=True)
class TableRules:
    required: tuple[str, ...] = ()  # never null
    unique: tuple[str, ...] = ()  # together identify a row
    allowed: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)


RULES: dict[str, TableRules] = {
    "articles": TableRules(
        ("article_id", "source_path", "script", "region", "text_original", "text_normalized", "text_final", "run_id"),
        ("article_id",),
        {"script": ["hans", "hant"], "region": ["cn", "tw", "hk", "unknown"]},
        {"spin_score": (0.0, 1.0)},
    ),
    "sentences": TableRules(("article_id", "sent_index", "start", "end", "text"), ("article_id", "sent_index")),
    "spin_edits": TableRules(("article_id", "start", "end", "spun", "restored"), ("article_id", "start"),
                             ranges={"confidence": (0.0, 1.0)}),
    "mentions": TableRules(("article_id", "sent_index", "start", "end", "text", "label", "entity_id"),
                           ("article_id", "start", "end"), {"label": LABELS}, {"confidence": (0.0, 1.0)}),
    "entities": TableRules(("entity_id", "name", "label"), ("entity_id",), {"label": LABELS}),
    "quantities": TableRules(("article_id", "quantity_id", "start", "end", "surface"), ("quantity_id",)),
    "claims": TableRules(("claim_id", "article_id", "start", "end", "text", "kind"), ("claim_id",),
                         {"kind": ["reported", "forecast"], "aspect": ["level", "change", "base"]}),
    "stance": TableRules(("article_id", "scope", "target", "label", "score"), ("article_id", "scope", "sent_index"),
                         {"scope": ["sentence", "article"], "label": ["bullish", "skeptical", "neutral", "mixed"],
                          "target_kind": ["industry", "domestic", "foreign"]},
                         {"score": (-1.0, 1.0)}),
    "runs": TableRules(("run_id", "started_at", "status"), ("run_id",)),
    "rejects": TableRules(("source_path", "reason")),
    "sources": TableRules(("source_path", "sha256", "status"), ("source_path",), {"status": ["ok", "rejected"]}),
    "fingerprints": TableRules(("article_id", "minhash"), ("article_id",)),
}

# Large text columns: their type is checked on the Parquet schema, their content by the
# span queries; they are not loaded into pandas.
TEXT_COLUMNS = {"text_original", "text_normalized", "text_final", "norm_offsets", "removed"}
# Offsets: every table's start/end/sent_index are code-point indices, never negative.
INDEX_COLUMNS = ("start", "end", "sent_index")
MAX_EXAMPLES = 3


def table_schema(name: str):
    """The pandera schema of one table, generated from its Arrow schema and ``RULES``."""
    import pandas as pd
    import pandera.pandas as pdv

    rules = RULES.get(name, TableRules())
    columns = {}
    for f in schemas.SCHEMAS[name]:
        if f.name in TEXT_COLUMNS:
            continue
        checks = []
        if f.name in rules.allowed:
            checks.append(pdv.Check.isin(rules.allowed[f.name]))
        if f.name in rules.ranges:
            lo, hi = rules.ranges[f.name]
            checks.append(pdv.Check.in_range(lo, hi))
        if f.name in INDEX_COLUMNS:
            checks.append(pdv.Check.ge(0))
        columns[f.name] = pdv.Column(pd.ArrowDtype(f.type), checks=checks, nullable=f.name not in rules.required)
    frame_checks = []
    if {"start", "end"} <= set(columns):
        frame_checks.append(pdv.Check(lambda df: df["start"] <= df["end"], name="start <= end"))
    return pdv.DataFrameSchema(columns, checks=frame_checks, unique=list(rules.unique) or None, name=name)


def _dataset(root: Path, name: str):
    import pyarrow.dataset as ds

    return ds.dataset(root / name, format="parquet")


def _type_problems(name: str, actual: pa.Schema) -> list[str]:
    expected = schemas.SCHEMAS[name]
    out = []
    for f in expected:
        idx = actual.get_field_index(f.name)
        if idx < 0:
            out.append(f"{name}: column {f.name} missing")
        elif f.name in TEXT_COLUMNS and not actual.field(idx).type.equals(f.type):
            out.append(f"{name}.{f.name}: type {actual.field(idx).type}, contract says {f.type}")
    return out


def _examples(values) -> str:
    shown = [repr(v) for v in list(values)[:MAX_EXAMPLES]]
    return ", ".join(shown)


def _pandera_problems(name: str, frame) -> list[str]:
    import pandera.pandas as pdv

    try:
        table_schema(name).validate(frame, lazy=True)
    except pdv.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        out = []
        columns = cases[cases.schema_context == "Column"]
        for (column, check), group in columns.groupby(["column", "check"], sort=True):
            out.append(f"{name}.{column}: {check} fails for {len(group)} row(s), e.g. {_examples(group['failure_case'])}")
        # Table-level checks report one case per column of each failing row.
        frame_cases = cases[cases.schema_context != "Column"]
        for check, group in frame_cases.groupby("check", sort=True):
            rows = group["index"].dropna().unique()
            key = list(RULES[name].unique or frame.columns[:1])
            keys = frame.iloc[[int(i) for i in rows[:MAX_EXAMPLES]]][key]
            label = f"unique key ({', '.join(key)})" if "uniqueness" in str(check) else check
            out.append(f"{name}: {label} fails for {len(rows)} row(s), e.g. {_examples(map(tuple, keys.itertuples(index=False)))}")
        return out
    return []


# Cross-table checks: (description, SQL counting the breaches, SQL of a few examples).
# Each names the tables it needs; views of the same names are set up over the Parquet files.
def _span_check(table: str, text_column: str) -> tuple[str, str]:
    value = next(c for c in ("text", "surface", "spun") if c in schemas.SCHEMAS[table].names)
    return (
        f"{table}: span does not slice articles.{text_column}",
        f"""SELECT t.article_id, t.start, t."end", t.{value} FROM {table} t JOIN articles a USING (article_id)
            WHERE t."end" > length(a.{text_column})
               OR substring(a.{text_column}, t.start + 1, t."end" - t.start) IS DISTINCT FROM t.{value}""",
    )


def _foreign_key(table: str, column: str, parent: str, parent_column: str) -> tuple[str, str]:
    return (
        f"{table}.{column}: value not in {parent}.{parent_column}",
        f"""SELECT DISTINCT t.{column} FROM {table} t
            WHERE t.{column} IS NOT NULL AND t.{column} NOT IN (SELECT {parent_column} FROM {parent})""",
    )


def cross_checks() -> list[tuple[str, str]]:
    checks = [_span_check(t, col) for t, col in schemas.SPAN_TABLES.items()]
    for table in ("sentences", "spin_edits", "mentions", "quantities", "claims", "stance", "fingerprints"):
        checks.append(_foreign_key(table, "article_id", "articles", "article_id"))
    checks += [
        _foreign_key("mentions", "entity_id", "entities", "entity_id"),
        _foreign_key("claims", "subject_entity_id", "entities", "entity_id"),
        (
            "claims.quantity_ids: quantity not in quantities of the same article",
            """SELECT c.claim_id, q_id FROM (SELECT claim_id, article_id, unnest(quantity_ids) AS q_id FROM claims) c
               WHERE NOT EXISTS (SELECT 1 FROM quantities q WHERE q.quantity_id = c.q_id AND q.article_id = c.article_id)""",
        ),
        (
            "articles.norm_offsets: offset map does not cover text_normalized",
            """SELECT article_id FROM articles
               WHERE len(norm_offsets) != length(text_normalized) + 1
                  OR norm_offsets[len(norm_offsets)] != length(text_original)""",
        ),
        (
            "sentences: mention outside its sentence",
            """SELECT m.article_id, m.start, m.sent_index FROM mentions m JOIN sentences s USING (article_id, sent_index)
               WHERE m.start < s.start OR m."end" > s."end" """,
        ),
    ]
    return checks


def _cross_problems(root: Path, present: set[str]) -> list[str]:
    import duckdb

    con = duckdb.connect()
    for name in present:
        files = (root / name).as_posix() + "/*.parquet"
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{files}', union_by_name = true)")
    out = []
    for description, query in cross_checks():
        needed = {t for t in schemas.SCHEMAS if re.search(rf"\b{t}\b", query)}
        if not needed <= present:
            continue
        n = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
        if n:
            rows = con.execute(f"{query} LIMIT {MAX_EXAMPLES}").fetchall()
            out.append(f"{description}: {n} row(s), e.g. {_examples(rows)}")
    return out


def validate_store(out: str | Path | None = None) -> list[str]:
    """Every breach of the contract as a readable line; empty when all is well."""
    from pipeline.runner import default_out_dir

    root = Path(out) if out else default_out_dir()
    if not root.exists():
        return [f"{root}: no datasets here (run `zhnews run` first)"]
    problems: list[str] = []
    present: set[str] = set()
    for name in schemas.SCHEMAS:
        if not (root / name).is_dir():
            problems.append(f"{name}: table directory missing")
            continue
        try:
            dataset = _dataset(root, name)
        except (pa.ArrowInvalid, OSError) as exc:
            problems.append(f"{name}: unreadable: {exc}")
            continue
        types = _type_problems(name, dataset.schema)
        problems += types
        if any("missing" in t for t in types):
            continue
        import pandas as pd

        columns = [f.name for f in schemas.SCHEMAS[name] if f.name not in TEXT_COLUMNS]
        frame = dataset.to_table(columns=columns).to_pandas(types_mapper=pd.ArrowDtype)
        problems += _pandera_problems(name, frame)
        present.add(name)
    problems += _cross_problems(root, present)
    return problems
