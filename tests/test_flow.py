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
