import subprocess
import sys
import time

from pipeline.cli import main


def test_help_is_fast_and_imports_nothing_heavy():
    code = (
        "import sys, time; t=time.perf_counter(); from pipeline.cli import _parser; "
        "h=_parser().format_help(); heavy=[m for m in ('prefect','torch','hanlp','pyarrow','opencc','spacy','trafilatura') if m in sys.modules]; "
        "print(round(time.perf_counter()-t,3), heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    assert out[1].strip() == "[]"
    assert float(out[0]) < 0.5
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "pipeline.cli", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "validate" in res.stdout
    assert time.perf_counter() - t < 3


def test_add_missing_path_is_a_usage_error(tmp_path, capsys):
    assert main(["add", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o"), "--local"]) == 2
    assert "not found" in capsys.readouterr().err


def test_validate_on_missing_outputs(tmp_path, capsys):
    assert main(["validate", "--out", str(tmp_path / "none")]) == 1
    assert "no datasets" in capsys.readouterr().out


def test_run_then_validate_then_show(tmp_path, capsys):
    from test_ingest import AGGREGATED

    src = tmp_path / "a.txt"
    src.write_text(AGGREGATED, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", "--input", str(src), "--out", str(out), "--local"]) == 0
    assert "2 new article(s)" in capsys.readouterr().out
    assert main(["run", "--input", str(src), "--out", str(out), "--local"]) == 0
    assert "nothing new; 2 article(s) unchanged" in capsys.readouterr().out
    assert main(["validate", "--out", str(out)]) == 0
    import pyarrow.dataset as ds

    aid = ds.dataset(out / "articles").to_table().column("article_id")[0].as_py()
    assert main(["show", aid[:8], "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "removed by ingest" in shown and "[metadata] 本文源自" in shown
