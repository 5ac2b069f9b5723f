"""The atomic, incremental Parquet store: one directory of part files per table.

Layout under the root::

    _meta.json                      format marker + schema version
    _lock                           present while a writer holds the store
    _lock.guard                     flock'ed briefly to serialise taking/breaking the lock
    _journal.json                   present only while a commit is being applied
    <table>/part-<run_id>-<n>.parquet

Consumers read ``<table>/*.parquet`` directly (pyarrow.dataset, DuckDB, polars,
Spark), so anything in flight is named ``.tmp-<uuid>.<ext>.partial``: it never
matches ``*.parquet``, and dataset readers skip names starting with ``.``/``_``.

A commit writes its new parts as fsynced temporaries, publishes a journal naming
the renames (temp → final) and deletions with one atomic ``os.replace``, applies
it and removes it. A crash before the journal leaves only ignorable temporaries;
after it, :meth:`Store.recover` (run by every :meth:`Store.lock`) rolls the journal
forward, idempotently. So once the next writer has locked the store, every table
holds the state from before the commit or from after it. :meth:`Store.read`
already shows the after-state while a journal is pending; readers of the raw
directories can, only while a journal is being applied (or after a crash in that
step, until the next lock), see a rewritten part next to the one it replaces.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.schemas import KEYS, SCHEMA_VERSION, SCHEMAS

_FORMAT = "zhnews-store"
_META = "_meta.json"
_JOURNAL = "_journal.json"
_LOCK = "_lock"
_LOCK_GUARD = "_lock.guard"
_TMP = ".tmp-"
# Run ids become file names that Spark/Hadoop paths must accept: no ':' or '/'.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_READ_ATTEMPTS = 5

# Tests set this to simulate a crash; it is called with "after_temps",
# "after_journal" and "mid_apply" (after the journal's first rename).
_crash_hook: Callable[[str], None] | None = None


class StoreError(RuntimeError):
    """The store cannot be written as asked (wrong directory, version, rows or state)."""


class StoreLocked(StoreError):
    """Another live writer holds the store's lock."""

    def __init__(self, path: Path, pid: int, host: str, since: str) -> None:
        here = host == socket.gethostname()
        hint = (
            "wait for that run to finish"
            if here
            else f"it runs on another host; if it is dead there, delete {path}"
        )
        super().__init__(
            f"store is locked by pid {pid} on {host} since {since} (lock file {path}); {hint}"
        )
        self.path = path
        self.pid = pid
        self.host = host


def _checkpoint(point: str) -> None:
    if _crash_hook is not None:
        _crash_hook(point)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_name(ext: str) -> str:
    return f"{_TMP}{uuid.uuid4().hex}.{ext}.partial"


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.parent / _temp_name("json")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a Linux process; None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces or ')'; the fields after the last ')' don't.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], fields[19]


@dataclass(frozen=True)
class _LockInfo:
    pid: int
    host: str
    since: str
    proc_start: str | None  # tells a live holder from an unrelated process that reused its pid
    token: str  # so we only ever remove our own lock file

    @classmethod
    def mine(cls) -> _LockInfo:
        stat = _proc_stat(os.getpid())
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            since=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            proc_start=stat[1] if stat else None,
            token=uuid.uuid4().hex,
        )

    @classmethod
    def load(cls, path: Path) -> _LockInfo | None:
        """The holder named in ``path``; None when absent or unreadable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            info = cls(
                pid=int(data["pid"]),
                host=str(data["host"]),
                since=str(data["since"]),
                proc_start=data.get("proc_start"),
                token=str(data["token"]),
            )
        except (OSError, ValueError, TypeError, KeyError):
            # Missing, or garbled because its writer died between creating and filling it.
            return None
        return info if info.pid > 0 else None

    def alive(self) -> bool:
        """Whether the holder may still run (a holder on another host always may)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # exists, owned by another user
        stat = _proc_stat(self.pid)
        if stat is None:
            return True
        state, start = stat
        return state != "Z" and (self.proc_start is None or start == self.proc_start)


@dataclass
class _Journal:
    renames: list[tuple[str, str]] = field(default_factory=list)  # root-relative temp → final
    deletes: list[str] = field(default_factory=list)  # root-relative parts to remove

    def to_json(self) -> dict:
        return {"renames": [list(pair) for pair in self.renames], "deletes": self.deletes}

    @classmethod
    def from_json(cls, data: dict) -> _Journal:
        return cls(
            renames=[(str(tmp), str(final)) for tmp, final in data["renames"]],
            deletes=[str(rel) for rel in data["deletes"]],
        )


class _PartNames:
    """Hands out ``part-<run_id>-<n>.parquet`` names not yet used in one table."""

    def __init__(self, run_id: str, existing: set[str]) -> None:
        pattern = re.compile(rf"part-{re.escape(run_id)}-(\d+)\.parquet")
        used = [int(m.group(1)) for name in existing if (m := pattern.fullmatch(name))]
        self._run_id = run_id
        self._next = max(used, default=-1) + 1

    def take(self) -> str:
        name = f"part-{self._run_id}-{self._next}.parquet"
        self._next += 1
        return name


def _conform(table: str, data: pa.Table) -> pa.Table:
    schema = SCHEMAS[table]
    missing = sorted(set(schema.names) - set(data.column_names))
    extra = sorted(set(data.column_names) - set(schema.names))
    if missing or extra:
        raise StoreError(
            f"rows for {table!r} do not match its schema: missing {missing}, unexpected {extra}"
        )
    try:
        return data.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise StoreError(f"rows for {table!r} do not fit its schema: {exc}") from exc


def local_root(root: str | os.PathLike) -> Path:
    """A store directory from a path or ``file://`` URI; other URIs are refused with the way out."""
    text = os.fspath(root)
    if text.startswith("file://"):
        return Path(text[len("file://") :])
    if "://" in text:
        raise StoreError(
            f"{text}: the store needs a local or mounted POSIX directory (atomic rename, file locks); "
            "write to a local --out and publish with `zhnews export --to URI`"
        )
    return Path(text)


class Store:
    """A local directory of Parquet tables, one per entry of ``SCHEMAS``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = local_root(root)
        self._held: _LockInfo | None = None

    # -- reading ---------------------------------------------------------------

    def tables(self) -> list[str]:
        """The tables that exist on disk (all of ``SCHEMAS`` after the first commit)."""
        return [name for name in SCHEMAS if (self.root / name).is_dir()]

    def read(self, table: str, columns: list[str] | None = None) -> pa.Table:
        """Every row of ``table``, as of the last commit (a pending journal counts)."""
        if table not in SCHEMAS:
            raise StoreError(f"unknown table {table!r}; known: {sorted(SCHEMAS)}")
        for _ in range(_READ_ATTEMPTS - 1):
            try:
                return self._read_once(table, columns)
            except FileNotFoundError:
                # A concurrent commit renamed or removed a part between listing and reading.
                time.sleep(0.05)
        return self._read_once(table, columns)

    def _read_once(self, table: str, columns: list[str] | None) -> pa.Table:
        schema = SCHEMAS[table]
        paths = self._visible(table)
        if not paths:
            empty = schema.empty_table()
            return empty.select(columns) if columns is not None else empty
        # The explicit schema also fills columns added since older parts were written.
        dataset = ds.dataset([str(p) for p in paths], schema=schema, format="parquet")
        return dataset.to_table(columns=columns)

    def committed_parts(self, table: str) -> list[Path]:
        """The part files of ``table`` as of the last commit (hold the lock for a stable list)."""
        return self._visible(table)

    def _parts(self, table: str) -> list[Path]:
        directory = self.root / table
        if not directory.is_dir():
            return []
        return sorted(
            p
            for p in directory.iterdir()
            if p.name.endswith(".parquet") and p.name[0] not in "._" and p.is_file()
        )

    def _visible(self, table: str) -> list[Path]:
        parts = {f"{table}/{p.name}": p for p in self._parts(table)}
        journal = self._read_journal()
        if journal is not None:
            for rel in journal.deletes:
                parts.pop(rel, None)
            for tmp, final in journal.renames:
                if final.startswith(f"{table}/"):
                    done = self.root / final
                    parts[final] = done if done.exists() else self.root / tmp
        return sorted(parts.values())

    # -- locking ---------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the exclusive writer lock; finishes or cleans up a crashed commit first."""
        self._check_store()
        self.root.mkdir(parents=True, exist_ok=True)
        held = self._acquire()
        self._held = held
        try:
            self.recover()
            yield
        finally:
            self._held = None
            self._release(held)

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        # Checking, breaking and creating the lock file happen under this flock, so two
        # writers can't both break the same stale lock, and a lock file found empty or
        # garbled was left by a writer that died while creating it.
        fd = os.open(self.root / _LOCK_GUARD, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _acquire(self) -> _LockInfo:
        path = self.root / _LOCK
        mine = _LockInfo.mine()
        with self._guard():
            if path.exists():
                holder = _LockInfo.load(path)
                if holder is not None and holder.alive():
                    raise StoreLocked(path, holder.pid, holder.host, holder.since)
                path.unlink()  # stale: its holder is dead
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(asdict(mine), fh)
                fh.flush()
                os.fsync(fh.fileno())
        return mine

    def _release(self, held: _LockInfo) -> None:
        path = self.root / _LOCK
        with self._guard():
            holder = _LockInfo.load(path)
            if holder is not None and holder.token == held.token:
                path.unlink()

    def _check_held(self) -> None:
        if self._held is None:
            raise StoreError("writing needs the writer lock: use `with store.lock(): ...`")
        holder = _LockInfo.load(self.root / _LOCK)
        if holder is None or holder.token != self._held.token:
            raise StoreError(f"lost the writer lock {self.root / _LOCK} (removed by hand?)")

    def _check_store(self) -> None:
        """Refuse a foreign directory, or a store written under another schema version."""
        meta = self.root / _META
        if meta.exists():
            try:
                data = json.loads(meta.read_text(encoding="utf-8"))
                fmt, version = data["format"], data["schema_version"]
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise StoreError(f"{meta} is unreadable: {exc}") from exc
            if fmt != _FORMAT:
                raise StoreError(f"{self.root} is not a zhnews store ({meta} says {fmt!r})")
            if version != SCHEMA_VERSION:
                raise StoreError(
                    f"{self.root} was written with schema version {version}, this zhnews "
                    f"writes version {SCHEMA_VERSION}: write to a new output directory"
                )
        elif self.root.exists():
            foreign = sorted(
                p.name
                for p in self.root.iterdir()
                if p.name not in (_LOCK, _LOCK_GUARD) and not p.name.startswith(_TMP)
            )
            if foreign:
                raise StoreError(
                    f"{self.root} is not empty and not a zhnews store (no {_META}; "
                    f"contains {foreign[:5]}); refusing to write into it"
                )

    # -- writing ---------------------------------------------------------------

    def recover(self) -> None:
        """Roll a complete journal forward, then delete stray temporaries (needs the lock)."""
        self._check_held()
        journal = self._read_journal()
        if journal is not None:
            self._apply(journal)
        for directory in (self.root, *(self.root / name for name in SCHEMAS)):
            if directory.is_dir():
                for path in directory.iterdir():
                    if path.name.startswith(_TMP):
                        path.unlink()

    def commit(
        self,
        run_id: str,
        add: dict[str, pa.Table],
        delete: dict[str, set[str]] | None = None,
    ) -> None:
        """Atomically drop the rows whose key is in ``delete[table]`` and append ``add[table]``.

        Also makes sure every table has a directory holding at least one part.
        """
        self._check_held()
        delete = delete or {}
        if not _RUN_ID.fullmatch(run_id):
            raise StoreError(f"run id {run_id!r} must match {_RUN_ID.pattern}")
        unknown = sorted((set(add) | set(delete)) - set(SCHEMAS))
        if unknown:
            raise StoreError(f"unknown tables {unknown}; known: {sorted(SCHEMAS)}")
        for table, keys in delete.items():
            if keys and KEYS[table] is None:
                raise StoreError(f"table {table!r} is append-only: nothing can be deleted from it")
        rows = {table: _conform(table, data) for table, data in add.items()}

        if not (self.root / _META).exists():
            _write_json_atomic(
                self.root / _META, {"format": _FORMAT, "schema_version": SCHEMA_VERSION}
            )
        journal = _Journal()
        for table in SCHEMAS:
            self._stage_table(table, run_id, rows.get(table), delete.get(table, set()), journal)
        if not (journal.renames or journal.deletes):
            return
        _checkpoint("after_temps")
        _write_json_atomic(self.root / _JOURNAL, journal.to_json())
        _checkpoint("after_journal")
        self._apply(journal)

    def _stage_table(
        self,
        table: str,
        run_id: str,
        rows: pa.Table | None,
        drop: set[str],
        journal: _Journal,
    ) -> None:
        """Write this table's new parts as temporaries and note them in ``journal``."""
        parts = self._parts(table)
        names = _PartNames(run_id, {p.name for p in parts})
        staged = len(journal.renames)
        kept = len(parts)
        key = KEYS[table]
        if drop and key is not None:
            values = pa.array(sorted(drop), pa.string())
            for part in parts:
                if not pc.any(pc.is_in(pq.read_table(part, columns=[key])[key], values)).as_py():
                    continue
                data = ds.dataset(str(part), schema=SCHEMAS[table], format="parquet").to_table()
                rest = data.filter(pc.invert(pc.is_in(data[key], values)))
                journal.deletes.append(f"{table}/{part.name}")
                kept -= 1
                if rest.num_rows:
                    self._stage(table, names.take(), rest, journal)
        if rows is not None and rows.num_rows:
            self._stage(table, names.take(), rows, journal)
        if kept == 0 and len(journal.renames) == staged:
            # Readers get the schema from the files, so a table never goes without a part.
            self._stage(table, names.take(), SCHEMAS[table].empty_table(), journal)

    def _stage(self, table: str, name: str, data: pa.Table, journal: _Journal) -> None:
        directory = self.root / table
        # A new table's first part waits in the root, so its directory never exists empty.
        home = directory if directory.is_dir() else self.root
        tmp = home / _temp_name("parquet")
        pq.write_table(data, tmp)
        _fsync_file(tmp)
        journal.renames.append((tmp.relative_to(self.root).as_posix(), f"{table}/{name}"))

    def _read_journal(self) -> _Journal | None:
        path = self.root / _JOURNAL
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return _Journal.from_json(json.loads(text))
        except (ValueError, TypeError, KeyError) as exc:
            # Written by os.replace, so it can't be torn: something else damaged it.
            raise StoreError(f"{path} is corrupt ({exc}); the store needs manual repair") from exc

    def _apply(self, journal: _Journal) -> None:
        """Carry out ``journal``; safe to repeat after a crash part-way through."""
        touched = {self.root}
        for i, (tmp, final) in enumerate(journal.renames):
            src, dst = self.root / tmp, self.root / final
            if src.exists():
                dst.parent.mkdir(exist_ok=True)
                os.replace(src, dst)
            elif not dst.exists():
                raise StoreError(
                    f"{self.root / _JOURNAL} names {tmp} → {final} but neither exists; "
                    "the store needs manual repair"
                )
            touched.update((src.parent, dst.parent))
            if i == 0:
                _checkpoint("mid_apply")
        for rel in journal.deletes:
            path = self.root / rel
            path.unlink(missing_ok=True)
            touched.add(path.parent)
        # The renames and deletions must be durable before the journal that redoes them goes.
        for directory in touched:
            _fsync_dir(directory)
        (self.root / _JOURNAL).unlink()
        _fsync_dir(self.root)
