"""The ``zhnews`` command line. Heavy libraries are imported inside the commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zhnews",
        description="Turn raw Chinese AI-chip news files into clean Parquet datasets.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the whole flow; only new or changed files are processed")
    run.add_argument("--input", "-i", action="append", metavar="PATH",
                     help="file or directory (repeatable); default: the bundled sample corpus")
    _out(run)
    _orchestrator(run)

    add = sub.add_parser("add", help="add files to the corpus and process just those")
    add.add_argument("paths", nargs="+", metavar="PATH")
    _out(add)
    _orchestrator(add)

    serve = sub.add_parser("serve", help="process the inbox folder on the schedule of configs/pipeline.yaml")
    serve.add_argument("--once", action="store_true", help="run one inbox cycle now and exit")
    serve.add_argument("--cron", metavar="EXPR", help='schedule, e.g. "*/5 * * * *" (default: schedule.cron of the config)')
    _out(serve)

    val = sub.add_parser("validate", help="check the datasets against the data contract")
    _out(val)

    report = sub.add_parser("report", help="write a static HTML report of the datasets")
    _out(report)
    report.add_argument("--dest", "-d", metavar="DIR", help="report directory (default: report/)")

    export = sub.add_parser("export", help="mirror the datasets to a pyarrow filesystem URI (s3://, gs://, file://)")
    export.add_argument("--to", required=True, metavar="URI", help="destination, e.g. s3://bucket/zhnews")
    _out(export)

    show = sub.add_parser("show", help="print one article: metadata, text and what ingest removed")
    show.add_argument("article_id")
    _out(show)
    return p


def _out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", "-o", metavar="DIR", help="dataset directory (default: outputs/ from configs/pipeline.yaml)")


def _orchestrator(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--local", dest="orchestrator", action="store_const", const="local",
                   help="plain in-process loop, no Prefect server")
    g.add_argument("--prefect", dest="orchestrator", action="store_const", const="prefect",
                   help="run as a Prefect flow (default from configs/pipeline.yaml)")
    p.add_argument("--batch-size", type=int, metavar="N",
                   help="files per atomic commit (default: run.batch_size of the config)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="parallel workers for the Prefect flow (default: run.workers of the config)")
    p.add_argument("--dask-address", metavar="ADDR",
                   help="run per-file tasks on this Dask scheduler (e.g. tcp://host:8786)")


def _execute(args: argparse.Namespace, inputs: list[str] | None) -> int:
    from pipeline.config import load_config
    from pipeline.store import StoreError, StoreLocked

    out = args.out
    mode = args.orchestrator or load_config("pipeline")["run"]["orchestrator"]
    if mode == "local" and (args.workers or args.dask_address):
        print("zhnews: --workers and --dask-address need the Prefect flow (drop --local)", file=sys.stderr)
        return 2
    try:
        if mode == "prefect":
            from flows.corpus_flow import corpus_flow, task_runner

            flow = corpus_flow.with_options(task_runner=task_runner(args.workers, args.dask_address))
            result = flow(inputs=inputs, out=out, batch_size=args.batch_size)
        else:
            from pipeline.runner import run_corpus

            result = run_corpus(inputs, out, batch_size=args.batch_size)
    except StoreLocked as exc:
        return _locked(exc)
    except StoreError as exc:
        print(f"zhnews: {exc}", file=sys.stderr)
        return 1
    print(result.describe())
    return 0


def _locked(exc: Exception) -> int:
    print(f"zhnews: {exc}", file=sys.stderr)
    return 75  # EX_TEMPFAIL: try again when the other run is done


def _serve(out: str | None, once: bool, cron: str | None) -> int:
    from pipeline.store import StoreLocked

    if not once:
        from flows.server import prefect_api

        with prefect_api() as api_url:  # before Prefect is imported
            from flows.inbox_flow import serve

            print(f"zhnews serve: Prefect API {api_url}; Ctrl-C stops", file=sys.stderr)
            serve(out, cron)
        return 0
    from flows.inbox_flow import inbox_flow

    try:
        result = inbox_flow(out=out)
    except StoreLocked as exc:
        return _locked(exc)
    print(result.describe() if result else "inbox: nothing ready")
    return 0


def _report(out: str | None, dest: str | None) -> int:
    from pipeline.report import ReportError, build_report

    try:
        index = build_report(out, dest, progress=lambda m: print(m, file=sys.stderr))
    except ReportError as exc:
        print(f"zhnews report: {exc}", file=sys.stderr)
        return 1
    print(f"report written to {index}")
    return 0


def _export(out: str | None, destination: str) -> int:
    from pipeline.export import export_store
    from pipeline.runner import default_out_dir
    from pipeline.store import StoreError

    try:
        result = export_store(out or default_out_dir(), destination)
    except (StoreError, OSError) as exc:
        print(f"zhnews export: {exc}", file=sys.stderr)
        return 1
    print(f"exported to {result.destination}: {result.copied} part(s) copied, {result.removed} removed, {result.kept} unchanged")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _execute(args, args.input)
    if args.command == "add":
        missing = [p for p in args.paths if not Path(p).exists()]
        if missing:
            print(f"zhnews add: not found: {', '.join(missing)}", file=sys.stderr)
            return 2
        return _execute(args, args.paths)
    if args.command == "serve":
        return _serve(args.out, args.once, args.cron)
    if args.command == "validate":
        from pipeline.validate import validate_store

        problems = validate_store(args.out)
        for line in problems:
            print(line)
        print("datasets conform to the contract" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    if args.command == "report":
        return _report(args.out, args.dest)
    if args.command == "export":
        return _export(args.out, args.to)
    if args.command == "show":
        from pipeline.show import show_article

        return show_article(args.article_id, args.out)
    return 2


if __name__ == "__main__":
    sys.exit(main())
