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

    val = sub.add_parser("validate", help="check the datasets against the data contract")
    _out(val)

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


def _execute(inputs: list[str] | None, out: str | None, orchestrator: str | None) -> int:
    from pipeline.config import load_config
    from pipeline.store import StoreLocked

    mode = orchestrator or load_config("pipeline")["run"]["orchestrator"]
    try:
        if mode == "prefect":
            from flows.corpus_flow import corpus_flow

            result = corpus_flow(inputs=inputs, out=out)
        else:
            from pipeline.runner import run_corpus

            result = run_corpus(inputs, out)
    except StoreLocked as exc:
        print(f"zhnews: {exc}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again when the other run is done
    print(result.describe())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _execute(args.input, args.out, args.orchestrator)
    if args.command == "add":
        missing = [p for p in args.paths if not Path(p).exists()]
        if missing:
            print(f"zhnews add: not found: {', '.join(missing)}", file=sys.stderr)
            return 2
        return _execute(args.paths, args.out, args.orchestrator)
    if args.command == "validate":
        from pipeline.validate import validate_store

        problems = validate_store(args.out)
        for line in problems:
            print(line)
        print("datasets conform to the contract" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    if args.command == "show":
        from pipeline.show import show_article

        return show_article(args.article_id, args.out)
    return 2


if __name__ == "__main__":
    sys.exit(main())
