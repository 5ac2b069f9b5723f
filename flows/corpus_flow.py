"""The corpus flow: plan → process each new/changed file (a task each) → commit per batch."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline import runner
from pipeline.config import load_config
from pipeline.progress import Progress
from pipeline.store import Store


@task(name="process-source", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def process_source_task(src: runner.SourceFile) -> runner.SourceResult:
    return runner.process_source(src)


@task(name="commit-batch", cache_policy=NO_CACHE)
def commit_batch_task(store: Store, plan: runner.RunPlan, results: list[runner.SourceResult], totals: dict, final: bool) -> dict:
    runner.commit_batch(store, plan, results, totals, final)
    return totals


@flow(name="zhnews-corpus", log_prints=True)
def corpus_flow(inputs: list[str] | None = None, out: str | None = None) -> runner.RunSummary:
    logger = get_run_logger()
    store = Store(out or runner.default_out_dir())
    with store.lock():
        plan = runner.plan_run(store, inputs or [runner.SAMPLE_CORPUS])
        logger.info("%d file(s) to process, %d unchanged", len(plan.todo), len(plan.unchanged))
        totals = runner.new_totals(plan)
        meter = Progress(len(plan.todo), logger.info)
        groups = runner.batches(plan.todo, int(load_config("pipeline")["run"]["batch_size"]))
        for n, group in enumerate(groups):
            futures = [process_source_task.submit(src) for src in group]
            results = []
            for src, fut in zip(group, futures):
                results.append(fut.result())
                meter.step(src.source_path, results[-1].chars)
            totals = commit_batch_task(store, plan, results, totals, final=n == len(groups) - 1)
        result = runner.summary(plan, totals)
        logger.info(result.describe())
        return result
