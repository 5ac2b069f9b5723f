"""Runs end to end without Prefect: incremental, idempotent, content ids, rejects."""

import shutil

import pyarrow.dataset as ds
import pytest

from pipeline.runner import run_corpus
from pipeline.validate import validate_store
from test_ingest import AGGREGATED, BODY1, BODY2, TRAD


def _quiet(_msg: str) -> None:
    pass


def rows(out, table):
    return ds.dataset(out / table, format="parquet").to_table().to_pylist()


@pytest.fixture
def corpus(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "agg.txt").write_text(AGGREGATED, encoding="utf-8")
    (src / "trad.txt").write_text(TRAD, encoding="utf-8")
    (src / "empty.txt").write_bytes(b"")
    (src / "blob.txt").write_bytes(b"\x00\x01\x02\x03\xff" * 400)
    return src


def test_run_rerun_add_change(corpus, tmp_path):
    out = tmp_path / "out"
    first = run_corpus([corpus], out, progress=_quiet)
    assert (first.n_files, first.n_new) == (4, 3)
    assert first.n_failed == 2 + 2  # empty, binary, and the two teasers of agg.txt
    assert validate_store(out) == []
    arts = rows(out, "articles")
    assert len(arts) == 3
    for a in arts:
        assert a["text_final"] and a["script"] in ("hans", "hant")
    reasons = sorted(r["reason"] for r in rows(out, "rejects"))
    assert reasons == ["binary", "empty", "teaser", "teaser"]
    assert 1.2e10 in [q["value"] for q in rows(out, "quantities")]  # 120億元 of trad.txt

    second = run_corpus([corpus], out, progress=_quiet)
    assert (second.n_files, second.n_new, second.n_unchanged) == (0, 0, 3)
    assert len(rows(out, "articles")) == 3
    assert len(rows(out, "rejects")) == 4
    assert [r["n_new"] for r in sorted(rows(out, "runs"), key=lambda r: r["started_at"])] == [3, 0]

    # the same article re-encoded and re-wrapped in a new file is not a new article
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "same.txt").write_bytes(BODY1.replace("\n", "\n\n").encode("gb18030"))
    added = run_corpus([tmp_path / "more" / "same.txt"], out, progress=_quiet)
    assert (added.n_files, added.n_new, added.n_unchanged) == (1, 0, 1)

    # a changed file replaces what it produced before
    (corpus / "agg.txt").write_text(BODY2 + "\n本文源自:财经日报\n", encoding="utf-8")
    (corpus / "trad.txt").write_text(TRAD.replace("120億元", "150億元"), encoding="utf-8")
    changed = run_corpus([corpus], out, progress=_quiet)
    assert (changed.n_files, changed.n_new, changed.n_removed) == (2, 2, 1)
    texts = [a["text_original"] for a in rows(out, "articles")]
    assert len(texts) == 3 and BODY1 in texts and BODY2 in texts  # BODY1 still backed by same.txt
    assert not any("120億元" in t for t in texts) and any("150億元" in t for t in texts)
    assert [r["reason"] for r in rows(out, "rejects")].count("teaser") == 0
    # the rows of later stages are replaced with their article, never duplicated
    values = [q["value"] for q in rows(out, "quantities")]
    assert 1.5e10 in values and 1.2e10 not in values
    article_stance = sorted(r["article_id"] for r in rows(out, "stance") if r["scope"] == "article")
    assert article_stance == sorted(a["article_id"] for a in rows(out, "articles"))
    assert validate_store(out) == []


def test_ids_are_stable_across_runs_and_dirs(corpus, tmp_path):
    run_corpus([corpus], tmp_path / "a", progress=_quiet)
    shutil.copytree(corpus, tmp_path / "copy")
    run_corpus([tmp_path / "copy"], tmp_path / "b", progress=_quiet)
    ids_a = sorted(r["article_id"] for r in rows(tmp_path / "a", "articles"))
    ids_b = sorted(r["article_id"] for r in rows(tmp_path / "b", "articles"))
    assert ids_a == ids_b
    sents_a = sorted((r["article_id"], r["sent_index"], r["text"]) for r in rows(tmp_path / "a", "sentences"))
    sents_b = sorted((r["article_id"], r["sent_index"], r["text"]) for r in rows(tmp_path / "b", "sentences"))
    assert sents_a == sents_b


def test_near_duplicate_is_flagged(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(BODY1 + "\n" + BODY2, encoding="utf-8")
    (src / "b.txt").write_text(BODY1 + "\n" + BODY2.replace("3.2亿元", "3.3亿元"), encoding="utf-8")
    run_corpus([src], tmp_path / "out", progress=_quiet)
    arts = sorted(rows(tmp_path / "out", "articles"), key=lambda r: r["source_path"])
    assert arts[0]["near_duplicate_of"] is None
    assert arts[1]["near_duplicate_of"] == arts[0]["article_id"]
    assert "near_duplicate" in arts[1]["quality_flags"]


def test_sample_corpus_default_run(tmp_path):
    summary = run_corpus(None, tmp_path / "out", progress=_quiet)
    assert summary.n_new >= 8
    assert validate_store(tmp_path / "out") == []
    arts = rows(tmp_path / "out", "articles")
    assert {a["region"] for a in arts} >= {"cn", "tw", "hk"}
    assert {a["script"] for a in arts} == {"hans", "hant"}


def test_hostile_inputs_never_crash_the_run(tmp_path):
    src = tmp_path / "收件 箱 (new)"
    src.mkdir()
    (src / "正常 文章.txt").write_text(BODY1, encoding="utf-8")
    (src / "deep.html").write_text("<html><body>" + "<div>" * 5000 + "<p>" + BODY2 + "</p>" + "</div>" * 5000 + "</body></html>", encoding="utf-8")
    (src / "bad utf8.txt").write_bytes(BODY2.encode("utf-8")[:-1] + b"\xff\xfe\xfa" + BODY1.encode("utf-8"))
    (src / "zero.md").write_bytes(b"")
    (src / "random.json").write_bytes(b"\x93\x00\x11" * 333)
    summary = run_corpus([src], tmp_path / "out", progress=_quiet)
    assert summary.n_files == 5
    arts = rows(tmp_path / "out", "articles")
    assert any(a["source_path"].endswith("正常 文章.txt") for a in arts)
    rejected = {r["source_path"].rsplit("/", 1)[-1]: r["reason"] for r in rows(tmp_path / "out", "rejects")}
    assert rejected.get("zero.md") == "empty" and rejected.get("random.json") == "binary"
    handled = {a["source_path"].rsplit("/", 1)[-1] for a in arts} | set(rejected)
    assert handled == {"正常 文章.txt", "deep.html", "bad utf8.txt", "zero.md", "random.json"}
    assert validate_store(tmp_path / "out") == []


def test_a_file_that_raises_is_a_failed_reject_and_the_run_goes_on(corpus, tmp_path, monkeypatch):
    from pipeline import runner

    real = runner.process_source

    def flaky(src):
        if src.source_path.endswith("trad.txt"):
            raise OSError("disk went away")
        return real(src)

    monkeypatch.setattr(runner, "process_source", flaky)
    out = tmp_path / "out"
    summary = run_corpus([corpus], out, progress=_quiet)
    assert summary.n_new == 2
    failed = [r for r in rows(out, "rejects") if r["reason"] == "failed"]
    assert [(r["source_path"].endswith("trad.txt"), r["detail"]) for r in failed] == [(True, "OSError: disk went away")]
    assert validate_store(out) == []
