"""The corpus flow: plan → process the new/changed files (a few per task) → commit per batch.

Processing tasks run on the configured task runner: threads in one process, or Dask workers
(``run.task_runner: dask``; a local cluster, or the scheduler at ``run.dask_address``).
Commits always happen here, in the flow, so workers never write datasets.
"""

from __future__ import annotations

import logging
import pickle
from typing import Callable

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline import runner
from pipeline.config import load_config
from pipeline.progress import Progress
from pipeline.store import Store

# One "Finished in state Completed()" line per file drowns the progress lines.
logging.getLogger("prefect.task_runs").setLevel(logging.WARNING)


@task(name="process-source", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def process_source_task(src: runner.SourceFile) -> runner.SourceResult:
    """One file alone, with retries: for the files of a ``process-sources`` task that raised."""
    return runner.process_source(src)


@task(name="process-sources", cache_policy=NO_CACHE)
def process_sources_task(srcs: list[runner.SourceFile]) -> bytes:
    """Several files in one task (Prefect's bookkeeping costs ~0.3 s of CPU per task).
    The results travel pickled: Prefect walks a task's return value and the arguments of
    the next task object by object, which for whole documents costs more than the NLP."""
    return pickle.dumps([runner.process_source(src) for src in srcs], protocol=pickle.HIGHEST_PROTOCOL)


@task(name="commit-batch", cache_policy=NO_CACHE)
def commit_batch_task(store: Store, plan: runner.RunPlan, results: bytes, totals: dict, final: bool) -> dict:
    runner.commit_batch(store, plan, pickle.loads(results), totals, final)
    return totals


def task_runner(workers: int | None = None, dask_address: str | None = None):
    """The task runner of ``configs/pipeline.yaml`` (``run.task_runner``, ``run.workers``,
    ``run.dask_address``), overridden by the arguments. Several workers mean Dask
    processes: threads would share one GIL."""
    cfg = load_config("pipeline")["run"]
    workers = int(workers or cfg.get("workers") or 1)
    address = dask_address or cfg.get("dask_address")
    kind = cfg.get("task_runner", "auto")
    if kind == "auto":
        kind = "dask" if workers > 1 else "threads"
    if address or kind == "dask":
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        # Processes, one thread each: the NLP stages hold the GIL.
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                            "dashboard_address": None, "silence_logs": logging.WARNING}
        )
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=workers)


def process_and_commit(
    store: Store,
    plan: runner.RunPlan,
    process=process_source_task,
    settle: Callable[[runner.SourceResult], runner.SourceResult] | None = None,
    batch_size: int | None = None,
) -> runner.RunSummary:
    """Submit the plan's files batch by batch, ``run.files_per_task`` files per task; when
    such a task raises, its files go again one per task through ``process`` (with its
    retries), so that only a file that keeps failing becomes a ``failed`` reject. Then
    ``settle`` places each result and every batch is committed."""
    logger = get_run_logger()
    logger.info("%d file(s) to process, %d unchanged", len(plan.todo), len(plan.unchanged))
    run_cfg = load_config("pipeline")["run"]
    per_task = max(1, int(run_cfg.get("files_per_task", 1)))
    totals = runner.new_totals(plan)
    meter = Progress(len(plan.todo), logger.info)

    def one_by_one(chunk: list[runner.SourceFile]) -> list[runner.SourceResult]:
        out = []
        for src, fut in zip(chunk, [process.submit(src) for src in chunk]):
            try:
                out.append(fut.result())
            except Exception as exc:
                logger.warning("%s failed after retries: %s", src.source_path, exc)
                out.append(runner.failed_result(src, exc))
        return out

    groups = runner.batches(plan.todo, batch_size or int(run_cfg["batch_size"]))
    for n, group in enumerate(groups):
        chunks = [group[i : i + per_task] for i in range(0, len(group), per_task)]
        futures = [process_sources_task.submit(chunk) for chunk in chunks]
        results = []
        for chunk, fut in zip(chunks, futures):
            try:
                chunk_results = pickle.loads(fut.result())
            except Exception:
                chunk_results = one_by_one(chunk)
            for result in chunk_results:
                results.append(settle(result) if settle else result)
                meter.step(result.source.source_path, result.chars)
        payload = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        totals = commit_batch_task(store, plan, payload, totals, final=n == len(groups) - 1)
    summary = runner.summary(plan, totals)
    logger.info(summary.describe())
    return summary


@flow(name="zhnews-corpus", log_prints=True)
def corpus_flow(inputs: list[str] | None = None, out: str | None = None, batch_size: int | None = None) -> runner.RunSummary:
    store = Store(out or runner.default_out_dir())
    with store.lock():
        plan = runner.plan_run(store, inputs or [runner.SAMPLE_CORPUS])
        return process_and_commit(store, plan, batch_size=batch_size)
