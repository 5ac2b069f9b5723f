"""Whole runs under abuse: ``zhnews run`` SIGKILLed at seeded random moments, two runs at
once on one store (and ``zhnews add`` while one of them holds it), hostile inputs next to
existing data. Store-level crash tests live in test_store.py; this file drives the real
command line, whose every start loads the NLP models (~10 s), so it starts few of them.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from pipeline.runner import run_corpus
from pipeline.schemas import SCHEMAS
from pipeline.store import Store
from pipeline.validate import validate_store
from test_ingest import BODY1, BODY2, TRAD

ROOT = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).with_name("zhnews")
ZHNEWS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "pipeline.cli"]
SEED = int(os.environ.get("ZHNEWS_TEST_SEED", 20261203))  # set it to replay a failure
N_FILES = 30
BATCH = 2  # files per commit in the killed runs: 15 commits to land kills between and in
# Everything a run writes except what names the run or its timing.
VOLATILE = {"run_id", "started_at", "finished_at", "stage_seconds"}
CONTENT = [name for name in SCHEMAS if name != "runs"]


def quiet(_msg: str) -> None:
    pass


def variant(i: int) -> str:
    """Distinct articles from the fixture texts: one more sentence in the first paragraph."""
    base = (BODY1, BODY2, TRAD)[i % 3]
    if base is TRAD:
        extra = f"據統計，第{i + 1}批樣本涉及{i * 7 % 50 + 3}家芯片企業，合計融資{i + 2}億元。"
    else:
        extra = f"据统计，第{i + 1}批样本涉及{i * 7 % 50 + 3}家芯片企业，合计融资{i + 2}亿元。"
    return base.replace("。\n", "。" + extra + "\n", 1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    src = tmp_path_factory.mktemp("corpus") / "語料 庫 (kill test)"  # spaces and CJK in paths
    src.mkdir()
    for i in range(N_FILES):
        (src / f"稿件 {i:02d}.txt").write_text(variant(i), encoding="utf-8")
    return src


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory):
    """The uninterrupted run every abused run must end up equal to (one batch, in process)."""
    out = tmp_path_factory.mktemp("clean") / "out"
    summary = run_corpus([corpus], out, progress=quiet)
    assert (summary.n_files, summary.n_new, summary.n_failed) == (N_FILES, N_FILES, 0)
    assert validate_store(out) == []
    return contents(out)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return dict(os.environ, PREFECT_HOME=str(tmp_path_factory.mktemp("prefect")))


def zhnews(env: dict, log: Path, *args: str) -> subprocess.Popen:
    """``zhnews ARGS`` with stdout and stderr in files (``log``.out / .err): a killed child
    can't leave a pipe half read."""
    return subprocess.Popen(
        [*ZHNEWS, *args], cwd=ROOT, env=env,
        stdout=open(log.with_suffix(".out"), "w"), stderr=open(log.with_suffix(".err"), "w"),
    )


def contents(out: Path) -> dict[str, list[str]]:
    """Every row of every table but ``runs``, as the store shows it (a pending journal counts)."""
    store = Store(out)
    result = {}
    for name in CONTENT:
        table = store.read(name)
        table = table.select([c for c in table.column_names if c not in VOLATILE])
        result[name] = sorted(repr(tuple(row.values())) for row in table.to_pylist())
    return result


def listdir(path: Path) -> set[str]:
    try:
        return set(os.listdir(path))
    except FileNotFoundError:
        return set()


# -- 1. SIGKILL at random moments ---------------------------------------------


def wait_for_commits(proc: subprocess.Popen, out: Path, before: set[str], n: int) -> float:
    """Wait until this run has made ``n`` commits (each adds one ``sources`` part); return
    how long its last one took, from the commit before."""
    last = changed = time.monotonic()
    seen = 0
    while proc.poll() is None:
        count = len(listdir(out / "sources") - before)
        if count > seen:
            last, changed, seen = changed, time.monotonic(), count
            if seen >= n:
                return changed - last
        time.sleep(0.002)
    return 0.0


def spin_until(proc: subprocess.Popen, ready) -> None:
    while proc.poll() is None and not ready():
        time.sleep(0.0001)


def kill_at(proc: subprocess.Popen, out: Path, mode: str, rng: random.Random) -> str:
    """SIGKILL ``proc`` at a moment chosen by ``mode``; describe the moment."""
    before = listdir(out / "sources")
    if mode == "early":  # importing, taking the lock, recovering, planning
        delay = rng.uniform(0.1, 1.5)
        time.sleep(delay)
        where = f"{delay:.2f}s after the start"
    elif mode == "random":  # anywhere in the cycle after commit c: processing or committing
        c = rng.randint(2, 4)
        span = wait_for_commits(proc, out, before, c)
        delay = rng.uniform(0, span)
        time.sleep(delay)
        where = f"{delay:.3f}s (of a {span:.3f}s cycle) after commit {c}"
    elif mode == "temps":  # writing the next commit's temporaries, before its journal
        c = rng.randint(1, 3)
        wait_for_commits(proc, out, before, c)
        spin_until(proc, lambda: any(n.startswith(".tmp-") for n in listdir(out / "articles")))
        where = f"with temporaries staged after commit {c}"
    else:  # "journal": the next commit's journal is published, its renames are still to do
        c = rng.randint(1, 3)
        wait_for_commits(proc, out, before, c)
        spin_until(proc, (out / "_journal.json").exists)
        where = f"as the journal of the commit after commit {c} appeared"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL, f"the run ended by itself before the {mode} kill"
    left = [n for n in ("_lock", "_journal.json") if (out / n).exists()]
    left += [f"{sum(1 for _ in out.rglob('.tmp-*'))} temporaries"]
    return f"{mode} kill {where} (left: {', '.join(left)})"


def check_after_kill(out: Path, done_before: set[str], moment: str) -> set[str]:
    seen = contents(out)  # every table readable as it is, before any recovery
    for name in SCHEMAS:  # and by plain pyarrow over each table directory
        if (out / name).is_dir():
            ds.dataset(out / name, format="parquet").to_table()
    with Store(out).lock():  # what the next run does first: break the dead lock, roll forward
        pass
    assert sorted(p.name for p in out.iterdir() if p.name in ("_lock", "_journal.json")) == [], moment
    assert [p for p in out.rglob(".tmp-*")] == [], moment
    assert contents(out) == seen, f"{moment}: recovery changed what readers had been shown"
    assert validate_store(out) == [], moment
    store = Store(out)
    sources = store.read("sources").to_pylist()
    done = {row["source_path"] for row in sources}
    assert done >= done_before, f"{moment}: a committed batch was lost"
    assert len(done) % BATCH == 0, f"{moment}: part of a batch was committed"
    ids = set(store.read("articles", columns=["article_id"]).column("article_id").to_pylist())
    assert ids == {i for row in sources for i in row["article_ids"]}, moment
    for table in ("sentences", "stance"):
        assert set(store.read(table, columns=["article_id"]).column("article_id").to_pylist()) == ids, moment
    return done


def test_sigkill_at_random_moments_then_a_run_completes_as_if_uninterrupted(corpus, clean, env, tmp_path):
    """Five `zhnews run`s on one store, each SIGKILLed: at a random moment after a few
    commits, while a journal is applied, while temporaries are staged, twice early
    (importing, locking, planning). After each: readable, recoverable, valid, whole batches
    only. Then a run to completion equals the uninterrupted run, row for row."""
    out = tmp_path / "out"
    rng = random.Random(SEED)
    done: set[str] = set()
    history = []
    for k, mode in enumerate(["random", "journal", "early", "temps", "early"]):
        proc = zhnews(env, tmp_path / f"kill{k}", "run", "--local", "-i", str(corpus), "--out", str(out),
                      "--batch-size", str(BATCH))
        history.append(kill_at(proc, out, mode, rng))
        done = check_after_kill(out, done, f"seed {SEED}: " + "; ".join(history))
    print("\n".join(history))
    assert 0 < len(done) < N_FILES, history  # the kills left work done and work to do

    summary = run_corpus([corpus], out, progress=quiet, batch_size=BATCH)
    assert (summary.n_files, summary.n_new, summary.n_failed) == (N_FILES - len(done),) * 2 + (0,)
    assert validate_store(out) == []
    final = contents(out)
    for name, rows in final.items():
        assert len(rows) == len(set(rows)), f"{name}: duplicate rows"
    assert final == clean
    assert len(Store(out).read("runs")) == 1  # killed runs never finished


# -- 2. two runs at once ------------------------------------------------------


def test_two_runs_at_once_and_an_add_while_one_holds_the_lock(corpus, clean, env, tmp_path):
    """Two `zhnews run`s started together on a store whose lock a killed run left behind:
    one works, the other refuses with 75 naming it (or both complete in turn); `zhnews add`
    meanwhile refuses the same way; the result equals the uninterrupted run."""
    out = tmp_path / "out"
    run = ["run", "--local", "-i", str(corpus), "--out", str(out)]
    # A run killed right after taking the lock leaves a stale lock for the two to race over.
    victim = zhnews(env, tmp_path / "victim", *run)
    spin_until(victim, (out / "_lock").exists)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL and (out / "_lock").exists()

    procs = [zhnews(env, tmp_path / f"run{i}", *run) for i in range(2)]
    while all(p.poll() is None for p in procs):
        time.sleep(0.01)
    first = next(i for i, p in enumerate(procs) if p.poll() is not None)
    holder = procs[1 - first]
    # `zhnews add` while the other run holds the store: refused at once, holder named
    added = subprocess.run([*ZHNEWS, "add", str(corpus / "稿件 00.txt"), "--local", "--out", str(out)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert holder.poll() is None, (
        f"no run held the store while `zhnews add` ran (exit codes {[p.poll() for p in procs]}): "
        + (tmp_path / f"run{first}.err").read_text()
    )
    assert added.returncode == 75, added.stderr
    assert f"store is locked by pid {holder.pid} on {socket.gethostname()}" in added.stderr

    codes = [p.wait(timeout=300) for p in procs]
    errs = [(tmp_path / f"run{i}.err").read_text() for i in range(2)]
    assert sorted(codes) in ([0, 0], [0, 75]), (codes, errs)
    for i, code in enumerate(codes):
        if code == 75:  # the loser names the live winner, not the dead victim
            assert f"zhnews: store is locked by pid {procs[1 - i].pid} on {socket.gethostname()}" in errs[i]
            assert "wait for that run to finish" in errs[i]
            assert (tmp_path / f"run{i}.out").read_text() == ""
    assert not (out / "_lock").exists()
    assert validate_store(out) == []
    assert contents(out) == clean
    assert len(Store(out).read("runs")) == codes.count(0)


# -- 3. hostile inputs --------------------------------------------------------


def gbk(name: str) -> bytes:
    data = name.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    return data


def escaped(name: str) -> str:
    """How a GBK name is recorded: its bytes that are not UTF-8 as ``\\xNN``."""
    return gbk(name).decode("utf-8", "backslashreplace")


def test_huge_mixed_encoding_and_undecodable_names_next_to_existing_data(tmp_path):
    """A 100 MB file (rejected unread), UTF-8 and GBK in one file (both halves decoded), file,
    directory and missing-input names that are not UTF-8 (processed / rejected, recorded with
    their bytes escaped), all run into a store that holds data already."""
    out = tmp_path / "out"
    base = tmp_path / "base"
    base.mkdir()
    for i in (0, 2):
        (base / f"old {i}.txt").write_text(variant(100 + i), encoding="utf-8")
    assert run_corpus([base], out, progress=quiet).n_new == 2
    existing = contents(out)

    src = tmp_path / "收件 箱"
    src.mkdir()
    huge = src / "巨大 文件.txt"
    with open(huge, "wb") as fh:  # 100 MB, sparse: made at once
        fh.truncate(100 * 1024 * 1024)
    tracemalloc.start()
    try:
        run_corpus([huge], out, progress=quiet)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, f"a too-large file was read into memory (peak {peak / 1e6:.0f} MB)"

    mixed = variant(201).encode("utf-8") + b"\n" + BODY2.encode("gbk")  # one file, two encodings
    (src / "混合 編碼.txt").write_bytes(mixed)
    # Names that are not UTF-8: GBK names, as a zip made on Windows unpacks them.
    gbk_dir = os.path.join(os.fsencode(src), gbk("收件"))
    os.mkdir(gbk_dir)
    with open(os.path.join(gbk_dir, gbk("新闻 稿.txt")), "wb") as fh:
        fh.write(variant(202).encode("utf-8"))
    missing = os.fsdecode(os.path.join(os.fsencode(tmp_path), gbk("丢失.txt")))
    summary = run_corpus([src, missing], out, progress=quiet)
    assert summary.n_files == 2  # the huge file is unchanged since its own run

    store = Store(out)
    arts = store.read("articles").to_pylist()
    rejects = store.read("rejects").to_pylist()
    by_name = {r["source_path"].rsplit("/", 1)[-1]: r for r in rejects}
    assert by_name["巨大 文件.txt"]["reason"] == "too_large"
    assert "max_file_mb" in by_name["巨大 文件.txt"]["detail"]
    assert by_name[escaped("丢失.txt")]["reason"] == "not_found"
    mixed_text = "\n".join(a["text_original"] for a in arts if a["source_path"].endswith("混合 編碼.txt"))
    assert "\ufffd" not in mixed_text
    assert all(line in mixed_text for line in variant(201).splitlines() + BODY2.splitlines())
    [named] = [a for a in arts if a["source_path"].endswith(f"/{escaped('收件')}/{escaped('新闻 稿.txt')}")]
    assert named["text_original"] == variant(202)
    handled = {a["source_path"] for a in arts} | {r["source_path"] for r in rejects}
    assert len(handled) == 2 + 4  # the old files and every hostile input: an article or a reject

    after = contents(out)
    for name, rows in existing.items():  # what was there before survives, row for row
        if name != "entities":  # (its mention counts are recomputed over the corpus)
            assert set(rows) <= set(after[name]), name
    assert validate_store(out) == []
    again = run_corpus([base, src], out, progress=quiet)  # recorded names are stable
    assert (again.n_files, again.n_new) == (0, 0)
