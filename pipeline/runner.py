"""A run: find input files, process only new or changed ones, commit atomically.

The three steps are separate functions (``plan_run``, ``process_source``,
``commit_batch``) so that the Prefect flow can wire them as tasks and the local
loop (``run_corpus``) can call them directly.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from pipeline import __version__
from pipeline.config import DATA_DIR, PROJECT_ROOT, load_config, project_path
from pipeline.ids import article_id, content_key, file_sha256
from pipeline.model import ArticleDoc, RawArticle, Reject

SAMPLE_CORPUS = DATA_DIR / "sample_corpus"
ARTICLE_TABLES = ("articles", "sentences", "spin_edits", "mentions", "quantities", "claims", "stance", "fingerprints")


@dataclass(frozen=True)
class SourceFile:
    path: str  # where to read it
    source_path: str  # how it is recorded (relative to the project when inside it)
    sha256: str
    size: int


@dataclass
class RunPlan:
    run_id: str
    started_at: dt.datetime
    todo: list[SourceFile]
    unchanged: list[SourceFile]
    unchanged_articles: int
    skipped: list[Reject] = field(default_factory=list)  # paths we could not even hash


@dataclass
class SourceResult:
    source: SourceFile
    docs: list[ArticleDoc]
    rejects: list[Reject]
    seconds: dict[str, float]
    chars: int


@dataclass
class RunSummary:
    run_id: str
    n_files: int
    n_new: int
    n_unchanged: int
    n_failed: int
    n_removed: int
    seconds: dict[str, float]
    chars: int
    status: str

    def describe(self) -> str:
        if self.n_files == 0 and self.n_failed == 0:
            return f"nothing new; {self.n_unchanged} article(s) unchanged"
        return (
            f"run {self.run_id}: {self.n_files} file(s) processed, {self.n_new} new article(s), "
            f"{self.n_unchanged} unchanged, {self.n_removed} removed, {self.n_failed} reject(s)"
        )


def new_run_id(now: dt.datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def supported_extensions() -> tuple[str, ...]:
    return tuple(load_config("ingest")["extensions"])


def discover(inputs: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[Reject]]:
    """Files to consider: given files as they are, directories walked (hidden ones skipped)."""
    exts = supported_extensions()
    files: list[Path] = []
    missing: list[Reject] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for sub in sorted(p.rglob("*")):
                rel = sub.relative_to(p).parts
                if sub.is_file() and not any(part.startswith((".", "_")) for part in rel) and sub.suffix.lower() in exts:
                    files.append(sub)
        elif p.is_file():
            files.append(p)
        else:
            missing.append(Reject(storable_path(str(p)), "not_found", "no such file or directory"))
    seen: set[Path] = set()
    unique = [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]
    return unique, missing


def recorded_path(path: Path) -> str:
    resolved = path.resolve()
    try:
        text = resolved.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        text = str(resolved)
    return storable_path(text)


def storable_path(text: str) -> str:
    """A path as Parquet can store it: a name that is not UTF-8 (say GBK, from a zip made on
    Windows) arrives with surrogates, so its raw bytes are written escaped (``\\xd0``) instead."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def _hash_file(path: Path) -> tuple[str, int]:
    import hashlib

    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def plan_run(store, inputs: Iterable[str | os.PathLike[str]]) -> RunPlan:
    started = dt.datetime.now(dt.timezone.utc)
    files, skipped = discover(inputs)
    known = {}
    sources = store.read("sources", columns=["source_path", "sha256", "article_ids"]).to_pylist()
    for row in sources:
        known[row["source_path"]] = row
    todo, unchanged, unchanged_ids = [], [], set()
    for path in files:
        try:
            sha, size = _hash_file(path)
        except OSError as exc:
            skipped.append(Reject(recorded_path(path), "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}"))
            continue
        src = SourceFile(str(path), recorded_path(path), sha, size)
        prev = known.get(src.source_path)
        if prev is not None and prev["sha256"] == sha:
            unchanged.append(src)
            unchanged_ids.update(prev["article_ids"] or [])
        else:
            todo.append(src)
    return RunPlan(new_run_id(started), started, todo, unchanged, len(unchanged_ids), skipped)


def prepare_article(raw: RawArticle) -> ArticleDoc:
    """Normalize, then give the article its content id."""
    from pipeline.normalize import normalize

    normalized = normalize(raw.text)
    return ArticleDoc(article_id(normalized.text), raw, normalized, text_final=normalized.text)


def process_source(src: SourceFile) -> SourceResult:
    """Everything per file: ingest, normalize, then each registered stage per article."""
    from pipeline.ingest import ingest_bytes, ingest_file, max_file_bytes
    from pipeline.stages import STAGES

    seconds: dict[str, float] = defaultdict(float)
    t = time.perf_counter()
    if src.size > max_file_bytes():
        ingested = ingest_file(src.path, src.source_path)
    else:
        data = Path(src.path).read_bytes()
        ingested = ingest_bytes(data, src.source_path, Path(src.path).suffix)
    seconds["ingest"] += time.perf_counter() - t
    docs: list[ArticleDoc] = []
    rejects = list(ingested.rejects)
    chars = 0
    for raw in ingested.articles:
        t = time.perf_counter()
        doc = prepare_article(raw)
        seconds["normalize"] += time.perf_counter() - t
        chars += len(raw.text)
        for stage in STAGES:
            t = time.perf_counter()
            try:
                stage.run(doc)
            except Exception as exc:  # one bad article must not stop the run
                rejects.append(Reject(src.source_path, f"stage_error:{stage.name}", f"{type(exc).__name__}: {exc}"))
                doc = None
                break
            finally:
                seconds[stage.name] += time.perf_counter() - t
        if doc is not None:
            docs.append(doc)
    return SourceResult(src, docs, rejects, dict(seconds), chars)


def failed_result(src: SourceFile, error: BaseException) -> SourceResult:
    """The result of a file whose processing raised (after any retries): no articles, one
    ``failed`` reject, so that one file never stops a run."""
    detail = f"{type(error).__name__}: {error}"[:500]
    return SourceResult(src, [], [Reject(src.source_path, "failed", detail)], {}, 0)


def process_or_reject(src: SourceFile) -> SourceResult:
    try:
        return process_source(src)
    except Exception as exc:
        return failed_result(src, exc)


def commit_batch(
    store,
    plan: RunPlan,
    results: list[SourceResult],
    totals: dict[str, Any],
    final: bool,
) -> None:
    """Write one batch of results atomically (and the run's row when ``final``)."""
    from pipeline import schemas
    from pipeline.dedupe import Fingerprinter
    from pipeline.stages import STAGES, article_row

    t = time.perf_counter()
    run_id = plan.run_id
    processed = {r.source.source_path for r in results}
    sources = {row["source_path"]: row for row in store.read("sources").to_pylist()}
    others = {i for p, row in sources.items() if p not in processed for i in (row["article_ids"] or [])}
    old = {i for p in processed if p in sources for i in (sources[p]["article_ids"] or [])}
    delete_ids = old - others
    present = set(store.read("articles", columns=["article_id"]).column("article_id").to_pylist()) - delete_ids

    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    fingerprinter = Fingerprinter.from_store(store, exclude=delete_ids)
    produced: set[str] = set()
    for res in results:
        ids = []
        for doc in res.docs:
            ids.append(doc.article_id)
            if doc.article_id in present or doc.article_id in produced:
                totals["n_unchanged"] += 1
                continue
            produced.add(doc.article_id)
            row = article_row(doc, run_id)
            dup_of, signature = fingerprinter.check(doc.article_id, content_key(doc.text_final))
            if dup_of:
                row["near_duplicate_of"] = dup_of
                row["quality_flags"].append("near_duplicate")
            rows["articles"].append(row)
            rows["fingerprints"].append({"article_id": doc.article_id, "minhash": signature})
            for stage in STAGES:
                for table, stage_rows in stage.rows(doc).items():
                    rows[table].extend(stage_rows)
        status = "ok" if res.docs else "rejected"
        rows["sources"].append(
            {"source_path": res.source.source_path, "sha256": res.source.sha256, "size": res.source.size,
             "article_ids": sorted(set(ids)), "status": status, "run_id": run_id}
        )
        for rej in res.rejects:
            rows["rejects"].append({"source_path": rej.source_path, "reason": rej.reason, "detail": rej.detail, "run_id": run_id})
        totals["n_failed"] += len(res.rejects)
        totals["chars"] += res.chars
        for stage, secs in res.seconds.items():
            totals["seconds"][stage] += secs
    if final:
        for rej in plan.skipped:
            rows["rejects"].append({"source_path": rej.source_path, "reason": rej.reason, "detail": rej.detail, "run_id": run_id})
        totals["n_failed"] += len(plan.skipped)
    totals["n_new"] += len(produced)
    totals["n_removed"] += len(delete_ids - produced)
    totals["seconds"]["write"] += time.perf_counter() - t
    if final:
        rows["runs"].append(_run_row(plan, totals))
    rows["entities"], old_entities = _entities_after(store, delete_ids, rows["mentions"])
    delete: dict[str, set[str]] = {t: delete_ids for t in ARTICLE_TABLES}
    delete["entities"] = old_entities
    delete["sources"] = processed
    delete["rejects"] = processed | ({r.source_path for r in plan.skipped} if final else set())
    store.commit(run_id, {name: schemas.to_table(name, r) for name, r in rows.items()}, delete)


def _entities_after(store, deleted: set[str], new_mentions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[str]]:
    """The corpus-level entity table recomputed over surviving and new mentions,
    and the ids of the rows it replaces."""
    from pipeline.entities.stage import aggregate_entity_rows

    kept = [r for r in store.read("mentions").to_pylist() if r["article_id"] not in deleted]
    old = set(store.read("entities", columns=["entity_id"]).column("entity_id").to_pylist())
    return aggregate_entity_rows(kept + new_mentions), old


def _run_row(plan: RunPlan, totals: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": plan.run_id,
        "started_at": plan.started_at,
        "finished_at": dt.datetime.now(dt.timezone.utc),
        "n_new": totals["n_new"],
        "n_unchanged": totals["n_unchanged"],
        "n_failed": totals["n_failed"],
        "n_removed": totals["n_removed"],
        "n_files": len(plan.todo),
        "stage_seconds": {k: round(v, 4) for k, v in sorted(totals["seconds"].items())},
        "chars": totals["chars"],
        "status": "ok",
        "pipeline_version": __version__,
    }


def new_totals(plan: RunPlan) -> dict[str, Any]:
    return {"n_new": 0, "n_unchanged": plan.unchanged_articles, "n_failed": 0, "n_removed": 0, "chars": 0,
            "seconds": defaultdict(float)}


def summary(plan: RunPlan, totals: dict[str, Any]) -> RunSummary:
    return RunSummary(plan.run_id, len(plan.todo), totals["n_new"], totals["n_unchanged"], totals["n_failed"],
                      totals["n_removed"], dict(totals["seconds"]), totals["chars"], "ok")


def batches(items: list[SourceFile], size: int) -> list[list[SourceFile]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def default_out_dir() -> Path:
    return project_path(load_config("pipeline")["paths"]["outputs"])


def run_corpus(
    inputs: Iterable[str | os.PathLike[str]] | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
    batch_size: int | None = None,
) -> RunSummary:
    """The whole run without Prefect: plan, process file by file, commit per batch."""
    from pipeline.progress import Progress
    from pipeline.store import Store

    store = Store(out or default_out_dir())
    with store.lock():
        plan = plan_run(store, list(inputs) if inputs else [SAMPLE_CORPUS])
        totals = new_totals(plan)
        size = batch_size or int(load_config("pipeline")["run"]["batch_size"])
        meter = Progress(len(plan.todo), progress or _stderr)
        groups = batches(plan.todo, size)
        for n, group in enumerate(groups):
            results = []
            for src in group:
                results.append(process_or_reject(src))
                meter.step(src.source_path, results[-1].chars)
            commit_batch(store, plan, results, totals, final=n == len(groups) - 1)
        return summary(plan, totals)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
