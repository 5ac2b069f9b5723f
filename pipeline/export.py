"""Publish a consistent copy of the datasets to any pyarrow filesystem URI.

The store itself needs a POSIX directory (its atomic commits rely on ``rename`` and its
lock on ``flock``; object stores have neither), so ``--out`` takes a local path or a
``file://`` URI. ``zhnews export --to s3://bucket/zhnews`` (or ``gs://``, ``hdfs://``,
``file://``) mirrors the committed parts there under the store's lock. Part files are
immutable and uniquely named, so an export copies only the parts the destination lacks,
then removes the parts the store no longer has: new parts land before old ones go, and a
reader of the destination sees every row at least once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs

from pipeline.store import Store


@dataclass(frozen=True)
class ExportResult:
    destination: str
    copied: int
    removed: int
    kept: int


def _remote_parts(fs: pafs.FileSystem, table_dir: str) -> dict[str, int]:
    selector = pafs.FileSelector(table_dir, allow_not_found=True)
    return {
        Path(info.path).name: info.size
        for info in fs.get_file_info(selector)
        if info.type == pafs.FileType.File and info.path.endswith(".parquet")
    }


def open_destination(destination: str) -> tuple[pafs.FileSystem, str]:
    if "://" in destination:
        return pafs.FileSystem.from_uri(destination)
    return pafs.LocalFileSystem(), str(Path(destination).resolve())


def export_store(out: str | Path, destination: str, filesystem: pafs.FileSystem | None = None) -> ExportResult:
    """Mirror every table of the store at ``out`` to ``destination``: a URI or local path, or
    a path inside ``filesystem`` when one is given."""
    fs, base = (filesystem, destination) if filesystem is not None else open_destination(destination)
    store = Store(out)
    copied = removed = kept = 0
    with store.lock():  # no commit may change the parts while they are copied
        local = pafs.LocalFileSystem()
        for table in store.tables():
            table_dir = f"{base.rstrip('/')}/{table}"
            fs.create_dir(table_dir, recursive=True)
            remote = _remote_parts(fs, table_dir)
            parts = store.committed_parts(table)
            for part in parts:
                if remote.get(part.name) == part.stat().st_size:
                    kept += 1
                    continue
                pafs.copy_files(str(part), f"{table_dir}/{part.name}", source_filesystem=local, destination_filesystem=fs)
                copied += 1
            for name in sorted(set(remote) - {p.name for p in parts}):
                fs.delete_file(f"{table_dir}/{name}")
                removed += 1
    return ExportResult(destination, copied, removed, kept)
