"""The real Prefect flow, end to end (embedded server: slow, so only this one test)."""

import pyarrow.dataset as ds
import pytest

pytestmark = pytest.mark.prefect


def test_prefect_flow_matches_local_run(tmp_path):
    from flows.corpus_flow import corpus_flow
    from pipeline.runner import run_corpus
    from test_ingest import AGGREGATED, TRAD

    src = tmp_path / "in"
    src.mkdir()
    (src / "agg.txt").write_text(AGGREGATED, encoding="utf-8")
    (src / "trad.txt").write_text(TRAD, encoding="utf-8")
    summary = corpus_flow(inputs=[str(src)], out=str(tmp_path / "flow"))
    assert (summary.n_files, summary.n_new) == (2, 3)
    run_corpus([src], tmp_path / "local", progress=lambda _m: None)
    cols = ["article_id", "text_final", "script", "region"]
    flow_rows = sorted(ds.dataset(tmp_path / "flow" / "articles").to_table(columns=cols).to_pylist(), key=str)
    local_rows = sorted(ds.dataset(tmp_path / "local" / "articles").to_table(columns=cols).to_pylist(), key=str)
    assert flow_rows == local_rows
    again = corpus_flow(inputs=[str(src)], out=str(tmp_path / "flow"))
    assert again.n_new == 0 and again.n_unchanged == 3


def test_inbox_cycle_archives_quarantines_and_retries(tmp_path, monkeypatch):
    import os
    import time

    from flows.inbox_flow import inbox_flow
    from pipeline import inbox, runner
    from test_ingest import BODY1, TRAD

    dirs = inbox.InboxDirs(tmp_path / "inbox", tmp_path / "archive", tmp_path / "quarantine")
    monkeypatch.setattr(inbox, "inbox_dirs", lambda config: dirs)
    monkeypatch.setattr(inbox, "serve_settings", lambda config: inbox.ServeSettings(0, 1, 0))
    calls = []
    real = runner.process_source

    def flaky(src):
        calls.append(os.path.basename(src.path))
        if "never" in src.path:
            raise OSError("storage offline")
        return real(src)

    monkeypatch.setattr(runner, "process_source", flaky)
    dirs.create()
    (dirs.inbox / "新闻 一.txt").write_text(BODY1, encoding="utf-8")
    (dirs.inbox / "trad.txt").write_text(TRAD, encoding="big5", errors="ignore")
    (dirs.inbox / "blob.txt").write_bytes(b"\x00\xff" * 100)
    (dirs.inbox / "never.txt").write_text(BODY1, encoding="utf-8")
    (dirs.inbox / "half.txt.part").write_text(BODY1, encoding="utf-8")
    out = tmp_path / "out"
    summary = inbox_flow(out=str(out))
    assert summary.n_files == 4 and summary.n_new == 2
    # its task of several files fails; alone it is tried, retried once, then quarantined
    assert calls.count("never.txt") == 3
    assert sorted(p.name for p in dirs.archive.rglob("*.txt")) == ["trad.txt", "新闻 一.txt"]
    assert sorted(p.name for p in dirs.quarantine.rglob("*.txt")) == ["blob.txt", "never.txt"]
    assert [p.name for p in dirs.inbox.iterdir()] == ["half.txt.part"]
    rejects = {os.path.basename(r["source_path"]): r for r in ds.dataset(out / "rejects").to_table().to_pylist()}
    assert rejects["never.txt"]["reason"] == "failed" and "storage offline" in rejects["never.txt"]["detail"]
    assert rejects["blob.txt"]["reason"] == "binary"
    assert all("quarantine" in r["source_path"] for r in rejects.values())
    assert inbox_flow(out=str(out)) is None  # nothing ready: no run, no rows
    assert len(ds.dataset(out / "runs").to_table()) == 1


def test_dask_workers_give_the_same_rows_as_the_local_loop(tmp_path):
    from flows.corpus_flow import corpus_flow, task_runner
    from pipeline.runner import run_corpus
    from test_ingest import AGGREGATED, BODY1, BODY2, TRAD

    src = tmp_path / "in"
    src.mkdir()
    for name, text in {"agg.txt": AGGREGATED, "trad.txt": TRAD, "b1.txt": BODY1, "b2.txt": BODY2}.items():
        (src / name).write_text(text, encoding="utf-8")
    flow = corpus_flow.with_options(task_runner=task_runner(workers=2))
    flow(inputs=[str(src)], out=str(tmp_path / "dask"))
    run_corpus([src], tmp_path / "local", progress=lambda _m: None)
    for table in ("articles", "sentences", "mentions", "quantities", "claims", "stance", "rejects"):
        cols = [c for c in ds.dataset(tmp_path / "local" / table).schema.names if c != "run_id"]
        dask_rows = sorted(map(repr, ds.dataset(tmp_path / "dask" / table).to_table(columns=cols).to_pylist()))
        local_rows = sorted(map(repr, ds.dataset(tmp_path / "local" / table).to_table(columns=cols).to_pylist()))
        assert dask_rows == local_rows, table
