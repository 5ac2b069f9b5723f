"""The inbox of ``zhnews serve`` without Prefect: which files are ready, claiming, quarantine."""

import os
import time

from pipeline import inbox
from pipeline.model import Reject
from pipeline.runner import SourceFile, SourceResult, failed_result


def _dirs(tmp_path) -> inbox.InboxDirs:
    dirs = inbox.InboxDirs(tmp_path / "inbox", tmp_path / "archive", tmp_path / "quarantine")
    dirs.create()
    return dirs


def _age(path, seconds):
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_only_settled_complete_visible_files_are_ready(tmp_path):
    dirs = _dirs(tmp_path)
    (dirs.inbox / "old.txt").write_text("甲", encoding="utf-8")
    (dirs.inbox / "fresh.txt").write_text("乙", encoding="utf-8")
    (dirs.inbox / "copying.txt.part").write_text("丙", encoding="utf-8")
    (dirs.inbox / ".hidden.txt").write_text("丁", encoding="utf-8")
    (dirs.inbox / "sub dir 子目录").mkdir()
    (dirs.inbox / "sub dir 子目录" / "深.html").write_text("<p>戊</p>", encoding="utf-8")
    for name in ("old.txt", "copying.txt.part", ".hidden.txt", "sub dir 子目录/深.html"):
        _age(dirs.inbox / name, 60)
    _age(dirs.inbox / "old.txt", 120)  # oldest first
    ready = inbox.ready_files(dirs.inbox, settle_seconds=5)
    assert [p.relative_to(dirs.inbox).as_posix() for p in ready] == ["old.txt", "sub dir 子目录/深.html"]


def test_claim_moves_into_a_dated_archive_without_overwriting(tmp_path):
    dirs = _dirs(tmp_path)
    (dirs.inbox / "a.txt").write_text("第一版", encoding="utf-8")
    _age(dirs.inbox / "a.txt", 60)
    first = inbox.claim(dirs, settle_seconds=5)
    (dirs.inbox / "a.txt").write_text("第二版", encoding="utf-8")
    _age(dirs.inbox / "a.txt", 60)
    second = inbox.claim(dirs, settle_seconds=5)
    assert len(first) == len(second) == 1 and first[0] != second[0]
    assert first[0].parent == second[0].parent and first[0].parent.parent == dirs.archive
    assert (first[0].read_text(encoding="utf-8"), second[0].read_text(encoding="utf-8")) == ("第一版", "第二版")
    assert list(dirs.inbox.iterdir()) == []
    assert inbox.claim(dirs, settle_seconds=5) == []


def test_quarantine_moves_the_file_and_renames_its_rows(tmp_path):
    dirs = _dirs(tmp_path)
    path = dirs.archive / "bad.txt"
    path.write_bytes(b"\x00\x01")
    src = SourceFile(str(path), str(path), "0" * 64, 2)
    result = SourceResult(src, [], [Reject(str(path), "binary", "contains NUL bytes")], {}, 0)
    moved = inbox.quarantine(result, dirs)
    assert not path.exists()
    new_path = moved.source.path
    assert os.path.exists(new_path) and new_path.startswith(str(dirs.quarantine))
    assert [r.source_path for r in moved.rejects] == [moved.source.source_path]
    assert moved.source.source_path.endswith("bad.txt") and moved.rejects[0].reason == "binary"


def test_a_raising_file_becomes_a_failed_reject():
    src = SourceFile("x.txt", "x.txt", "0" * 64, 1)
    result = failed_result(src, MemoryError("out of memory"))
    assert result.docs == [] and [(r.reason, r.detail) for r in result.rejects] == [("failed", "MemoryError: out of memory")]


def test_settings_and_dirs_come_from_the_config(tmp_path):
    config = {"paths": {"inbox": "in", "archive": str(tmp_path / "arch"), "quarantine": "q"},
              "serve": {"settle_seconds": 1, "retries": 2, "retry_backoff_seconds": 3}}
    dirs = inbox.inbox_dirs(config, root=tmp_path / "root")
    assert dirs == inbox.InboxDirs(tmp_path / "root" / "in", tmp_path / "arch", tmp_path / "root" / "q")
    assert inbox.serve_settings(config) == inbox.ServeSettings(1.0, 2, 3.0)
    assert inbox.serve_settings({"paths": {}}) == inbox.ServeSettings(5.0, 3, 10.0)
