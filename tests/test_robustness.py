"""Whole runs under abuse: SIGKILL at random moments, two runs at once, hostile inputs."""

import os
import random
import signal
import subprocess
import sys
import time

import pyarrow.dataset as ds
import pytest

from pipeline.runner import run_corpus
from pipeline.schemas import SCHEMAS
from pipeline.store import Store
from pipeline.validate import validate_store
from test_ingest import BODY1, BODY2, TRAD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """60 articles, one per file."""
    src = tmp_path_factory.mktemp("corpus")
    bases = [BODY1, BODY2, TRAD]
    for i in range(60):
        text = bases[i % 3] + f"\n据统计，第{i + 1}批样本共涉及{(i * 7) % 50 + 3}家芯片企业，合计融资{i + 2}亿元。\n"
        (src / f"doc_{i:02d}.txt").write_text(text, encoding="utf-8")
    return src


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "out"
    run_corpus([corpus], out, progress=lambda _m: None)
    return out


def cli(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def parts(out) -> int:
    return len(list(out.glob("articles/*.parquet")))


def snapshot(out):
    """What must not differ between runs: articles, sentences, mentions, claims."""
    def rows(table, cols):
        return sorted(map(tuple, (r.values() for r in ds.dataset(out / table).to_table(columns=cols).to_pylist())))
    return {
        "articles": rows("articles", ["article_id", "text_final"]),
        "sentences": rows("sentences", ["article_id", "sent_index", "text"]),
        "mentions": rows("mentions", ["article_id", "start", "end", "entity_id"]),
        "claims": rows("claims", ["claim_id", "metric"]),
    }


def test_sigkill_at_random_moments_then_the_next_run_completes(corpus, clean, tmp_path):
    out = tmp_path / "out"
    rng = random.Random(20261203)
    kills = 0
    for _ in range(3):
        before = parts(out)
        proc = cli("run", "--local", "-i", str(corpus), "--out", str(out), "--batch-size", "2")
        # Once this run has committed something, kill it at a random moment of what follows
        # (processing, writing temporaries, the journal, the renames).
        deadline = time.monotonic() + 120
        while parts(out) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.8))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate()
        if not out.exists():
            continue
        store = Store(out)
        for name in SCHEMAS:  # readable as it is, before any recovery
            store.read(name)
        with store.lock():  # the next writer rolls a half-applied commit forward
            pass
        assert validate_store(out) == []
    assert kills >= 2
    final = cli("run", "--local", "-i", str(corpus), "--out", str(out))
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    assert validate_store(out) == []
    assert snapshot(out) == snapshot(clean)


def test_two_runs_at_once_never_corrupt_anything(corpus, clean, tmp_path):
    out = tmp_path / "out"
    procs = [cli("run", "--local", "-i", str(corpus), "--out", str(out)) for _ in range(2)]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 75]), results
    for code, err in results:
        if code == 75:
            assert "store is locked by pid" in err
    assert validate_store(out) == []
    assert snapshot(out) == snapshot(clean)


def test_huge_and_mixed_encoding_files_are_handled(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    with open(src / "huge.txt", "wb") as fh:  # 100 MB, sparse: fast to make
        fh.truncate(100 * 1024 * 1024)
    (src / "mixed.txt").write_bytes(BODY1.encode("utf-8") + b"\n" + BODY2.encode("gbk"))
    out = tmp_path / "out"
    summary = run_corpus([src], out, progress=lambda _m: None)
    assert summary.n_files == 2
    rejects = {os.path.basename(r["source_path"]): r for r in ds.dataset(out / "rejects").to_table().to_pylist()}
    assert rejects["huge.txt"]["reason"] == "too_large" and "max_file_mb" in rejects["huge.txt"]["detail"]
    texts = [a["text_final"] for a in ds.dataset(out / "articles").to_table(columns=["text_final"]).to_pylist()]
    joined = "".join(texts)
    assert "\ufffd" not in joined and BODY2.splitlines()[-1][:10] in joined  # the GBK half decoded too
    assert validate_store(out) == []
