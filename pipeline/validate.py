"""``zhnews validate``: the written datasets checked against the data contract.

Per table, a pandera schema generated from ``pipeline.schemas`` (every column with its
exact Arrow dtype) plus the rules in ``RULES`` (non-null columns, unique keys, allowed
values, ranges, row rules such as ``start <= end``). Across tables, plain functions on
joined columns (spans slice their article's text, references resolve, offset maps cover
their text), vectorised except the span comparison, which goes article by article.

Tables are read from the part files the store counts as committed, with the types those
files have (the contract's schema is not imposed, so a mistyped part is seen, not cast
away), and only the columns a check needs; article texts are streamed in batches.
Every breach becomes one line: table.column, check, failing rows, up to three examples.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pdv
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.entities.catalog import LABELS as ENTITY_LABELS
from pipeline.runner import default_out_dir
from pipeline.schemas import KEYS, SCHEMAS, SPAN_TABLES
from pipeline.stance.lexicon import DOMESTIC, FOREIGN
from pipeline.stance.score import BULLISH, INDUSTRY, MIXED, NEUTRAL, SKEPTICAL
from pipeline.stance.stage import ARTICLE, SENTENCE
from pipeline.store import Store, StoreError

MAX_EXAMPLES = 3
EXAMPLE_CHARS = 40  # longer example values are cut
# Articles held in memory at once wherever their texts are read.
TEXT_BATCH_ROWS = 512


@dataclass(frozen=True)
class Problem:
    """One breach of the contract, printed as one line."""

    table: str
    column: str | None  # None: the table, or a rule over whole rows
    check: str
    rows: int | None = None  # failing rows; None for the layout (directory, column, dtype)
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        line = f"{self.table}.{self.column}" if self.column else self.table
        line += f": {self.check}"
        if self.rows is not None:
            line += f" fails for {self.rows} row(s)"
        if self.examples:
            line += ", e.g. " + "; ".join(self.examples)
        return line


# -- the per-table rules (data) ---------------------------------------------------------


@dataclass(frozen=True)
class RowRule:
    """A rule over several columns of each row."""

    name: str
    columns: tuple[str, ...]
    passes: Callable[[pd.DataFrame], pd.Series]  # True where the row conforms; no nulls


def ordered(low: str, high: str) -> RowRule:
    """``low <= high`` wherever both are set (nulls are the non-null rules' business)."""
    return RowRule(f"{low} <= {high}", (low, high), lambda df: ~(df[low] > df[high]).fillna(False))


SPAN_ORDER = ordered("start", "end")
# Article-scope stance rows have no sentence; sentence-scope rows must name one.
STANCE_SCOPE = RowRule(
    "sent_index is null exactly when scope is 'article'",
    ("scope", "sent_index"),
    lambda df: (df["scope"] == "article").fillna(False) == df["sent_index"].isna(),
)


@dataclass(frozen=True)
class TableRules:
    not_null: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()  # together identify a row
    allowed: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    rows: tuple[RowRule, ...] = ()


# Offsets, indices and counts, in whichever table they appear.
NON_NEGATIVE = {
    "start", "end", "sent_index", "part_index", "n_chars", "mention_count", "size", "chars",
    "n_new", "n_unchanged", "n_failed", "n_removed", "n_files",
}

RULES: dict[str, TableRules] = {
    "articles": TableRules(
        not_null=("article_id", "source_path", "part_index", "script", "region", "text_original",
                  "text_normalized", "text_final", "norm_offsets", "spin_score", "is_spun", "run_id"),
        unique=("article_id",),
        allowed={"script": ["hans", "hant"], "region": ["cn", "tw", "hk", "unknown"]},
        ranges={"spin_score": (0.0, 1.0)},
    ),
    "sentences": TableRules(
        not_null=("article_id", "sent_index", "start", "end", "text"),
        unique=("article_id", "sent_index"),
        rows=(SPAN_ORDER,),
    ),
    "spin_edits": TableRules(
        not_null=("article_id", "start", "end", "spun", "restored", "confidence"),
        unique=("article_id", "start"),
        ranges={"confidence": (0.0, 1.0)},
        rows=(SPAN_ORDER,),
    ),
    "mentions": TableRules(
        not_null=("article_id", "sent_index", "start", "end", "text", "label", "entity_id", "confidence"),
        unique=("article_id", "start", "end"),
        allowed={"label": list(ENTITY_LABELS)},
        ranges={"confidence": (0.0, 1.0)},
        rows=(SPAN_ORDER,),
    ),
    "entities": TableRules(
        not_null=("entity_id", "name", "label", "mention_count"),
        unique=("entity_id",),
        allowed={"label": list(ENTITY_LABELS)},
    ),
    "quantities": TableRules(
        not_null=("article_id", "quantity_id", "sent_index", "start", "end", "surface", "unit_kind"),
        unique=("quantity_id",),
        rows=(SPAN_ORDER, ordered("value_low", "value_high")),
    ),
    "claims": TableRules(
        not_null=("claim_id", "article_id", "sent_index", "start", "end", "text", "aspect", "quantity_ids",
                  "kind", "hedged"),
        unique=("claim_id",),
        allowed={"kind": ["reported", "forecast"], "aspect": ["level", "change", "base"]},
        rows=(SPAN_ORDER,),
    ),
    "stance": TableRules(
        not_null=("article_id", "scope", "target", "target_kind", "label", "score"),
        unique=("article_id", "scope", "sent_index"),
        allowed={"scope": [SENTENCE, ARTICLE], "label": [BULLISH, SKEPTICAL, NEUTRAL, MIXED],
                 "target_kind": [INDUSTRY, DOMESTIC, FOREIGN]},
        ranges={"score": (-1.0, 1.0)},
        rows=(STANCE_SCOPE,),
    ),
    "runs": TableRules(
        not_null=("run_id", "started_at", "finished_at", "status"),
        unique=("run_id",),
        rows=(ordered("started_at", "finished_at"),),
    ),
    "rejects": TableRules(not_null=("source_path", "reason", "run_id")),
    "sources": TableRules(
        not_null=("source_path", "sha256", "size", "article_ids", "status", "run_id"),
        unique=("source_path",),
        allowed={"status": ["ok", "rejected"]},
    ),
    "fingerprints": TableRules(not_null=("article_id", "minhash"), unique=("article_id",)),
}

# Whole texts and per-character maps: validated in row batches, never loaded all at once.
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "articles": ("text_original", "text_normalized", "text_final", "norm_offsets", "removed"),
}


def row_key(table: str) -> tuple[str, ...]:
    """The columns that name a row in examples."""
    return RULES[table].unique or (KEYS[table],)


def _column_checks(column: str, rules: TableRules) -> list[pdv.Check]:
    checks = []
    if column in rules.allowed:
        checks.append(pdv.Check.isin(rules.allowed[column]))
    if column in rules.ranges:
        checks.append(pdv.Check.in_range(*rules.ranges[column]))
    if column in NON_NEGATIVE:
        checks.append(pdv.Check.ge(0))
    return checks


def _row_check(rule: RowRule) -> pdv.Check:
    # ignore_na=False: pandera would otherwise skip every row with a null in any column.
    return pdv.Check(lambda df: rule.passes(df).astype(bool), name=rule.name, ignore_na=False)


def table_schema(name: str, sound: Collection[str] | None = None) -> pdv.DataFrameSchema:
    """The pandera schema of one table: each contract column with its Arrow dtype, plus ``RULES``.

    Value rules attach only to ``sound`` columns (present with the contract's type; default
    all), so a missing or mistyped column is reported once, by pandera's presence or dtype
    check, not again by every rule that reads it.
    """
    rules = RULES[name]
    sound = set(SCHEMAS[name].names if sound is None else sound)
    columns = {
        f.name: pdv.Column(
            pd.ArrowDtype(f.type),
            checks=_column_checks(f.name, rules) if f.name in sound else [],
            nullable=f.name not in rules.not_null,
        )
        for f in SCHEMAS[name]
    }
    return pdv.DataFrameSchema(
        columns,
        checks=[_row_check(rule) for rule in rules.rows if set(rule.columns) <= sound],
        unique=list(rules.unique) if rules.unique and set(rules.unique) <= sound else None,
        name=name,
    )


# -- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredTable:
    """One table as its committed part files hold it."""

    name: str
    parts: tuple[Path, ...]
    schema: pa.Schema  # the parts' own schemas unified: the types on disk

    @property
    def sound(self) -> frozenset[str]:
        """Contract columns present with the contract's type."""
        return frozenset(
            f.name for f in SCHEMAS[self.name]
            if f.name in self.schema.names and self.schema.field(f.name).type.equals(f.type)
        )

    def read(self, columns: Iterable[str]) -> pa.Table:
        return self._dataset().to_table(columns=self._present(columns))

    def batches(self, columns: Iterable[str]) -> Iterator[pa.RecordBatch]:
        for batch in self._dataset().to_batches(columns=self._present(columns), batch_size=TEXT_BATCH_ROWS):
            if batch.num_rows:
                yield batch

    def _present(self, columns: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(c for c in columns if c in self.schema.names))

    def _dataset(self) -> ds.Dataset:
        return ds.dataset([str(p) for p in self.parts], schema=self.schema, format="parquet")


def _frame(data: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    return data.to_pandas(types_mapper=pd.ArrowDtype)


def open_table(store: Store, name: str) -> StoredTable | Problem:
    """The table's committed parts and their schema (footers only), or why there are none."""
    if not (store.root / name).is_dir():
        return Problem(name, None, "table directory missing")
    parts = store.committed_parts(name)
    if not parts:
        return Problem(name, None, "no part files")
    try:
        schema = pa.unify_schemas([pq.read_schema(p) for p in parts], promote_options="permissive")
    except (pa.ArrowException, OSError) as exc:
        return Problem(name, None, f"part files unreadable or of conflicting types: {exc}")
    return StoredTable(name, tuple(parts), schema)


# -- reporting --------------------------------------------------------------------------


def _show(value: object) -> str:
    if value is None or value is pd.NA:
        return "null"
    text = repr(value)
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _describe_row(frame: pd.DataFrame, label: object, key: Iterable[str]) -> str:
    return ", ".join(f"{c}={_show(frame.at[label, c])}" for c in key if c in frame.columns)


def _examples(
    frame: pd.DataFrame, labels: Iterable[object], key: Iterable[str], values: Iterable[object] | None = None
) -> tuple[str, ...]:
    """Up to MAX_EXAMPLES rows of ``frame`` by index label, as ``value at key`` or just the key."""
    key = tuple(key)
    labels = list(islice(labels, MAX_EXAMPLES))
    if values is None:
        return tuple(dict.fromkeys(_describe_row(frame, label, key) for label in labels))
    return tuple(f"{_show(v)} at {_describe_row(frame, label, key)}" for v, label in zip(values, labels))


def _problems_from_cases(name: str, cases: pd.DataFrame, frame: pd.DataFrame) -> list[Problem]:
    """pandera's failure cases as one Problem per column and check, or per table-wide check."""
    key = row_key(name)
    problems = []
    of_column = cases["schema_context"] == "Column"
    for (column, check), group in cases[of_column].groupby(["column", "check"], sort=False):
        if check.startswith("dtype("):
            found = str(group["failure_case"].iloc[0]).removesuffix("[pyarrow]")
            expected = SCHEMAS[name].field(column).type
            problems.append(Problem(name, column, f"dtype is {found}, contract says {expected}"))
        else:
            labels = group["index"].to_numpy()
            examples = _examples(frame, labels, key, group["failure_case"])
            check_name = "not null" if check == "not_nullable" else check
            problems.append(Problem(name, column, check_name, len(labels), examples))
    # Table-wide checks list one case per column of each failing row.
    for check, group in cases[~of_column].groupby("check", sort=False):
        labels = group["index"].dropna().unique()
        if check == "column_in_dataframe":
            problems += [Problem(name, str(missing), "column missing") for missing in group["failure_case"]]
        elif check.endswith("uniqueness"):
            unique = RULES[name].unique
            examples = _examples(frame, labels, unique)
            problems.append(Problem(name, None, f"unique ({', '.join(unique)})", len(labels), examples))
        else:
            problems.append(Problem(name, None, check, len(labels), _examples(frame, labels, key)))
    return problems


def _pandera_problems(name: str, schema: pdv.DataFrameSchema, frame: pd.DataFrame) -> list[Problem]:
    try:
        schema.validate(frame, lazy=True)
    except pdv.errors.SchemaErrors as exc:
        return _problems_from_cases(name, exc.failure_cases, frame)
    return []


def _merge(problems: Iterable[Problem]) -> list[Problem]:
    """One Problem per table, column and check (batches of a table report separately)."""
    merged: dict[tuple[str, str | None, str], Problem] = {}
    for p in problems:
        what = (p.table, p.column, p.check)
        seen = merged.get(what)
        if seen is None:
            merged[what] = p
        elif seen.rows is not None and p.rows is not None:  # layout problems repeat; keep one
            merged[what] = Problem(*what, seen.rows + p.rows, (seen.examples + p.examples)[:MAX_EXAMPLES])
    return list(merged.values())


# -- per-table checks -------------------------------------------------------------------


def check_table(table: StoredTable) -> list[Problem]:
    """pandera over the table: its small columns at once, its text columns in batches."""
    name = table.name
    schema = table_schema(name, table.sound)
    texts = TEXT_COLUMNS.get(name, ())
    small = [c for c in SCHEMAS[name].names if c not in texts]
    problems = _pandera_problems(name, schema.remove_columns(list(texts)), _frame(table.read(small)))
    if texts:
        text_schema = pdv.DataFrameSchema({c: schema.columns[c] for c in texts}, name=name)
        for batch in table.batches([*row_key(name), *texts]):
            problems += _pandera_problems(name, text_schema, _frame(batch))
    return _merge(problems)


# -- cross-table checks -----------------------------------------------------------------

Tables = dict[str, StoredTable]


@dataclass(frozen=True)
class CrossCheck:
    needs: dict[str, tuple[str, ...]]  # table -> columns that must be sound for the check to run
    run: Callable[[Tables], list[Problem]]


def span_value_column(table: str) -> str:
    return next(c for c in ("text", "surface", "spun") if c in SCHEMAS[table].names)


def span_columns(table: str) -> tuple[str, ...]:
    return ("start", "end") if "start" in SCHEMAS[table].names else ()


def _slices(text: str | None, start: int | None, end: int | None, value: str | None) -> bool:
    if text is None or start is None or end is None:
        return False
    return 0 <= start <= end <= len(text) and text[start:end] == value


def span_problems(tables: Tables, table: str, text_column: str) -> list[Problem]:
    """Every span equals ``text[start:end]`` of its article (checked article by article)."""
    value = span_value_column(table)
    data = tables[table].read(["article_id", "start", "end", value, *row_key(table)])
    spans = _frame(data)
    rows_of = spans.groupby("article_id", sort=False).indices  # article -> row positions
    starts, ends, values = (data.column(c).to_pylist() for c in ("start", "end", value))
    bad: set[int] = set()
    for batch in tables["articles"].batches(["article_id", text_column]):
        for article, text in zip(batch["article_id"].to_pylist(), batch[text_column].to_pylist()):
            rows = rows_of.get(article, ())
            bad.update(int(i) for i in rows if not _slices(text, starts[i], ends[i], values[i]))
    if not bad:
        return []
    labels = sorted(bad)
    examples = _examples(spans, labels, row_key(table), (values[i] for i in labels))
    return [Problem(table, value, f"slices articles.{text_column}", len(labels), examples)]


def reference_problems(tables: Tables, table: str, column: str, parent: str, parent_column: str) -> list[Problem]:
    """Every non-null ``table.column`` exists in ``parent.parent_column``."""
    rows = _frame(tables[table].read([column, *row_key(table)]))
    known = tables[parent].read([parent_column]).column(parent_column)
    dangling = rows[column].notna() & ~rows[column].isin(known)
    labels = rows.index[dangling.to_numpy(dtype=bool, na_value=False)]
    if labels.empty:
        return []
    examples = _examples(rows, labels, row_key(table), rows.loc[labels[:MAX_EXAMPLES], column])
    return [Problem(table, column, f"in {parent}.{parent_column}", len(labels), examples)]


def claim_quantity_problems(tables: Tables) -> list[Problem]:
    """Every id in ``claims.quantity_ids`` is a quantity of the claim's own article."""
    claims = tables["claims"].read(["claim_id", "article_id", "quantity_ids"])
    ids = claims.column("quantity_ids").combine_chunks()
    claim_row = pc.list_parent_indices(ids)
    cited = pa.table({
        "row": claim_row,
        "article_id": claims.column("article_id").take(claim_row),
        "quantity_id": pc.list_flatten(ids),
    })
    known = tables["quantities"].read(["quantity_id", "article_id"])
    missing = cited.join(known, keys=["quantity_id", "article_id"], join_type="left anti").sort_by("row")
    if not missing.num_rows:
        return []
    failing = len(pc.unique(missing.column("row")))
    examples = _examples(_frame(claims), missing.column("row").to_pylist(), ("claim_id",),
                         missing.column("quantity_id").to_pylist())
    return [Problem("claims", "quantity_ids", "in quantities of the same article", failing, examples)]


def offset_map_problems(tables: Tables) -> list[Problem]:
    """``norm_offsets`` has len(text_normalized) + 1 entries and ends at len(text_original)."""
    problems = []
    for batch in tables["articles"].batches(["article_id", "text_original", "text_normalized", "norm_offsets"]):
        offsets = batch.column("norm_offsets")
        counts = pc.fill_null(pc.list_value_length(offsets), 0).to_numpy()
        flat = pc.fill_null(pc.list_flatten(offsets), -1).to_numpy()
        last = np.full(len(counts), -1, dtype=np.int64)
        last[counts > 0] = flat[np.cumsum(counts)[counts > 0] - 1]
        normalized = pc.fill_null(pc.utf8_length(batch.column("text_normalized")), -2).to_numpy()
        original = pc.fill_null(pc.utf8_length(batch.column("text_original")), -2).to_numpy()
        # A null map counts 0 entries and a null text -2 characters, so both fail.
        bad = np.flatnonzero((counts != normalized + 1) | (last != original))
        if len(bad):
            examples = _examples(_frame(batch.select(["article_id"])), bad, ("article_id",))
            check = "has len(text_normalized) + 1 entries ending at len(text_original)"
            problems.append(Problem("articles", "norm_offsets", check, len(bad), examples))
    return _merge(problems)


def sentence_problems(tables: Tables, table: str) -> list[Problem]:
    """``sent_index`` names a sentence of the row's article, and a span lies inside it."""
    span = span_columns(table)
    rows = _frame(tables[table].read(["article_id", "sent_index", *span, *row_key(table)]))
    sentences = _frame(tables["sentences"].read(["article_id", "sent_index", "start", "end"]))
    joined = rows[["article_id", "sent_index", *span]].reset_index().merge(
        sentences.rename(columns={"start": "sentence_start", "end": "sentence_end"}),
        on=["article_id", "sent_index"], how="left",
    )
    bad = joined["sent_index"].notna() & joined["sentence_start"].isna()
    if span:
        outside = (joined["start"] < joined["sentence_start"]) | (joined["end"] > joined["sentence_end"])
        bad |= outside.fillna(False)
    labels = joined.loc[bad.to_numpy(dtype=bool, na_value=False), "index"].unique()
    if not len(labels):
        return []
    check = f"{'inside' if span else 'names'} a sentence of its article"
    return [Problem(table, "sent_index", check, len(labels), _examples(rows, labels, row_key(table)))]


# Every article_id of these tables names an article.
ARTICLE_CHILDREN = ("sentences", "spin_edits", "mentions", "quantities", "claims", "stance", "fingerprints")
# (table, column, parent table, parent column): every non-null value exists in the parent.
REFERENCES = [
    *((child, "article_id", "articles", "article_id") for child in ARTICLE_CHILDREN),
    ("mentions", "entity_id", "entities", "entity_id"),
    ("claims", "subject_entity_id", "entities", "entity_id"),
    ("claims", "speaker_entity_id", "entities", "entity_id"),
]
# Tables whose sent_index points into sentences.
SENTENCE_TABLES = ("mentions", "quantities", "claims", "stance")


def cross_checks() -> list[CrossCheck]:
    checks = [
        CrossCheck(
            {table: ("article_id", *span_columns(table), span_value_column(table)),
             "articles": ("article_id", text_column)},
            partial(span_problems, table=table, text_column=text_column),
        )
        for table, text_column in SPAN_TABLES.items()
    ]
    checks += [
        CrossCheck(
            {table: (column,), parent: (parent_column,)},
            partial(reference_problems, table=table, column=column, parent=parent, parent_column=parent_column),
        )
        for table, column, parent, parent_column in REFERENCES
    ]
    checks += [
        CrossCheck(
            {table: ("article_id", "sent_index", *span_columns(table)),
             "sentences": ("article_id", "sent_index", "start", "end")},
            partial(sentence_problems, table=table),
        )
        for table in SENTENCE_TABLES
    ]
    checks += [
        CrossCheck(
            {"claims": ("claim_id", "article_id", "quantity_ids"), "quantities": ("quantity_id", "article_id")},
            claim_quantity_problems,
        ),
        CrossCheck(
            {"articles": ("article_id", "text_original", "text_normalized", "norm_offsets")},
            offset_map_problems,
        ),
    ]
    return checks


def cross_table_problems(tables: Tables) -> list[Problem]:
    """The cross-table checks whose columns are all present with the contract's types."""
    problems = []
    for check in cross_checks():
        if all(t in tables and set(columns) <= tables[t].sound for t, columns in check.needs.items()):
            problems += check.run(tables)
    return problems


# -- entry point ------------------------------------------------------------------------


def validate_store(out: str | Path | None = None) -> list[str]:
    """Every breach of the contract as a readable line; empty when the datasets conform."""
    root = Path(out) if out else default_out_dir()
    if not root.is_dir():
        return [f"{root}: no datasets here (run `zhnews run` first)"]
    store = Store(root)
    problems: list[Problem] = []
    tables: Tables = {}
    for name in SCHEMAS:
        try:
            opened = open_table(store, name)
        except StoreError as exc:  # a damaged commit journal: no table can be trusted
            return [f"{root}: {exc}"]
        if isinstance(opened, Problem):
            problems.append(opened)
            continue
        try:
            problems += check_table(opened)
        except (pa.ArrowException, OSError) as exc:  # a part damaged past its footer
            problems.append(Problem(name, None, f"part files unreadable: {exc}"))
            continue
        tables[name] = opened
    problems += cross_table_problems(tables)
    return [str(p) for p in problems]
