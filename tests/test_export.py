"""``zhnews export``: mirror the committed parts to a pyarrow filesystem URI, incrementally."""

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest

from pipeline.cli import main
from pipeline.export import export_store
from pipeline.runner import run_corpus
from pipeline.store import Store, StoreError
from test_ingest import BODY1, BODY2, TRAD


def _run(src, out):
    return run_corpus([src], out, progress=lambda _m: None)


def _ids(root, filesystem=None):
    table = ds.dataset(f"{root}/articles", format="parquet", filesystem=filesystem).to_table(columns=["article_id"])
    return sorted(table.column("article_id").to_pylist())


def test_export_mirrors_commits_incrementally(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(BODY1, encoding="utf-8")
    (src / "t.txt").write_text(TRAD, encoding="utf-8")
    out, dest = tmp_path / "out", tmp_path / "mirror"
    _run(src, out)
    first = export_store(out, f"file://{dest}")
    assert first.copied > 0 and first.removed == 0
    assert _ids(dest) == _ids(out) and len(_ids(out)) == 2
    again = export_store(out, str(dest))
    assert (again.copied, again.removed) == (0, 0) and again.kept == first.copied

    (src / "t.txt").unlink()
    (src / "a.txt").write_text(BODY2, encoding="utf-8")  # replaces the article of a.txt
    _run(src, out)
    third = export_store(out, str(dest))
    assert third.copied > 0 and third.removed > 0
    assert _ids(dest) == _ids(out)
    for table in Store(out).tables():
        local = sorted(p.name for p in Store(out).committed_parts(table))
        assert sorted(p.name for p in (dest / table).glob("*.parquet")) == local, table


def test_export_to_a_non_local_filesystem(tmp_path):
    import fsspec

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(BODY1, encoding="utf-8")
    (src / "b.txt").write_text(BODY2, encoding="utf-8")
    _run(src, tmp_path / "out")
    memory = pafs.PyFileSystem(pafs.FSSpecHandler(fsspec.filesystem("memory")))
    result = export_store(tmp_path / "out", "/bucket/zhnews", filesystem=memory)
    assert result.copied > 0
    assert _ids("/bucket/zhnews", memory) == _ids(tmp_path / "out")


def test_object_store_out_is_refused_with_the_way_out(tmp_path, capsys):
    with pytest.raises(StoreError, match="zhnews export"):
        Store("s3://bucket/zhnews")
    assert main(["run", "--local", "--out", "s3://bucket/zhnews"]) == 1
    assert "zhnews export --to" in capsys.readouterr().err
    assert Store(f"file://{tmp_path}/x").root == tmp_path / "x"
