"""``zhnews validate``: passes on real outputs, and names each kind of breach of the contract."""

import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.runner import run_corpus
from pipeline.validate import validate_store
from test_ingest import BODY1, BODY2, TRAD

ARTICLE = "寒武纪2024年营业收入为11.74亿元，同比增长65.56%。分析师认为国产芯片的市场份额有望继续提升，但估值存在泡沫。"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    base = tmp_path_factory.mktemp("validate")
    src = base / "in"
    src.mkdir()
    for name, text in {"b1.txt": BODY1, "b2.txt": BODY2, "trad.txt": TRAD, "cambricon.txt": ARTICLE * 3}.items():
        (src / name).write_text(text, encoding="utf-8")
    run_corpus([src], base / "out", progress=lambda _m: None)
    return base / "out"


def broken_copy(good, tmp_path, table, change):
    """A copy of the datasets whose ``table`` is rewritten as ``change(table)`` in one part."""
    out = tmp_path / "broken"
    shutil.copytree(good, out)
    data = ds.dataset(out / table, format="parquet").to_table()
    for part in (out / table).glob("*.parquet"):
        part.unlink()
    pq.write_table(change(data), out / table / "part-broken-0.parquet")
    return out


def replace_column(name, fn):
    def change(t):
        i = t.schema.get_field_index(name)
        values = fn(t.column(name))
        return t.set_column(i, pa.field(name, values.type), values)
    return change


def first_changed(values, new):
    items = values.to_pylist()
    items[0] = new
    return pa.array(items, type=values.type)


def test_real_outputs_conform(good):
    assert validate_store(good) == []
    assert ds.dataset(good / "claims").count_rows() > 0 and ds.dataset(good / "quantities").count_rows() > 0


BREAKS = {
    "duplicate key": ("articles", lambda t: pa.concat_tables([t, t.slice(0, 1)]), "articles: unique key (article_id) fails for 2 row(s)"),
    "label outside the set": ("mentions", replace_column("label", lambda c: first_changed(c, "PER")), "mentions.label: isin("),
    "span that does not slice": ("sentences", replace_column("text", lambda c: first_changed(c, "篡改")),
                                 "sentences: span does not slice articles.text_final: 1 row(s)"),
    "dangling entity": ("mentions", replace_column("entity_id", lambda c: first_changed(c, "org.nowhere")),
                        "mentions.entity_id: value not in entities.entity_id: 1 row(s), e.g. ('org.nowhere',)"),
    "missing quantity": ("claims", replace_column("quantity_ids", lambda c: first_changed(c, ["q_nowhere_0"])),
                         "claims.quantity_ids: quantity not in quantities of the same article: 1 row(s)"),
    "score out of range": ("stance", replace_column("score", lambda c: first_changed(c, 1.5)),
                           "stance.score: in_range(-1.0, 1.0) fails for 1 row(s), e.g. 1.5"),
    "missing column": ("stance", lambda t: t.drop_columns(["label"]), "stance: column label missing"),
    "wrong type": ("sentences", replace_column("sent_index", lambda c: pc.cast(c, pa.int64())),
                   "sentences.sent_index: dtype('int32[pyarrow]') fails"),
    "start after end": ("quantities", replace_column("start", lambda c: first_changed(c, 10**6)),
                        "quantities: start <= end fails for 1 row(s), e.g. ('q_"),
}


@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_each_breach_is_named(good, tmp_path, kind):
    table, change, expected = BREAKS[kind]
    problems = validate_store(broken_copy(good, tmp_path, table, change))
    assert any(expected in p for p in problems), problems


def test_cli_exit_code_and_report(good, tmp_path, capsys):
    broken = broken_copy(good, tmp_path, "stance", replace_column("label", lambda c: first_changed(c, "bullsh")))
    assert main(["validate", "--out", str(broken)]) == 1
    printed = capsys.readouterr().out
    assert "stance.label: isin(" in printed and "'bullsh'" in printed and "1 problem(s)" in printed
    shutil.rmtree(broken / "entities")
    assert "entities: table directory missing" in validate_store(broken)
    assert main(["validate", "--out", str(good)]) == 0
