"""The inbox that ``zhnews serve`` watches: claim new files, archive or quarantine them.

A cycle moves every settled file from the inbox into ``archive/<date>/`` *before* it is
processed (a move is atomic, so two servers never take the same file and a killed cycle
leaves the file where the next one finds it in ``sources``); files that give no usable
article are then moved on to ``quarantine/`` and their ``sources``/``rejects`` rows name
that place.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import project_path
from pipeline.runner import SourceFile, SourceResult, recorded_path


@dataclass(frozen=True)
class InboxDirs:
    inbox: Path
    archive: Path
    quarantine: Path

    def create(self) -> None:
        for path in (self.inbox, self.archive, self.quarantine):
            path.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class ServeSettings:
    settle_seconds: float  # younger files may still be being copied in: next cycle
    retries: int  # of a file whose processing raised, before it is quarantined
    retry_backoff_seconds: float  # first retry delay; doubled on each further retry


def inbox_dirs(config: dict[str, Any], root: str | os.PathLike[str] | None = None) -> InboxDirs:
    """The three folders from ``configs/pipeline.yaml`` (relative ones under ``root`` or the project)."""
    paths = config["paths"]

    def place(key: str) -> Path:
        p = Path(paths[key])
        return p if p.is_absolute() else (Path(root) / p if root else project_path(p))

    return InboxDirs(place("inbox"), place("archive"), place("quarantine"))


def serve_settings(config: dict[str, Any]) -> ServeSettings:
    serve = config.get("serve") or {}
    return ServeSettings(
        settle_seconds=float(serve.get("settle_seconds", 5)),
        retries=int(serve.get("retries", 3)),
        retry_backoff_seconds=float(serve.get("retry_backoff_seconds", 10)),
    )


def ready_files(inbox: Path, settle_seconds: float, now: float | None = None) -> list[Path]:
    """Inbox files that are complete: not hidden or partial (``.part``, ``.tmp``) and not
    modified for ``settle_seconds``; oldest first."""
    now = time.time() if now is None else now
    found = []
    for path in inbox.rglob("*"):
        rel = path.relative_to(inbox).parts
        if not path.is_file() or any(p.startswith((".", "_")) for p in rel) or path.suffix in (".part", ".tmp"):
            continue
        mtime = path.stat().st_mtime
        if now - mtime >= settle_seconds:
            found.append((mtime, path))
    return [p for _, p in sorted(found)]


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        stem, suffix = os.path.splitext(name)
        target = folder / f"{stem}~{n}{suffix}"
        n += 1
    return target


def move_into(path: Path, folder: Path, today: dt.date | None = None) -> Path:
    """Move ``path`` into ``folder/<YYYY-MM-DD>/`` without overwriting anything."""
    day = (today or dt.datetime.now(dt.timezone.utc).date()).isoformat()
    dest_dir = folder / day
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = _free_name(dest_dir, path.name)
    os.replace(path, target)
    return target


def claim(dirs: InboxDirs, settle_seconds: float) -> list[Path]:
    """Move the settled inbox files into the archive; their new paths."""
    claimed = []
    for path in ready_files(dirs.inbox, settle_seconds):
        try:
            claimed.append(move_into(path, dirs.archive))
        except FileNotFoundError:  # another server claimed it first
            continue
    return claimed


def quarantine(result: SourceResult, dirs: InboxDirs) -> SourceResult:
    """Move a file that gave no article into quarantine; the result now names that place."""
    moved = move_into(Path(result.source.path), dirs.quarantine)
    recorded = recorded_path(moved)
    source = dataclasses.replace(result.source, path=str(moved), source_path=recorded)
    rejects = [dataclasses.replace(r, source_path=recorded) for r in result.rejects]
    return dataclasses.replace(result, source=source, rejects=rejects)
