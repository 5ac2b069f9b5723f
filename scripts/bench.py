"""Benchmark: build a ~1,000-file corpus from the sample corpus (and the seeds when
present), run the pipeline on it, and report chars/s per stage, peak memory, the
unchanged rerun, the time to add one article to the corpus, and the same corpus with
2 workers (the Prefect flow on a local Dask cluster), checked to give the same articles.

Usage: python scripts/bench.py [--files N] [--workdir .bench] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.runner import SAMPLE_CORPUS, run_corpus  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
ENCODINGS = ["utf-8", "utf-8", "utf-8", "gb18030", "utf-16"]


def templates() -> list[tuple[str, str]]:
    """(suffix, text) of every usable template file: the sample corpus and the seeds."""
    from pipeline.ingest.encoding import decode_bytes

    out = []
    sources = sorted(SAMPLE_CORPUS.glob("*.txt")) + (sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else [])
    for path in sources:
        out.append((".txt", decode_bytes(path.read_bytes()).text))
    return out


def vary(text: str, n: int, rng: random.Random) -> str:
    """A distinct article: shuffled middle paragraphs and a numbered body line of our own."""
    lines = text.split("\n")
    head, middle, tail = lines[:4], lines[4:-3], lines[-3:]
    rng.shuffle(middle)
    note = (f"据不完全统计，截至2025年{n % 12 + 1}月，第{n}批次样本涉及的芯片企业融资事件约{n % 97 + 3}起，"
            "涉及金额合计超过百亿元，多数集中在推理芯片和高速互联领域。")
    return "\n".join(head + middle[: len(middle) // 2] + [note] + middle[len(middle) // 2 :] + tail)


def build_corpus(dest: Path, n_files: int) -> int:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    rng = random.Random(20251203)
    temps = templates()
    total = 0
    for i in range(n_files):
        suffix, text = temps[i % len(temps)]
        encoding = ENCODINGS[i % len(ENCODINGS)]
        data = vary(text, i, rng).encode(encoding, errors="replace")
        (dest / f"doc_{i:05d}{suffix}").write_bytes(data)
        total += len(data)
    return total


def article_ids(out: Path) -> set[str]:
    import pyarrow.dataset as ds

    return set(ds.dataset(out / "articles", format="parquet").to_table(columns=["article_id"]).column(0).to_pylist())


def article_ids_of_add(out: Path, added: Path) -> set[str]:
    import pyarrow.dataset as ds

    sources = ds.dataset(out / "sources", format="parquet").to_table().to_pylist()
    return {i for row in sources if row["source_path"].endswith(added.name) for i in row["article_ids"] or []}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--workdir", default=str(ROOT / ".bench"))
    ap.add_argument("--workers", type=int, default=2, help="workers of the parallel run (0: skip it)")
    args = ap.parse_args()
    work = Path(args.workdir)
    corpus, out = work / "corpus", work / "outputs"
    size = build_corpus(corpus, args.files)
    if out.exists():
        shutil.rmtree(out)
    print(f"corpus: {args.files} files, {size / 1e6:.1f} MB in {corpus}")

    t = time.perf_counter()
    full = run_corpus([corpus], out)
    full_s = time.perf_counter() - t
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t = time.perf_counter()
    rerun = run_corpus([corpus], out, progress=lambda _m: None)
    rerun_s = time.perf_counter() - t

    extra = work / "extra_article.txt"
    extra.write_text(vary(templates()[0][1], 999_999, random.Random(7)), encoding="utf-8")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "add", str(extra), "--out", str(out), "--local"], check=True, cwd=ROOT)
    add_s = time.perf_counter() - t

    parallel_s = None
    if args.workers > 1:
        out_n = work / f"outputs_{args.workers}w"
        if out_n.exists():
            shutil.rmtree(out_n)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "-i", str(corpus), "--out", str(out_n),
                        "--prefect", "--workers", str(args.workers)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        parallel_s = time.perf_counter() - t
        if article_ids(out_n) != article_ids(out) - article_ids_of_add(out, extra):
            raise SystemExit(f"the {args.workers}-worker run gave other articles than the 1-worker run")

    chars = full.chars
    rows = [("stage", "seconds", "chars/s")]
    for stage, secs in sorted(full.seconds.items(), key=lambda kv: -kv[1]):
        rows.append((stage, f"{secs:.1f}", f"{chars / secs / 1000:.1f}k" if secs else "-"))
    rows.append(("overall (wall)", f"{full_s:.1f}", f"{chars / full_s / 1000:.1f}k"))
    print(f"\n{full.n_new} articles, {chars / 1e6:.2f} M chars, {full.n_failed} rejects")
    width = max(len(r[0]) for r in rows)
    for r in rows:
        print(f"  {r[0]:<{width}}  {r[1]:>8}  {r[2]:>10}")
    print(f"\npeak RSS: {peak_mib:.0f} MiB")
    print(f"unchanged rerun: {rerun_s:.2f} s ({rerun.describe()})")
    print(f"`zhnews add` of one article (new process, models loaded): {add_s:.1f} s vs full run {full_s:.1f} s")
    print(f"1 worker (local loop): {full_s:.1f} s, {chars / full_s / 1000:.1f}k chars/s")
    if parallel_s:
        print(f"{args.workers} workers (Prefect + local Dask cluster, incl. start-up): {parallel_s:.1f} s, "
              f"{chars / parallel_s / 1000:.1f}k chars/s, same articles")
    result = {
        "files": args.files, "articles": full.n_new, "chars": chars, "full_s": full_s,
        "stage_seconds": full.seconds, "peak_rss_mib": peak_mib, "rerun_s": rerun_s, "add_one_s": add_s,
        "workers": args.workers, "parallel_s": parallel_s,
    }
    (work / "results.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
