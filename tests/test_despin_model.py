"""The despin language model: shipped file, loading, and the trainer's maths."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.config import load_config, project_path
from pipeline.despin.candidates import default_table
from pipeline.despin.lm import BOS, EOS, UNK, load_lm, read_model, write_model

ROOT = Path(__file__).resolve().parents[1]
MODEL = project_path(load_config("despin")["model"]["path"])


def load_trainer():
    """scripts/train_despin_lm.py as a module (scripts/ is not a package)."""
    if "train_despin_lm" not in sys.modules:
        spec = importlib.util.spec_from_file_location("train_despin_lm", ROOT / "scripts" / "train_despin_lm.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["train_despin_lm"] = module
        spec.loader.exec_module(module)
    return sys.modules["train_despin_lm"]


def total_probability(lm, context: list[int]) -> float:
    symbols = [*lm.vocab.values(), EOS, UNK]
    return sum(math.exp(lm.logprob(context, s)) for s in symbols)


def test_model_file_is_small_and_matches_its_record():
    report = json.loads(MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    data = MODEL.read_bytes()
    assert len(data) < 5 * 1024 * 1024
    assert report["sha256"] == hashlib.sha256(data).hexdigest()
    assert report["bytes"] == len(data)
    assert report["training_data"]["corpus"].endswith("msra_train.txt")


def test_model_loads_fast_and_once():
    t0 = time.perf_counter()
    read_model(MODEL)
    assert time.perf_counter() - t0 < 2.0  # about 0.5 s on the dev machine
    assert load_lm() is load_lm()


def test_model_is_a_normalised_distribution():
    lm = load_lm()
    for text in ["", "中", "我们", "计算机", "发展了", "GPU"]:
        context = [BOS] + lm.ids(text)
        assert abs(total_probability(lm, context) - 1.0) < 2e-3, text


def test_model_prefers_original_words_in_context():
    lm = load_lm()

    def score(text: str) -> float:
        ids = lm.ids(text)
        return lm.span_logprob(ids, 0, len(ids))

    assert score("清华大学计算机系") > score("清华大学核算机系") + 5
    assert score("与此同时,") > score("与此一起,") + 5
    assert score("7部门联合印发") > score("7部分联合印发")
    assert score("部分企业已经开始") > score("部门企业已经开始")


def test_model_word_frequencies_cover_the_candidate_table():
    """Retrain (make despin-model) after changing pairs: the model stores their frequencies."""
    lm = load_lm()
    jieba_words = set()
    dict_txt = load_trainer().package_file("jieba", "dict.txt")
    for line in dict_txt.read_text(encoding="utf-8").splitlines():
        jieba_words.add(line.split(" ", 1)[0])
    missing = sorted(w for w in default_table().all_words() & jieba_words if w not in lm.word_logfreq)
    assert not missing, missing[:20]


def test_kneser_ney_on_a_toy_corpus_is_normalised_and_deterministic(tmp_path):
    trainer = load_trainer()
    sentences = ["我们计算", "他们训练模型", "我们训练", "计算机模型", "模型计算机"] * 3 + ["他们"]
    chars = sorted({c for s in sentences for c in s})
    vocab = {c: i + 4 for i, c in enumerate(chars)}
    ids = trainer.encode(sentences, vocab)
    levels = trainer.kneser_ney(ids, 3, 3 + len(vocab))
    trainer.prune(levels, {2: 1, 3: 2})
    arrays, bounds = trainer.quantise(levels)
    arrays["words"] = np.zeros(0, dtype=np.uint8)
    arrays["word_logfreq"] = np.zeros(0, dtype=np.uint16)
    meta = {"order": 3, "chars": "".join(chars), "order_bounds": bounds, "word_logfreq_floor": -20.0}
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    write_model(first, arrays, meta)
    write_model(second, arrays, meta)
    assert first.read_bytes() == second.read_bytes()
    lm = read_model(first)
    for context in ([BOS], [BOS, vocab["我"]], [vocab["计"], vocab["算"]], [vocab["模"], vocab["型"]]):
        assert abs(total_probability(lm, context) - 1.0) < 2e-3
