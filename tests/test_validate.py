"""``zhnews validate``: a real run conforms, and each kind of breach gives its own readable line."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.runner import run_corpus
from pipeline.schemas import SCHEMAS
from pipeline.store import Store
from pipeline.validate import table_schema, validate_store

Change = Callable[[pa.Table], pa.Table]


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """The bundled sample corpus, run once for the whole module."""
    out = tmp_path_factory.mktemp("validate") / "out"
    run_corpus(None, out, progress=lambda _m: None)
    return out


def broken_copy(good: Path, tmp_path: Path, table: str, change: Change, every_part: bool = False) -> Path:
    """A copy of the datasets with ``change`` applied to the first non-empty part of ``table``
    (or to every part, for a change of layout), rewritten in place: the store lists its parts
    by directory (and a pending journal, which a finished run leaves none of), so the
    rewritten file is the one every reader sees."""
    out = tmp_path / "broken"
    shutil.copytree(good, out)
    store = Store(out)
    assert not (out / "_journal.json").exists()
    parts = [p for p in store.committed_parts(table) if every_part or pq.read_metadata(p).num_rows]
    for part in parts if every_part else parts[:1]:
        pq.write_table(change(pq.read_table(part)), part)
    return out


def set_first(column: str, value: object) -> Change:
    """Replace ``column`` of the first row."""
    def change(t: pa.Table) -> pa.Table:
        values = t.column(column).to_pylist()
        values[0] = value
        field = t.schema.field(column)
        return t.set_column(t.schema.get_field_index(column), field, pa.array(values, field.type))
    return change


def widen_sent_index(t: pa.Table) -> pa.Table:
    i = t.schema.get_field_index("sent_index")
    return t.set_column(i, pa.field("sent_index", pa.int64()), pc.cast(t["sent_index"], pa.int64()))


def other_articles_quantity(good: Path) -> Change:
    """Point the first claim at a quantity that exists, but in another article."""
    quantities = Store(good).read("quantities", ["quantity_id", "article_id"])
    claims = Store(good).read("claims", ["article_id"])
    foreign = quantities.filter(pc.not_equal(quantities["article_id"], claims["article_id"][0]))
    return set_first("quantity_ids", [foreign["quantity_id"][0].as_py()])


def test_schemas_are_generated_from_the_contract():
    for name, arrow_schema in SCHEMAS.items():
        assert list(table_schema(name).columns) == arrow_schema.names


def test_real_outputs_conform(good):
    assert validate_store(good) == []
    for table in ("claims", "quantities", "mentions", "spin_edits", "stance"):
        assert Store(good).read(table, ["article_id"]).num_rows > 0, table


BREAKS: dict[str, tuple[str, Change, str]] = {
    "duplicate key": (
        "articles", lambda t: pa.concat_tables([t, t.slice(0, 1)]),
        "articles: unique (article_id) fails for 2 row(s), e.g. article_id='",
    ),
    "label outside the set": (
        "mentions", set_first("label", "PER"),
        "mentions.label: isin(['PERSON', 'ORG', 'GPE', 'LOC', 'PRODUCT']) fails for 1 row(s), "
        "e.g. 'PER' at article_id='",
    ),
    "null in a non-null column": (
        "claims", set_first("kind", None),
        "claims.kind: not null fails for 1 row(s), e.g. null at claim_id='",
    ),
    "span that does not slice its text": (
        "sentences", set_first("text", "篡改"),
        "sentences.text: slices articles.text_final fails for 1 row(s), e.g. '篡改' at article_id='",
    ),
    "span past the end of its text": (
        "spin_edits", set_first("end", 10**6),
        "spin_edits.spun: slices articles.text_normalized fails for 1 row(s)",
    ),
    "dangling mention entity": (
        "mentions", set_first("entity_id", "org.nowhere"),
        "mentions.entity_id: in entities.entity_id fails for 1 row(s), e.g. 'org.nowhere' at article_id='",
    ),
    "claim quantity that does not exist": (
        "claims", set_first("quantity_ids", ["q_nowhere"]),
        "claims.quantity_ids: in quantities of the same article fails for 1 row(s), "
        "e.g. 'q_nowhere' at claim_id='",
    ),
    "score out of range": (
        "stance", set_first("score", 1.5),
        "stance.score: in_range(-1.0, 1.0) fails for 1 row(s), e.g. 1.5 at article_id='",
    ),
    "start after end": (
        "quantities", set_first("start", 10**6),
        "quantities: start <= end fails for 1 row(s), e.g. quantity_id='",
    ),
    "offset map too short": (
        "articles", set_first("norm_offsets", [0]),
        "articles.norm_offsets: has len(text_normalized) + 1 entries ending at len(text_original) "
        "fails for 1 row(s)",
    ),
}

LAYOUT_BREAKS: dict[str, tuple[str, Change, str]] = {
    "missing column": ("stance", lambda t: t.drop_columns(["label"]), "stance.label: column missing"),
    "wrong dtype": ("sentences", widen_sent_index, "sentences.sent_index: dtype is int64, contract says int32"),
}


@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_each_breach_is_named(good, tmp_path, kind):
    table, change, expected = BREAKS[kind]
    broken = broken_copy(good, tmp_path, table, change)
    assert not Store(broken).read(table).equals(Store(good).read(table))  # the store reads the rewritten part
    problems = validate_store(broken)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize("kind", sorted(LAYOUT_BREAKS))
def test_each_layout_breach_is_named(good, tmp_path, kind):
    table, change, expected = LAYOUT_BREAKS[kind]
    # Reported once: not again by the rules and cross-table checks that read the column.
    assert validate_store(broken_copy(good, tmp_path, table, change, every_part=True)) == [expected]


def test_claim_quantity_of_another_article_is_named(good, tmp_path):
    problems = validate_store(broken_copy(good, tmp_path, "claims", other_articles_quantity(good)))
    expected = "claims.quantity_ids: in quantities of the same article fails for 1 row(s)"
    assert any(p.startswith(expected) for p in problems), problems


def test_missing_table_directory(good, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(good, broken)
    shutil.rmtree(broken / "entities")
    assert "entities: table directory missing" in validate_store(broken)


def test_cli_exit_code_and_report(good, tmp_path, capsys):
    broken = broken_copy(good, tmp_path, "stance", set_first("label", "bullsh"))
    assert main(["validate", "--out", str(broken)]) == 1
    printed = capsys.readouterr().out
    expected = "stance.label: isin(['bullish', 'skeptical', 'neutral', 'mixed']) fails for 1 row(s), e.g. 'bullsh' at"
    assert expected in printed
    assert "1 problem(s)" in printed
    assert main(["validate", "--out", str(good)]) == 0
