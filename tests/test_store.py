import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from pipeline import schemas, store
from pipeline.schemas import KEYS, SCHEMAS
from pipeline.store import Store, StoreError, StoreLocked

ROOT = Path(__file__).resolve().parents[1]
CRASH_POINTS = ["after_temps", "after_journal", "mid_apply"]


class Crash(BaseException):
    """Raised by the crash hook; BaseException so nothing on the way can swallow it."""


# -- helpers -----------------------------------------------------------------


def article(i: int, source: str = "src/a.txt", text: str = "华为昇腾芯片量产。") -> dict:
    return {
        "article_id": f"a{i:05d}",
        "source_path": source,
        "part_index": 0,
        "title": f"标题{i}",
        "published_date": dt.date(2024, 5, 1 + i % 28),
        "text_final": text,
        "norm_offsets": [0, 1, 2],
        "spin_score": 0.25,
        "is_spun": False,
        "quality_flags": ["short"],
        "removed": [{"rule": "boilerplate", "text": "广告"}],
        "n_chars": len(text),
        "run_id": "r",
    }


def sentences(i: int, n: int = 2) -> list[dict]:
    return [
        {"article_id": f"a{i:05d}", "sent_index": j, "start": j, "end": j + 1, "text": "句"}
        for j in range(n)
    ]


def batch(ids: range, source: str = "src/a.txt") -> dict[str, pa.Table]:
    return {
        "articles": schemas.to_table("articles", [article(i, source) for i in ids]),
        "sentences": schemas.to_table("sentences", [s for i in ids for s in sentences(i)]),
    }


def run_row(run_id: str) -> pa.Table:
    now = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    row = {"run_id": run_id, "started_at": now, "finished_at": now, "n_new": 1,
           "stage_seconds": {"ingest": 0.5}, "status": "ok"}
    return schemas.to_table("runs", [row])


def canon(table: pa.Table) -> pa.Table:
    """The rows in a fixed order, so tables compare regardless of part order."""
    flat = [f.name for f in table.schema if not pa.types.is_nested(f.type)]
    return table.sort_by([(name, "ascending") for name in flat]).combine_chunks()


def state(s: Store) -> dict[str, pa.Table]:
    return {name: canon(s.read(name)) for name in SCHEMAS}


def raw_state(root: Path) -> dict[str, pa.Table]:
    """What consumers reading the directories see; checks both reader styles agree."""
    out = {}
    for name, schema in SCHEMAS.items():
        directory = root / name
        if not directory.exists():
            out[name] = schema.empty_table()
            continue
        files = sorted(directory.glob("*.parquet"))
        assert files, f"{directory} has no part"
        by_glob = pa.concat_tables([pq.read_table(f) for f in files])
        by_dataset = ds.dataset(directory, format="parquet").to_table()
        assert by_dataset.schema.equals(schema) and by_glob.schema.equals(schema)
        assert canon(by_glob).equals(canon(by_dataset))
        out[name] = canon(by_dataset)
    return out


def same(a: dict[str, pa.Table], b: dict[str, pa.Table]) -> bool:
    return all(a[name].equals(b[name]) for name in SCHEMAS)


def expected_after(before: dict[str, pa.Table], add: dict, delete: dict) -> dict[str, pa.Table]:
    after = {}
    for name, table in before.items():
        if delete.get(name):
            keep = pc.invert(pc.is_in(table[KEYS[name]], pa.array(sorted(delete[name]))))
            table = table.filter(keep)
        if name in add:
            table = pa.concat_tables([table, add[name]])
        after[name] = canon(table)
    return after


def leftovers(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*")
        if p.name.startswith(".tmp-") or p.name in ("_journal.json", "_lock")
    )


def commit(s: Store, run_id: str, add: dict, delete: dict | None = None) -> None:
    with s.lock():
        s.commit(run_id, add, delete)


@pytest.fixture
def crash_at(monkeypatch):
    def arm(point: str) -> None:
        def hook(at: str) -> None:
            if at == point:
                raise Crash(at)

        monkeypatch.setattr(store, "_crash_hook", hook)

    return arm


def spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )


# -- reading and writing -------------------------------------------------------


def test_round_trip_with_the_real_schemas(tmp_path):
    s = Store(tmp_path / "out")
    add = {**batch(range(5)), "runs": run_row("run1")}
    commit(s, "run1", add)
    assert s.tables() == list(SCHEMAS)
    for name in SCHEMAS:
        got = s.read(name)
        assert got.schema.equals(SCHEMAS[name])
        want = add.get(name, SCHEMAS[name].empty_table())
        assert canon(got).equals(canon(want))
    assert s.read("articles", columns=["article_id"]).column_names == ["article_id"]
    assert same(raw_state(tmp_path / "out"), state(s))
    assert sorted(p.name for p in (tmp_path / "out/articles").iterdir()) == ["part-run1-0.parquet"]
    meta = json.loads((tmp_path / "out/_meta.json").read_text())
    assert meta["schema_version"] == schemas.SCHEMA_VERSION
    assert leftovers(tmp_path / "out") == []


def test_empty_tables_are_readable_before_and_after_the_first_commit(tmp_path):
    s = Store(tmp_path / "out")
    assert s.tables() == []
    assert s.read("runs").schema.equals(SCHEMAS["runs"]) and s.read("runs").num_rows == 0
    assert s.read("articles", columns=["title", "url"]).column_names == ["title", "url"]
    commit(s, "run1", {name: schemas.empty_table(name) for name in SCHEMAS})
    commit(s, "run2", {})  # nothing to do: no second empty part
    for name, schema in SCHEMAS.items():
        files = list((tmp_path / "out" / name).glob("*.parquet"))
        assert [f.name for f in files] == ["part-run1-0.parquet"]
        assert pq.read_table(files[0]).schema.equals(schema)
        assert ds.dataset(tmp_path / "out" / name).to_table().schema.equals(schema)
        assert s.read(name).num_rows == 0


def test_delete_by_key_rewrites_only_the_affected_parts(tmp_path):
    root = tmp_path / "out"
    s = Store(root)
    commit(s, "run1", batch(range(0, 10), "src/a.txt"))
    commit(s, "run2", batch(range(10, 15), "src/b.txt"))
    untouched = (root / "articles/part-run2-0.parquet").stat().st_ino
    changed = {"a00001", "a00002"}
    replacement = batch(range(1, 2), "src/a2.txt")
    commit(s, "run3", replacement, {"articles": changed, "sentences": changed})

    rows = s.read("articles", columns=["article_id", "source_path"]).to_pylist()
    sources = {row["article_id"]: row["source_path"] for row in rows}
    assert len(rows) == 14 and sorted(sources) == [f"a{i:05d}" for i in range(15) if i != 2]
    assert sources["a00001"] == "src/a2.txt" and sources["a00003"] == "src/a.txt"
    assert len(s.read("sentences")) == 2 * 14
    # run1's part became a filtered copy; run2's part was left alone.
    assert sorted(p.name for p in (root / "articles").iterdir()) == [
        "part-run2-0.parquet", "part-run3-0.parquet", "part-run3-1.parquet"]
    assert (root / "articles/part-run2-0.parquet").stat().st_ino == untouched


def test_deleting_every_row_leaves_an_empty_part(tmp_path):
    root = tmp_path / "out"
    s = Store(root)
    commit(s, "run1", batch(range(3)))
    commit(s, "run2", {}, {"articles": {"a00000", "a00001", "a00002"}})
    assert [p.name for p in (root / "articles").glob("*.parquet")] == ["part-run2-0.parquet"]
    assert raw_state(root)["articles"].num_rows == 0


def test_the_same_run_id_committing_twice_adds_new_parts(tmp_path):
    s = Store(tmp_path / "out")
    commit(s, "run1", batch(range(0, 2)))
    commit(s, "run1", batch(range(2, 4)))
    assert len(s.read("articles")) == 4
    assert sorted(p.name for p in (tmp_path / "out/articles").iterdir()) == [
        "part-run1-0.parquet", "part-run1-1.parquet"]


def test_bad_commits_are_refused_before_anything_is_written(tmp_path):
    root = tmp_path / "out"
    s = Store(root)
    with pytest.raises(StoreError, match="writer lock"):
        s.commit("run1", batch(range(1)))
    with s.lock():
        with pytest.raises(StoreError, match="missing"):
            s.commit("run1", {"articles": pa.table({"article_id": ["x"]})})
        with pytest.raises(StoreError, match="append-only"):
            s.commit("run1", {}, {"runs": {"run0"}})
        with pytest.raises(StoreError, match="unknown"):
            s.commit("run1", {"nope": pa.table({})})
        with pytest.raises(StoreError, match="run id"):
            s.commit("2024-05-01T10:00:00", {})
    assert s.tables() == [] and not (root / "_meta.json").exists()


# -- crashes -------------------------------------------------------------------


@pytest.mark.parametrize("first", [True, False], ids=["first-commit", "later-commit"])
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_crash_leaves_the_state_before_or_after(tmp_path, crash_at, point, first):
    root = tmp_path / "out"
    s = Store(root)
    if not first:
        commit(s, "run1", {**batch(range(0, 6)), "runs": run_row("run1")})
        commit(s, "run2", batch(range(6, 9), "src/b.txt"))
    before = state(s)
    add = {**batch(range(20, 23), "src/c.txt"), "runs": run_row("run3")}
    delete = {"articles": {"a00001", "a00007"}, "sentences": {"a00001", "a00007"}}
    after = expected_after(before, add, delete)

    crash_at(point)
    with pytest.raises(Crash):
        commit(s, "run3", add, delete)
    store._crash_hook = None

    # Straight after the crash: the files are valid and temporaries invisible to consumers,
    # and the store's own reader already shows one whole state.
    raw = raw_state(root)
    want = before if point == "after_temps" else after
    assert same(state(s), want)
    if point != "mid_apply":
        assert same(raw, before)
    # The next writer finishes or cleans up.
    with s.lock():
        pass
    assert same(raw_state(root), want) and same(state(s), want)
    assert leftovers(root) == []
    commit(s, "run4", batch(range(30, 31)))
    assert len(s.read("articles")) == len(want["articles"]) + 1


def test_recover_is_idempotent(tmp_path, crash_at):
    root = tmp_path / "out"
    s = Store(root)
    commit(s, "run1", batch(range(0, 4)))
    crash_at("mid_apply")
    with pytest.raises(Crash):
        commit(s, "run2", batch(range(4, 6)), {"articles": {"a00000"}})
    store._crash_hook = None
    journal = (root / "_journal.json").read_text()
    with s.lock():
        after = state(s)
        s.recover()
        # As if a recovery had crashed just before removing the journal.
        (root / "_journal.json").write_text(journal)
        s.recover()
        s.recover()
        assert same(state(s), after) and same(raw_state(root), after)
    assert leftovers(root) == []
    assert sorted(s.read("articles", columns=["article_id"])["article_id"].to_pylist()) == [
        f"a{i:05d}" for i in range(1, 6)]


def test_recover_needs_the_lock(tmp_path):
    with pytest.raises(StoreError, match="writer lock"):
        Store(tmp_path).recover()


# A large commit in a child that is SIGKILLed at random moments (the lock is taken inside
# the window too). The crash hook sleeps a little so kills also land in the short journal
# and apply steps.
CHILD_COMMIT = """
import json, sys, time
from pathlib import Path
import pyarrow.parquet as pq
from pipeline import store
from pipeline.store import Store

root, work = Path(sys.argv[1]), Path(sys.argv[2])
store._crash_hook = lambda point: time.sleep(0.02)
add = {p.stem: pq.read_table(p) for p in sorted((work / "add").glob("*.parquet"))}
delete = {name: set(keys) for name, keys in json.loads((work / "delete.json").read_text()).items()}
print("ready", flush=True)
s = Store(root)
with s.lock():
    s.commit("run3", add, delete)
"""


def _big_batch(ids: range, source: str) -> dict[str, pa.Table]:
    text = "华为昇腾910B芯片的量产进度备受关注，国产算力生态正在加速成形。" * 20
    return {
        "articles": schemas.to_table("articles", [article(i, source, text) for i in ids]),
        "sentences": schemas.to_table("sentences", [s for i in ids for s in sentences(i, 6)]),
    }


def test_sigkill_at_random_moments_never_half_writes(tmp_path):
    base = tmp_path / "base"
    s = Store(base)
    commit(s, "run1", _big_batch(range(0, 3000), "src/a.txt"))
    commit(s, "run2", _big_batch(range(3000, 6000), "src/b.txt"))
    before = state(s)
    add = {**_big_batch(range(6000, 9000), "src/c.txt"), "runs": run_row("run3")}
    gone = {f"a{i:05d}" for i in range(0, 6000, 3)}
    delete = {"articles": gone, "sentences": gone}
    after = expected_after(before, add, delete)
    (tmp_path / "add").mkdir()
    for name, table in add.items():
        pq.write_table(table, tmp_path / "add" / f"{name}.parquet")
    (tmp_path / "delete.json").write_text(json.dumps({k: sorted(v) for k, v in delete.items()}))

    def run_child(root: Path, kill_after: float | None) -> float:
        shutil.copytree(base, root)
        proc = spawn(CHILD_COMMIT, str(root), str(tmp_path))
        assert proc.stdout.readline().strip() == "ready"
        start = time.monotonic()
        if kill_after is not None:
            time.sleep(kill_after)
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return time.monotonic() - start

    # An undisturbed run tells how long the commit takes, and gives the after-state.
    span = run_child(tmp_path / "calibrate", None)
    assert same(state(Store(tmp_path / "calibrate")), after)

    rng = random.Random(20240501)
    kills = 8
    for i in range(kills):
        root = tmp_path / f"kill{i}"
        # Spread over the first 70%: the rest of the span is interpreter shutdown.
        run_child(root, span * 0.7 * (i + rng.random()) / kills)
        raw_state(root)  # every visible file is a valid part
        seen = state(Store(root))
        assert same(seen, before) or same(seen, after), f"kill {i}: half-written store"
        with Store(root).lock():
            pass
        assert same(raw_state(root), seen) and leftovers(root) == []
        commit(Store(root), "run4", batch(range(9000, 9001)))
        assert len(Store(root).read("articles")) == len(seen["articles"]) + 1
        shutil.rmtree(root)



# -- locking and refusals -----------------------------------------------------

HOLD_LOCK = """
import sys
from pipeline.store import Store
with Store(sys.argv[1]).lock():
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_a_live_holder_is_named_and_a_dead_one_is_taken_over(tmp_path):
    root = tmp_path / "out"
    holder = spawn(HOLD_LOCK, str(root))
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLocked) as refused:
            commit(Store(root), "run1", batch(range(1)))
        assert refused.value.pid == holder.pid
        message = str(refused.value)
        assert f"pid {holder.pid}" in message and str(root / "_lock") in message
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing: its lock is stale and taken over.
    assert (root / "_lock").exists()
    commit(Store(root), "run1", batch(range(1)))
    assert len(Store(root).read("articles")) == 1 and not (root / "_lock").exists()


def test_a_holder_that_exits_releases_the_lock(tmp_path):
    holder = spawn(HOLD_LOCK, str(tmp_path))
    assert holder.stdout.readline().strip() == "locked"
    holder.communicate("\n", timeout=10)
    assert holder.returncode == 0 and not (tmp_path / "_lock").exists()


def test_the_lock_excludes_a_second_writer_in_the_same_process(tmp_path):
    with Store(tmp_path).lock():
        with pytest.raises(StoreLocked, match=f"pid {os.getpid()}"):
            with Store(tmp_path).lock():
                pass


def _write_lock(root: Path, **fields) -> None:
    root.mkdir(exist_ok=True)
    info = {"pid": os.getpid(), "host": socket.gethostname(), "since": "2024-05-01T00:00:00+00:00",
            "proc_start": None, "token": "t"}
    (root / "_lock").write_text(json.dumps({**info, **fields}))


def test_a_lock_from_another_host_is_refused(tmp_path):
    _write_lock(tmp_path, host="elsewhere", pid=1)
    with pytest.raises(StoreLocked, match="another host") as refused:
        with Store(tmp_path).lock():
            pass
    assert refused.value.host == "elsewhere" and "pid 1 " in str(refused.value)


@pytest.mark.parametrize("garbage", ["", "{not json", '{"pid": 0}'])
def test_an_unreadable_lock_is_stale(tmp_path, garbage):
    tmp_path.joinpath("_lock").write_text(garbage)
    commit(Store(tmp_path), "run1", {})
    assert Store(tmp_path).tables() == list(SCHEMAS)


def test_a_reused_pid_does_not_keep_the_lock(tmp_path):
    # Our own pid, but a different process start time: the holder is gone.
    _write_lock(tmp_path, proc_start="1")
    commit(Store(tmp_path), "run1", {})
    assert not (tmp_path / "_lock").exists()


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    s = Store(tmp_path)
    commit(s, "run1", batch(range(1)))
    meta = {"format": "zhnews-store", "schema_version": 999}
    (tmp_path / "_meta.json").write_text(json.dumps(meta))
    with pytest.raises(StoreError, match="schema version 999"):
        commit(s, "run2", batch(range(1, 2)))
    assert len(s.read("articles")) == 1


def test_a_foreign_directory_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a zhnews store"):
        commit(Store(tmp_path), "run1", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    (tmp_path / "_meta.json").write_text(json.dumps({"format": "other", "schema_version": 1}))
    with pytest.raises(StoreError, match="not a zhnews store"):
        commit(Store(tmp_path), "run1", {})
