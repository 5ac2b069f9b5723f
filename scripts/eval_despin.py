"""Evaluate despin: spin clean text with our spinner, restore it, compare with the original.

Clean texts: tests/fixtures/despin_clean.txt (written for this purpose) and, when
../shared/seeds is there, seed articles 000 and 004 (the latter after opencc t2s).
Reports, per text and spin mode: share of the character edit distance to the clean
text that restoration undoes, precision/recall of restorations, and false positives
(edits per 10k characters) on the clean texts as they are. Then, on spun seed 003:
the spin score, edits, how many of the brief's pairs were restored, and an ablation
without the curated pairs read off the seeds.
Usage: python scripts/eval_despin.py [--rates 0.7,1.0] [--seed 7] [--sample 25] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline.config import load_config, project_path  # noqa: E402
from pipeline.despin import despin  # noqa: E402
from pipeline.despin.candidates import CILIN, curated_pairs  # noqa: E402
from pipeline.despin.stage import Despinner, default_despinner, despinner_for_pairs  # noqa: E402
from pipeline.despin.evaluation import line_distance, pair_restoration, split_at_attribution, trailing_parts  # noqa: E402
from pipeline.model import DespinResult  # noqa: E402
from spinner import spin  # noqa: E402

SEEDS = project_path("..") / "shared" / "seeds"
FIXTURE = project_path("tests/fixtures/despin_clean.txt")


def seed_file(prefix: str) -> Path | None:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    return found[0] if found else None


def clean_texts() -> list[tuple[str, str]]:
    texts = [("fixtures", FIXTURE.read_text(encoding="utf-8"))]
    s000, s004 = seed_file("000"), seed_file("004")
    if s000:
        texts.append(("seed 000", s000.read_text(encoding="utf-8")))
    if s004:
        import opencc

        texts.append(("seed 004 t2s", opencc.OpenCC("t2s").convert(s004.read_text(encoding="utf-8"))))
    return texts


def row(cells: list[object], widths: list[int]) -> str:
    return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def evaluate_spun(args: argparse.Namespace) -> None:
    widths = [14, 5, 8, 6, 6, 6, 6, 7, 6, 6, 7]
    print(f"== Our spinner on clean text (seed {args.seed}) ==")
    print("dist0/dist1: character edit distance to the clean text before/after despin;")
    print("undone = 1 - dist1/dist0; rec.cil = recall on swaps that only 词林 knows")
    print(row(["text", "rate", "mode", "swaps", "edits", "dist0", "dist1", "undone", "prec", "recall", "rec.cil"], widths))
    texts = clean_texts()
    totals: Counter = Counter()
    for rate in args.rates:
        for i, (name, clean) in enumerate(texts):
            for mode in ("curated", "mixed"):
                evaluate_one(name, clean, rate, args.seed + i, mode, args.verbose, widths, totals)
    print()
    print("totals over all texts:")
    print(row(["", "rate", "mode", "swaps", "edits", "dist0", "dist1", "undone", "prec", "recall", "rec.cil"], widths))
    for rate in args.rates:
        for mode in ("curated", "mixed"):
            t = {k[2]: v for k, v in totals.items() if k[:2] == (rate, mode)}
            print(row(["all", rate, mode, *metrics(t)], widths))
    print()
    print("== Clean text as it is (false positives) ==")
    widths = [14, 8, 7, 7, 10]
    print(row(["text", "chars", "score", "edits", "per 10k"], widths))
    for name, clean in texts:
        r = despin(clean)
        print(row([name, len(clean), f"{r.spin_score:.3f}", len(r.edits), f"{1e4 * len(r.edits) / len(clean):.2f}"], widths))


def metrics(t: dict[str, int]) -> list[object]:
    """Table cells from counts: swaps, edits, dist0, dist1, undone, precision, recall, cilin recall."""
    return [
        t["swaps"],
        t["edits"],
        t["d0"],
        t["d1"],
        f"{1 - t['d1'] / t['d0']:.1%}" if t["d0"] else "-",
        f"{t['correct'] / t['edits']:.1%}" if t["edits"] else "-",
        f"{t['correct'] / t['swaps']:.1%}" if t["swaps"] else "-",
        f"{t['cilin_correct'] / t['cilin_swaps']:.1%}" if t["cilin_swaps"] else "-",
    ]


def evaluate_one(
    name: str, clean: str, rate: float, seed: int, mode: str, verbose: bool, widths: list[int], totals: Counter
) -> None:
    spun, swaps = spin(clean, rate, seed, mode)
    result = despin(spun)
    truth = {(s.start, s.end): s for s in swaps}
    correct = [e for e in result.edits if (s := truth.get((e.start, e.end))) and s.original == e.restored]
    counts = {
        "swaps": len(swaps),
        "edits": len(result.edits),
        "d0": line_distance(clean, spun),
        "d1": line_distance(clean, result.text_final),
        "correct": len(correct),
        "cilin_swaps": sum(s.source == CILIN for s in swaps),
        "cilin_correct": sum(truth[(e.start, e.end)].source == CILIN for e in correct),
    }
    for k, v in counts.items():
        totals[(rate, mode, k)] += v
    print(row([name, rate, mode, *metrics(counts)], widths))
    if verbose:
        for e in result.edits:
            s = truth.get((e.start, e.end))
            if not s or s.original != e.restored:
                truth_word = s.original if s else "-"
                print(f"   wrong: {e.spun} -> {e.restored} | truth: {truth_word} | {spun[max(0, e.start - 8) : e.end + 8]}")
        hit = {(e.start, e.end) for e in correct}
        for s in swaps:
            if (s.start, s.end) not in hit:
                print(f"   missed: {s.spun} <- {s.original} {s.source} | {spun[max(0, s.start - 8) : s.end + 8]}")


def evaluate_seed_003(args: argparse.Namespace) -> None:
    path = seed_file("003")
    print()
    if path is None:
        print("== seed 003: skipped (../shared/seeds not available) ==")
        return
    main_text, trailing = split_at_attribution(path.read_text(encoding="utf-8"))
    core = curated_pairs(load_config("despin"), ("core",))
    print("== Spun seed 003, main article (%d chars) ==" % len(main_text))
    widths = [30, 7, 7, 7, 14]
    print(row(["despinner", "score", "spun", "edits", "brief pairs"], widths))
    despinners: list[tuple[str, Despinner]] = [
        ("all curated pairs + cilin", default_despinner()),
        ("brief pairs only + cilin", despinner_for_pairs(("core",))),
    ]
    results = []
    for name, d in despinners:
        t0 = time.time()
        r = d.run(main_text)
        results.append(r)
        restored, occ = pair_restoration(main_text, r, core)
        cells = [name, f"{r.spin_score:.3f}", r.is_spun, len(r.edits), f"{restored}/{occ} {restored / occ:.0%}"]
        print(row(cells, widths), f"  {time.time() - t0:.2f}s")
    r = results[0]
    sources = Counter()
    table = default_despinner().table.by_surface
    for e in r.edits:
        src = next((c.source for c in table.get(e.spun, ()) if c.word == e.restored), "protected")
        sources[src] += 1
    print("edits by candidate source:", dict(sorted(sources.items())))
    pairs = Counter((e.spun, e.restored) for e in r.edits)
    per_pair = []
    for original, spun in core:
        n = main_text.count(spun)
        if n:
            per_pair.append(f"{spun}->{original} {pairs[(spun, original)]}/{n}")
    print("brief pairs restored/occurrences:", ", ".join(per_pair))
    print(f"sample of {args.sample} edits (every {max(1, len(r.edits) // args.sample)}th):")
    step = max(1, len(r.edits) // args.sample)
    for e in r.edits[::step][: args.sample]:
        ctx = main_text[max(0, e.start - 6) : e.end + 6].replace("\n", " ")
        print(f"  {e.spun} -> {e.restored}  ({e.confidence:.2f})  …{ctx}…")
    print()
    print("== seed 003 after the main article: teasers and snippets, each scored as an article ==")
    teasers, snippets = trailing_parts(trailing)
    for kind, parts in (("teaser", teasers), ("snippet", snippets)):
        for part in parts:
            t = despin(part)
            head = part[:20].replace("\n", " ")
            verdict = f"score {t.spin_score:.3f} spun={str(t.is_spun):5} edits={len(t.edits):3}"
            print(f"  {kind:8} {len(part):5} chars  {verdict}  {head}…")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", type=lambda v: [float(x) for x in v.split(",")], default=[0.7, 1.0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sample", type=int, default=25)
    ap.add_argument("--verbose", action="store_true", help="list wrong and missed restorations")
    args = ap.parse_args()
    t0 = time.time()
    evaluate_spun(args)
    evaluate_seed_003(args)
    print(f"\n({time.time() - t0:.1f}s)")


if __name__ == "__main__":
    main()
