"""The committed char BiLSTM-CRF NER model (``models/ner_msra/``) and its loader."""

from __future__ import annotations

import json

import pytest

from pipeline.config import project_path
from pipeline.entities import ner_model
from pipeline.entities.ner_model import (
    apply_hanlp_patches,
    hanlp_patches_applied,
    split_long,
    tags_to_spans,
)

MODEL_DIR = project_path(ner_model.DEFAULT_MODEL_DIR)
HAVE_MODEL = all((MODEL_DIR / name).is_file() for name in ("config.json", "vocabs.json", "model.pt"))
needs_model = pytest.mark.skipif(
    not HAVE_MODEL, reason=f"NER model not present in {MODEL_DIR} (train it with `make train-ner`)"
)

# News-style sentences written for these tests (not taken from MSRA).
SENTENCES = [
    "国家主席习近平今天在北京会见了来访的法国总统马克龙。",
    "华为技术有限公司在深圳发布了新一代人工智能芯片。",
    "记者王小明从上海市教育委员会获悉，明年起全市将增加三千个学位。",
    "据新华社报道，联合国秘书长古特雷斯抵达日内瓦出席会议。",
]


@pytest.fixture(scope="module")
def spans():
    return ner_model.predict_spans(SENTENCES)


def test_tags_to_spans_well_formed_and_lenient():
    assert tags_to_spans(["B-PER", "E-PER", "O", "S-LOC", "B-ORG", "I-ORG", "E-ORG"]) == [
        ("PER", 0, 2), ("LOC", 3, 4), ("ORG", 4, 7)]
    # fragments (corpus pieces cut inside an entity) and ill-formed CRF output
    assert tags_to_spans(["M-PER", "E-PER", "O"]) == [("PER", 0, 2)]
    assert tags_to_spans(["E-LOC", "B-PER", "I-PER", "O", "I-ORG"]) == [
        ("LOC", 0, 1), ("PER", 1, 3), ("ORG", 4, 5)]
    assert tags_to_spans(["B-PER", "E-LOC"]) == [("PER", 0, 1), ("LOC", 1, 2)]
    assert tags_to_spans(["S-LOC", "S-LOC"]) == [("LOC", 0, 1), ("LOC", 1, 2)]
    assert tags_to_spans([]) == []


def test_split_long_reassembles_and_prefers_punctuation():
    text = ("北京市今天举行新闻发布会，" * 30) + "。" + "上" * 700
    pieces = split_long(text, 500)
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 500 for _, p in pieces)
    assert all(text[o:o + len(p)] == p for o, p in pieces)
    assert pieces[0][1].endswith("。")  # strong break preferred to the later commas
    commas = split_long("北京市今天举行新闻发布会，" * 60, 500)
    assert all(p.endswith("，") for _, p in commas)
    hard = split_long("上" * 1001, 500)
    assert [(o, len(p)) for o, p in hard] == [(0, 500), (500, 500), (1000, 1)]
    assert split_long("", 500) == []


def test_patches_are_idempotent_and_fix_the_crf():
    apply_hanlp_patches()
    assert apply_hanlp_patches() is False
    assert hanlp_patches_applied()
    from hanlp.components.taggers.rnn.rnntaggingmodel import RNNTaggingModel
    import torch

    model = RNNTaggingModel(torch.nn.Embedding(10, 4, padding_idx=0), None, 3, 5, 0.0, True)
    assert model.crf.batch_first is True
    assert not hasattr(RNNTaggingModel.__init__.__wrapped__, "_zhnews_patched")


@needs_model
def test_model_files_small_and_metrics_recorded():
    size = sum((MODEL_DIR / n).stat().st_size for n in ("config.json", "vocabs.json", "model.pt"))
    assert size < 6 * 1024 * 1024
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["test"]) >= {"overall", "PER", "LOC", "ORG"}
    assert 0.0 < metrics["test"]["overall"]["f1"] <= 1.0


@needs_model
def test_load_is_cached_and_single_threaded():
    import torch

    assert ner_model.load_ner() is ner_model.load_ner(MODEL_DIR)
    assert torch.get_num_threads() == 1
    assert hanlp_patches_applied()


@needs_model
def test_offsets_slice_the_input(spans):
    assert len(spans) == len(SENTENCES)
    for sentence, found in zip(SENTENCES, spans):
        for text, label, start, end in found:
            assert label in {"PER", "LOC", "ORG"}
            assert 0 <= start < end <= len(sentence)
            assert sentence[start:end] == text


@needs_model
def test_finds_people_places_and_organisations(spans):
    found = {(text, label) for sentence in spans for text, label, _, _ in sentence}
    expected = {("习近平", "PER"), ("北京", "LOC"), ("深圳", "LOC"), ("王小明", "PER"),
                ("日内瓦", "LOC"), ("新华社", "ORG"), ("上海市教育委员会", "ORG"), ("联合国", "ORG")}
    hits = expected & found
    # a statistical model: require most, not all, of these clear cases
    assert len(hits) >= len(expected) - 1, f"found {sorted(found)}"
    assert {label for _, label in hits} == {"PER", "LOC", "ORG"}
    # Known limitation (MSRA is 1998 newswire): "华为技术有限公司" comes out as 华/LOC +
    # 技术有限公司/ORG, since 华 there mostly abbreviates China. Not asserted either way.


@needs_model
def test_empty_whitespace_and_long_inputs():
    assert ner_model.predict_spans([]) == []
    assert ner_model.predict_spans(["", "   ", "\n"]) == [[], [], []]
    with pytest.raises(TypeError):
        ner_model.predict_spans("北京")  # type: ignore[arg-type]
    long = ("国务院总理在北京主持召开会议，研究部署相关工作。" * 60)  # > 1000 chars
    short = "国务院总理在北京主持召开会议，研究部署相关工作。"
    result, ref, empty = ner_model.predict_spans([long, short, ""])
    assert empty == []
    assert len(long) > 2 * ner_model.MAX_CHUNK_CHARS
    for text, _label, start, end in result:
        assert long[start:end] == text
    # entities are found beyond the first piece and re-offset there
    assert any(start >= ner_model.MAX_CHUNK_CHARS for _, _, start, _ in result)
    if ref:
        period = len(short)
        assert any(start >= 1000 and (text, start % period) in {(t, s) for t, _, s, _ in ref}
                   for text, _, start, _ in result)
