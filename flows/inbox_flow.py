"""``zhnews serve``: a Prefect deployment that processes the inbox on the configured cron.

Each cycle claims the settled inbox files into the archive, processes them like any run
(files that raise are retried with exponential backoff), quarantines the files that gave
no article, and commits. Run it against a Prefect server with ``PREFECT_API_URL`` set;
without one Prefect starts a temporary local server.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.schedules import Cron
from prefect.tasks import exponential_backoff

from flows.corpus_flow import process_and_commit, process_source_task
from pipeline import inbox, runner
from pipeline.config import load_config
from pipeline.store import Store

DEPLOYMENT = "zhnews-inbox"


@flow(name="zhnews-inbox", log_prints=True)
def inbox_flow(out: str | None = None) -> runner.RunSummary | None:
    """One cycle; ``None`` when the inbox held nothing ready."""
    logger = get_run_logger()
    config = load_config("pipeline")
    dirs = inbox.inbox_dirs(config)
    dirs.create()
    settings = inbox.serve_settings(config)
    store = Store(out or runner.default_out_dir())
    with store.lock():
        # Claimed (moved) only under the lock: a refused cycle leaves the inbox untouched.
        claimed = inbox.claim(dirs, settings.settle_seconds)
        if not claimed:
            logger.info("inbox %s: nothing ready", dirs.inbox)
            return None
        logger.info("inbox %s: %d file(s) claimed into %s", dirs.inbox, len(claimed), dirs.archive)
        process = process_source_task.with_options(
            retries=settings.retries,
            retry_delay_seconds=exponential_backoff(backoff_factor=settings.retry_backoff_seconds),
        )

        def settle(result: runner.SourceResult) -> runner.SourceResult:
            return result if result.docs else inbox.quarantine(result, dirs)

        return process_and_commit(store, runner.plan_run(store, claimed), process, settle)


def serve(out: str | None = None, cron: str | None = None) -> None:
    """Serve the inbox flow on ``cron`` or ``schedule.cron`` (blocks until interrupted)."""
    schedule = load_config("pipeline")["schedule"]
    inbox_flow.serve(
        name=DEPLOYMENT,
        schedules=[Cron(cron or schedule["cron"], timezone=schedule.get("timezone", "UTC"))],
        parameters={"out": out},
        description="Process new files dropped in the zhnews inbox.",
    )
