"""Evaluate stance (stage 6): accuracy and macro-F1 on our labelled sentences, and the
article labels of the seeds.

* tests/fixtures/stance_eval.tsv: sentences written for this purpose (Traditional ones are
  normalized first, as the pipeline does), scored as bare sentences.
* tests/fixtures/stance_seed_labels.tsv: sentences of the seeds with labels we decided,
  scored in their article (with the entities stage's mentions); only when ../shared/seeds
  is there. Seed text is read at run time, never stored.
* the article row of every seed article, beside the label a careful reader gives it.

Usage: python scripts/eval_stance.py [--verbose] [--no-seeds]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.stance.score import score_sentence  # noqa: E402

EVAL = ROOT / "tests" / "fixtures" / "stance_eval.tsv"
SEED_LABELS = ROOT / "tests" / "fixtures" / "stance_seed_labels.tsv"
SEEDS = ROOT.parent / "shared" / "seeds"
LABELS = ("bullish", "skeptical", "neutral")

# What a careful reader says of each seed article (see tests/test_stance.py for the reading).
SEED_ARTICLES = {
    ("000", 0): ("bullish",),
    ("001", 0): ("skeptical",),
    ("003", 0): ("mixed",),
    ("003", 1): ("bullish",),
    ("003", 2): ("bullish", "neutral"),
    ("004", 0): ("mixed",),
}


def read_tsv(path: Path) -> list[dict[str, str]]:
    lines = [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def eval_rows() -> list[dict[str, str]]:
    return read_tsv(EVAL)


def metrics(gold: list[str], pred: list[str], labels=LABELS) -> dict[str, float]:
    """Accuracy, per-label F1 and macro-F1."""
    out: dict[str, float] = {"accuracy": sum(g == p for g, p in zip(gold, pred)) / max(len(gold), 1)}
    f1s = []
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[f"f1_{lab}"] = f1
        f1s.append(f1)
    out["macro_f1"] = sum(f1s) / len(f1s)
    return out


def score_eval_set(rows: list[dict[str, str]]):
    from pipeline.normalize import normalize

    return [score_sentence(normalize(r["text"]).text) for r in rows]


def seed_docs():
    """{(seed, part): ArticleDoc} through the whole pipeline up to stance."""
    from pipeline.ingest import ingest_file
    from pipeline.runner import prepare_article
    from pipeline.stages import STAGES
    from pipeline.stance.stage import run_stance

    docs = {}
    for path in sorted(SEEDS.glob("*.txt")):
        for part, raw in enumerate(ingest_file(path).articles):
            doc = prepare_article(raw)
            for stage in STAGES:
                stage.run(doc)
            if "stance" not in doc.extra_rows:  # the stage is not registered yet
                run_stance(doc)
            docs[(path.name[:3], part)] = doc
    return docs


def seed_sentence_results(docs) -> list[tuple[dict[str, str], dict | None, str | None]]:
    """(label row, stance row or None, sentence text) per labelled seed sentence."""
    out = []
    for row in read_tsv(SEED_LABELS):
        doc = docs.get((row["seed"], int(row["part"])))
        if doc is None:
            out.append((row, None, None))
            continue
        i = int(row["sent_index"])
        sent = doc.sentences[i] if i < len(doc.sentences) else None
        if sent is None or hashlib.sha1(sent.text.encode("utf-8")).hexdigest()[:10] != row["sha1"]:
            out.append((row, None, None))
            continue
        stance = next(r for r in doc.extra_rows["stance"] if r["scope"] == "sentence" and r["sent_index"] == i)
        out.append((row, stance, sent.text))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--verbose", action="store_true", help="print every miss")
    ap.add_argument("--no-seeds", action="store_true")
    args = ap.parse_args()

    rows = eval_rows()
    t = time.perf_counter()
    preds = score_eval_set(rows)
    dt = time.perf_counter() - t
    gold = [r["label"] for r in rows]
    m = metrics(gold, [p.label for p in preds])
    print(f"eval set: {len(rows)} sentences {dict(Counter(gold))} in {dt:.2f}s")
    print("  accuracy {accuracy:.3f}  macro-F1 {macro_f1:.3f}  (F1 bullish {f1_bullish:.3f}, skeptical {f1_skeptical:.3f}, neutral {f1_neutral:.3f})".format(**m))
    checked = [(r, p) for r, p in zip(rows, preds) if r.get("target")]
    print(f"  target right: {sum(r['target'] == p.target for r, p in checked)}/{len(checked)}")
    by_tag: dict[str, list[bool]] = {}
    for r, p in zip(rows, preds):
        for tag in filter(None, r["tags"].split(",")):
            by_tag.setdefault(tag, []).append(r["label"] == p.label)
    print("  by tag: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(by_tag.items())))
    for r, p in zip(rows, preds):
        if args.verbose and (r["label"] != p.label or (r.get("target") and r["target"] != p.target)):
            print(f"  MISS {r['label']:>9} -> {p.label:<9} {p.score:+.2f} {p.target:<18} {r['text']}  | {p.evidence}")

    if args.no_seeds or not SEEDS.is_dir():
        print("seeds: not available" if not args.no_seeds else "seeds: skipped")
        return
    t = time.perf_counter()
    docs = seed_docs()
    print(f"seeds: {len(docs)} articles through the pipeline in {time.perf_counter() - t:.1f}s")
    results = seed_sentence_results(docs)
    ok = [(row, st, text) for row, st, text in results if st is not None]
    if len(ok) < len(results):
        print(f"  {len(results) - len(ok)} labelled seed sentence(s) no longer match their hash: skipped")
    sm = metrics([row["label"] for row, _, _ in ok], [st["label"] for _, st, _ in ok])
    print(f"  seed sentences: {len(ok)}  accuracy {sm['accuracy']:.3f}  macro-F1 {sm['macro_f1']:.3f}")
    for row, st, text in ok:
        if args.verbose and row["label"] != st["label"]:
            print(f"  MISS {row['seed']}/{row['part']}#{row['sent_index']} {row['label']:>9} -> {st['label']:<9} {st['score']:+.2f}  | {st['evidence']}")
    t = time.perf_counter()
    chars = 0
    from pipeline.stance.stage import run_stance

    for doc in docs.values():
        run_stance(doc)
        chars += len(doc.text_final)
    dt = time.perf_counter() - t
    print(f"  stance stage alone: {chars} chars in {dt:.3f}s = {chars / dt:,.0f} chars/s")
    print("seed articles (label, score, evidence; expected):")
    for (seed, part), doc in docs.items():
        art = next(r for r in doc.extra_rows["stance"] if r["scope"] == "article")
        want = SEED_ARTICLES.get((seed, part), ("?",))
        mark = "ok " if art["label"] in want else "BAD"
        print(f"  {mark} {seed}/{part} {doc.raw.outlet or '-':<6} {art['label']:<9} {art['score']:+.3f}  want {'/'.join(want):<16} {art['evidence']}")


if __name__ == "__main__":
    main()
