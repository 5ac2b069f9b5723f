"""Stage 6, stance: the labelled evaluation set, hard cases, Traditional input, article
aggregation, the stage's rows, and the seeds' article labels (seeds read at run time)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from conftest import seed_path
from pipeline.model import ArticleDoc, RawArticle
from pipeline.normalize import normalize
from pipeline.stance.score import BULLISH, MIXED, NEUTRAL, SKEPTICAL, SentenceStance, aggregate, score_sentence
from pipeline.stance.stage import run_stance, stance_stage_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from eval_stance import SEED_LABELS, eval_rows, metrics, read_tsv, score_eval_set  # noqa: E402


def stance(text: str) -> SentenceStance:
    return score_sentence(normalize(text).text)


# --- the evaluation set -----------------------------------------------------------------------

# tests/fixtures/stance_eval.tsv: 200 sentences we wrote (68 bullish, 67 skeptical, 65 neutral).
# Its `dev` rows were written first and the lexicon was built against them; `holdout` and
# `holdout2` were each written before being scored, then scored once: macro-F1 0.58 and 0.59 on
# first sight (the rules miss unseen phrasing far more than they mislabel it), and their misses
# were then fixed with general cues. So today's ~0.99 is a training score, and this test is a
# regression guard: 0.90 overall and 0.85 per class leave room for lexicon edits but fail when a
# whole family of hard cases breaks (the 29 negation rows alone are 15% of the set; the 30
# foreign rows, 15%).
MIN_MACRO_F1 = 0.90
MIN_CLASS_F1 = 0.85


@pytest.fixture(scope="module")
def eval_results():
    rows = eval_rows()
    return rows, score_eval_set(rows)


def test_eval_set_is_balanced_and_ours(eval_results):
    rows, _ = eval_results
    counts = {lab: sum(r["label"] == lab for r in rows) for lab in (BULLISH, SKEPTICAL, NEUTRAL)}
    assert len(rows) >= 100 and min(counts.values()) >= 0.3 * len(rows)
    assert {r["split"] for r in rows} == {"dev", "holdout", "holdout2"}


def test_eval_set_macro_f1(eval_results):
    rows, preds = eval_results
    m = metrics([r["label"] for r in rows], [p.label for p in preds])
    misses = [(r["label"], p.label, r["text"], p.evidence) for r, p in zip(rows, preds) if r["label"] != p.label]
    assert m["macro_f1"] >= MIN_MACRO_F1, misses
    for lab in (BULLISH, SKEPTICAL, NEUTRAL):
        assert m[f"f1_{lab}"] >= MIN_CLASS_F1, (lab, misses)


def test_eval_set_targets(eval_results):
    rows, preds = eval_results
    checked = [(r["target"], p.target, r["text"]) for r, p in zip(rows, preds) if r["target"]]
    wrong = [c for c in checked if c[0] != c[1]]
    assert len(wrong) <= 0.05 * len(checked), wrong


def test_every_opinionated_sentence_has_evidence(eval_results):
    _, preds = eval_results
    for p in preds:
        assert -1.0 <= p.score <= 1.0
        if p.label != NEUTRAL:
            assert any(item[0] in "+-" for item in p.evidence.split()), p


# --- hard cases -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, label, evidence",
    [
        # skeptical though no negative word: a metric (usage rate) negated
        ("国产芯片在智算中心的使用率并不高。", SKEPTICAL, "使用率…高(neg:并不)"),
        ("国内厂商的市场份额不足百分之十。", SKEPTICAL, "-占比低"),
        ("国产芯片的良率仍然偏低。", SKEPTICAL, "-良率…偏低"),
        # negation flips; double negation does not
        ("国产芯片的性能不再是短板。", BULLISH, "+短板(neg:不再)"),
        ("大部分国产芯片公司至今难以盈利。", SKEPTICAL, "-盈利(neg:难以)"),
        ("这并不意味着国产芯片没有机会，恰恰相反，市场空间巨大。", BULLISH, "+机会(neg2:并不意味着没有"),
        # concession: the main clause decides
        ("虽然起步较晚，但国产芯片已经在推理市场站稳脚跟。", BULLISH, "+站稳脚跟(contrast)"),
        ("虽然国产芯片发展迅速，但距离真正替代进口还很遥远。", SKEPTICAL, "-距离遥远"),
        # a problem overcome is progress
        ("卡脖子问题正被逐步攻克。", BULLISH, "+卡脖子(resolved:攻克)"),
        # questions: genuine ones are damped, rhetorical ones flipped
        ("中国什么时候能够研制出自己的光刻机？", NEUTRAL, "[question]"),
        ("国产芯片真的能替代英伟达吗？", SKEPTICAL, "[rhetorical]"),
        ("难道国产芯片不是已经证明了自己的实力吗？", BULLISH, "[rhetorical]"),
        # a foreign firm's success is not a stance on Chinese chips (decision: neutral) ...
        ("英伟达营收大增，数据中心业务创下新纪录。", NEUTRAL, "~营收大增(foreign)"),
        ("英伟达因出口管制计提了数十亿美元的减值。", NEUTRAL, ""),
        # ... unless the sentence also speaks of the domestic side
        ("英伟达营收下滑，国产芯片趁势抢占市场。", BULLISH, "+抢占市场"),
        ("中国芯片企业短期内不可能撼动英伟达的统治地位。", SKEPTICAL, "-撼动(neg:不可能)"),
    ],
)
def test_hard_cases(text, label, evidence):
    st = stance(text)
    assert st.label == label, st
    assert evidence in st.evidence, st.evidence


def test_intensifier_strengthens_and_diminisher_weakens():
    plain = stance("国产芯片的估值高估。").score
    strong = stance("国产芯片的估值严重高估。").score
    weak = stance("国产芯片的估值略有高估。").score
    assert strong < plain < 0 and plain < weak <= 0


def test_negated_skeptical_cue_counts_bullish_but_weaker():
    assert stance("国产AI芯片并非泡沫。").score > 0
    assert stance("国产AI芯片并非泡沫。").score < -stance("国产AI芯片是泡沫。").score


def test_targets():
    assert stance("寒武纪新一代训练芯片顺利量产，订单大幅增长。").target == "org.cambricon"
    assert stance("昇腾910C的出货量今年有望翻倍。").target == "org.huawei"  # product -> maker
    st = stance("英伟达营收大增。")
    assert (st.target, st.target_kind) == ("org.nvidia", "foreign")
    assert stance("国产芯片与国际先进水平仍存在明显差距。").target == "industry"


@pytest.mark.parametrize(
    "hant, hans",
    [
        ("國產晶片的使用率並不高，軟體生態仍是短板。", "国产芯片的使用率并不高，软件生态仍是短板。"),
        ("寒武紀新一代晶片順利量產，性能大幅提升。", "寒武纪新一代芯片顺利量产，性能大幅提升。"),
        ("輝達營收大增，資料中心業務創下新紀錄。", "英伟达营收大增，数据中心业务创下新纪录。"),
    ],
)
def test_traditional_equals_simplified_after_normalize(hant, hans):
    a, b = stance(hant), score_sentence(hans)
    assert (a.label, a.score, a.target, a.evidence) == (b.label, b.score, b.target, b.evidence)


# --- article aggregation ------------------------------------------------------------------------


def _s(score: float, label: str | None = None) -> SentenceStance:
    label = label or (BULLISH if score >= 0.2 else SKEPTICAL if score <= -0.2 else NEUTRAL)
    return SentenceStance(label, score, "industry", "industry", "", score, None, True)


def test_skeptical_article_is_not_averaged_into_neutral():
    sentences = [_s(0.0)] * 40 + [_s(-0.5), _s(-0.45)] + [_s(0.0)] * 20 + [_s(-0.6), _s(0.25)] + [_s(0.0)] * 10
    art = aggregate(sentences)
    assert art.label == SKEPTICAL and art.score < 0
    assert "skeptical=3" in art.evidence and "-#" in art.evidence


def test_both_sides_strong_is_mixed_and_little_opinion_is_neutral():
    assert aggregate([_s(0.5), _s(-0.5), _s(0.4), _s(-0.45), _s(0.0)]).label == MIXED
    assert aggregate([_s(0.0)] * 30 + [_s(0.3)]).label == NEUTRAL
    assert aggregate([]).label == NEUTRAL


def test_conclusion_and_verdict_weigh_more():
    body = [_s(0.4)] * 3 + [_s(-0.4)] * 3 + [_s(0.0)] * 20
    ending_down = aggregate(body + [_s(-0.4)] * 2)
    ending_up = aggregate(body + [_s(0.4)] * 2)
    assert ending_down.score < 0 < ending_up.score


def _doc(text: str, title: str | None = None) -> ArticleDoc:
    from pipeline.runner import prepare_article
    from pipeline.sentences import split_sentences

    doc = prepare_article(RawArticle("x.txt", 0, text, title=title))
    doc.sentences = split_sentences(doc.text_final)
    return doc


ARTICLE = (
    "國產AI晶片廠商今年迎來一輪上市潮。\n"
    "然而多家公司仍在持續虧損，估值明顯高估，泡沫風險不容忽視。\n"
    "業內人士坦言，國產晶片在智算中心的使用率並不高，軟體生態仍是最大短板。\n"
    "輝達的營收則再創新高。\n"
    "總體來看，國產替代道阻且長。"
)


def test_stage_rows():
    doc = _doc(ARTICLE, title="國產AI晶片：熱潮背後的隱憂")
    run_stance(doc)
    rows = stance_stage_rows(doc)["stance"]
    assert list(rows[0]) == ["article_id", "scope", "sent_index", "target", "target_kind", "label", "score", "evidence"]
    sentence_rows = [r for r in rows if r["scope"] == "sentence"]
    article_rows = [r for r in rows if r["scope"] == "article"]
    assert [r["sent_index"] for r in sentence_rows] == [s.sent_index for s in doc.sentences]
    assert len(article_rows) == 1 and article_rows[0]["sent_index"] is None
    assert article_rows[0]["target"] == "industry" and article_rows[0]["label"] == SKEPTICAL
    nvidia = next(r for r, s in zip(sentence_rows, doc.sentences) if "英伟达" in s.text)
    assert (nvidia["label"], nvidia["target"], nvidia["target_kind"]) == (NEUTRAL, "org.nvidia", "foreign")
    assert all(r["article_id"] == doc.article_id and -1 <= r["score"] <= 1 for r in rows)
    assert "title:" in article_rows[0]["evidence"]


def test_stage_uses_entity_mentions_when_present():
    doc = _doc("它的营收大增。")
    doc.extra_rows["mentions"] = [{"sent_index": 0, "start": 0, "end": 1, "text": "它", "label": "ORG", "entity_id": "org.nvidia"}]
    run_stance(doc)
    row = doc.extra_rows["stance"][0]
    assert (row["label"], row["target"]) == (NEUTRAL, "org.nvidia")
    doc.extra_rows["mentions"] = [{"sent_index": 0, "start": 0, "end": 1, "text": "它", "label": "ORG", "entity_id": "org.cambricon"}]
    run_stance(doc)
    row = doc.extra_rows["stance"][0]
    assert (row["label"], row["target"]) == (BULLISH, "org.cambricon")


def test_subject_carries_to_the_next_sentence_of_a_paragraph():
    doc = _doc("英伟达的生态十分完善。它在软件上全面领先。\n国产芯片在软件上全面领先。")
    run_stance(doc)
    labels = [r["label"] for r in doc.extra_rows["stance"] if r["scope"] == "sentence"]
    assert labels == [NEUTRAL, NEUTRAL, BULLISH]


# --- the seeds -----------------------------------------------------------------------------------

# What a careful reader says of each seed article's stance on the Chinese AI-chip industry:
# 000 (VC interview): names the anxiety, the chokepoints and the gaps, then argues they are being
#     overcome and closes with explicit confidence -> bullish.
# 001 (investor interview): bubble clearing, listed firms past their peak, "domestic substitution"
#     demystified, general-purpose GPUs hard to win; a few positives about system-level designs
#     -> skeptical.
# 003/0 (survey of five GPU start-ups): a long middle of product milestones framed by attrition at
#     the start and a sober conclusion (low utilisation, long road to an ecosystem, profitability)
#     -> mixed.
# 003/1 (teaser on H20 export controls): the foreign firm's losses are not the point; export
#     controls become a catalyst for domestic chips -> bullish.
# 003/2 (teaser on the foreign firm's China predicament): mostly about the foreign firm; the
#     domestic side appears as customers switching to domestic chips -> bullish, or neutral for a
#     reader who discounts an article about someone else: both accepted.
# 004 (feature on the "domestic Nvidias" parting ways): listings and funding for some, layoffs
#     and a cash crunch for another, heavy losses -> mixed.
SEED_ARTICLES = {
    ("000", 0): {BULLISH},
    ("001", 0): {SKEPTICAL},
    ("003", 0): {MIXED},
    ("003", 1): {BULLISH},
    ("003", 2): {BULLISH, NEUTRAL},
    ("004", 0): {MIXED},
}


@pytest.fixture(scope="module")
def seed_docs():
    """Seed articles through ingest, normalize, despin and sentences, then stance (without the
    entities stage, to stay fast: the stance stage then finds entities with the catalog;
    scripts/eval_stance.py checks the same labels with the full pipeline)."""
    from pipeline.ingest import ingest_file
    from pipeline.runner import prepare_article
    from pipeline.stages import STAGES

    docs = {}
    for prefix in sorted({k[0] for k in SEED_ARTICLES}):
        path = seed_path(prefix)
        for part, raw in enumerate(ingest_file(path).articles):
            doc = prepare_article(raw)
            for stage in STAGES:
                if stage.name in ("despin", "sentences"):
                    stage.run(doc)
            run_stance(doc)
            docs[(prefix, part)] = doc
    return docs


@pytest.mark.parametrize("key", sorted(SEED_ARTICLES))
def test_seed_article_labels(seed_docs, key):
    assert key in seed_docs, sorted(seed_docs)
    art = next(r for r in seed_docs[key].extra_rows["stance"] if r["scope"] == "article")
    assert art["label"] in SEED_ARTICLES[key], art


def test_seed_sentence_labels(seed_docs):
    """74 seed sentences labelled by reading (tests/fixtures/stance_seed_labels.tsv holds
    indexes and hashes only). The rules were tuned while reading the seeds, so this guards
    regressions: >= 0.85 accuracy (today ~0.96)."""
    rows = read_tsv(SEED_LABELS)
    gold, pred = [], []
    for row in rows:
        doc = seed_docs.get((row["seed"], int(row["part"])))
        i = int(row["sent_index"])
        if doc is None or i >= len(doc.sentences):
            continue
        if hashlib.sha1(doc.sentences[i].text.encode("utf-8")).hexdigest()[:10] != row["sha1"]:
            continue
        gold.append(row["label"])
        pred.append(next(r["label"] for r in doc.extra_rows["stance"] if r["scope"] == "sentence" and r["sent_index"] == i))
    assert len(gold) >= 0.5 * len(rows), "seed sentences changed (despin or sentence splitting): relabel stance_seed_labels.tsv"
    assert metrics(gold, pred)["accuracy"] >= 0.85


def test_config_entities_exist_in_catalog():
    from pipeline.entities.catalog import load_catalog
    from pipeline.stance.lexicon import load_lexicon

    lex = load_lexicon()
    known = set(load_catalog().entities)
    listed = [x for x in lex.domestic + lex.foreign + lex.context if "*" not in x]
    listed += list(lex.owners) + list(lex.owners.values())
    assert not [x for x in listed if x not in known]
