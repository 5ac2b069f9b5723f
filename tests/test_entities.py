"""Stage 4 entities: catalog, rules, precedence with (injected) model spans, linking.

No trained NER model is needed: model spans are passed in as ``model_spans``. One optional
test runs the real model and skips when ``models/ner_msra`` is absent; the seed tests read
``../shared/seeds`` at run time and skip when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT, ConfigError, load_config
from pipeline.entities.catalog import LABELS, build_catalog, load_catalog
from pipeline.entities.link import load_linker
from pipeline.entities.rules import load_rules
from pipeline.entities.stage import (
    EntityRecord,
    Mention,
    aggregate_entities,
    aggregate_entity_rows,
    build_doc,
    find_mentions,
    mention_rows,
)
from pipeline.model import Sentence
from pipeline.normalize import normalize
from pipeline.sentences import split_sentences

SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"


# --- helpers --------------------------------------------------------------------------------


def mentions_of(text: str, model: dict[str, tuple[str, str]] | None = None) -> list[Mention]:
    """Mentions of ``text``; ``model`` maps a surface to (label) spans the fake model returns
    wherever that surface occurs (offsets relative to each sentence)."""
    sents = split_sentences(text)
    spans = []
    for s in sents:
        found = []
        for surface, label in (model or {}).items():
            pos = s.text.find(surface)
            while pos >= 0:
                found.append((surface, label, pos, pos + len(surface)))
                pos = s.text.find(surface, pos + 1)
        spans.append(found)
    mentions = find_mentions(text, sents, spans)
    check_invariants(text, sents, mentions)
    return mentions


def check_invariants(text: str, sents: list[Sentence], mentions: list[Mention]) -> None:
    by_index = {s.sent_index: s for s in sents}
    last_end = -1
    for m in mentions:
        assert text[m.start : m.end] == m.text
        sent = by_index[m.sent_index]
        assert sent.start <= m.start < m.end <= sent.end, m
        assert m.start >= last_end, f"overlapping mentions at {m}"
        last_end = m.end
        assert m.label in LABELS
        assert m.entity_id and 0 < m.confidence <= 1
        assert m.detector == "catalog" or m.detector == "model" or m.detector.startswith("rule:")


def by_text(mentions: list[Mention]) -> dict[str, Mention]:
    return {m.text: m for m in mentions}


def rule_texts(text: str, rule: str | None = None) -> list[str]:
    return [text[s.start : s.end] for s in load_rules().find(text) if rule is None or s.rule == rule]


# --- catalog --------------------------------------------------------------------------------


def test_catalog_keeps_the_despin_entries_and_format():
    cfg = load_config("entities")
    ids = {e["id"] for e in cfg["entities"]}
    assert {"org.bis", "org.big_fund", "org.cas", "org.miit"} <= ids
    for entity in cfg["entities"]:
        assert set(entity) >= {"id", "name", "label", "aliases"}
        assert entity["label"] in LABELS
        assert all(isinstance(a, str) for a in entity["aliases"])
    catalog = load_catalog()
    assert len([e for e in catalog.entities.values() if e.source != "gazetteer"]) >= 120


def test_catalog_indexes_every_script_and_the_t2s_form():
    catalog = load_catalog()
    for surface in ["英伟达", "英偉達", "輝達", "辉达", "NVIDIA", "Nvidia", "nvidia"]:
        assert catalog.lookup(surface).id == "org.nvidia", surface
    for surface in ["台积电", "台積電", "TSMC"]:
        assert catalog.lookup(surface).id == "org.tsmc"
    for surface in ["黄仁勋", "黃仁勳", "Jensen Huang"]:
        assert catalog.lookup(surface).id == "person.jensen_huang"
    assert catalog.lookup("摩爾線程").id == "org.moore_threads"
    assert catalog.place("广东省").id == "gpe:广东"
    assert catalog.looks_like_gpe("巴伐利亚州") and not catalog.looks_like_gpe("华强北")
    # the t2s form of an alias is indexed even when not declared; one surface, one entity
    small = build_catalog({"entities": [{"id": "org.mediatek", "name": "MediaTek", "label": "ORG", "aliases": ["聯發科"]}]})
    assert small.lookup("联发科").id == "org.mediatek"
    clash = [
        {"id": "org.a", "name": "甲", "label": "ORG", "aliases": ["同名"]},
        {"id": "org.b", "name": "乙", "label": "ORG", "aliases": ["同名"]},
    ]
    with pytest.raises(ConfigError):
        build_catalog({"entities": clash})


@pytest.mark.parametrize(
    "sentence",
    [
        "英伟达发布了新芯片，台积电负责代工，黄仁勋出席。",
        "英偉達發布了新芯片，台積電負責代工，黃仁勳出席。",
        "輝達發表了新晶片，台積電負責代工，黃仁勳出席。",
        "NVIDIA发布了新芯片，TSMC负责代工，Jensen Huang出席。",
    ],
)
def test_aliases_in_every_script_link_to_one_id(sentence):
    text = normalize(sentence).text
    ids = {m.entity_id for m in mentions_of(text)}
    assert {"org.nvidia", "org.tsmc", "person.jensen_huang"} <= ids, (text, ids)


def test_latin_aliases_do_not_match_inside_longer_words():
    ms = by_text(mentions_of("AMDX不是AMD。新卡H200、GB200与H20不同。"))
    assert ms["AMD"].entity_id == "org.amd"
    assert "AMDX" not in ms and not any(m.entity_id == "org.amd" and m.start == 0 for m in ms.values())
    assert ms["H200"].entity_id == "product.nvidia_h200"
    assert ms["H20"].entity_id == "product.nvidia_h20"
    assert "B200" not in ms


def test_false_friends_and_context_short_forms():
    ids = {m.text: m.entity_id for m in mentions_of("摩尔在会上说，摩尔定律放缓。高通量测序与发展中国家。")}
    assert "摩尔" not in ids  # no 摩尔线程 in the article
    assert "高通" not in ids and "中国" not in ids
    ms = mentions_of("摩尔线程发布了新显卡。摩尔还表示，摩尔定律仍然有效。")
    shorts = [m for m in ms if m.text == "摩尔"]
    assert len(shorts) == 1 and shorts[0].entity_id == "org.moore_threads"


# --- rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("该芯片由澜舟科技推出。", "澜舟科技"),
        ("该公司被星海科技收购。", "星海科技"),
        ("英伟达和星海科技签约。", "星海科技"),
        ("国内头部芯片企业曦望科技宣布融资。", "曦望科技"),
        ("自从远山创投入主芯迈科技以来。", "芯迈科技"),
        ("红杉资本领投。", "红杉资本"),
        ("IDG资本领投。", "IDG资本"),
        ("他曾任芯源微电子总裁。", "芯源微电子"),
        ("注册主体为苏州星海智芯科技有限公司。", "苏州星海智芯科技有限公司"),
        ("蚂蚁集团使用了该芯片。", "蚂蚁集团"),
        ("他毕业于北京理工大学。", "北京理工大学"),
        ("星海智能宣布完成融资。", "星海智能"),  # weak suffix with a company cue
    ],
)
def test_org_suffix_rule_finds_the_name_with_its_boundaries(text, expected):
    assert expected in rule_texts(text, "org_suffix"), rule_texts(text)


@pytest.mark.parametrize(
    "text",
    [
        "这家公司和创业公司都不是名字。",
        "人工智能和消费电子终端的需求。",
        "中国半导体行业与美国科技公司。",
        "很多上市公司和设计公司。",
        "端侧智能方面，具身智能公司很多。",
        "不少基金开始大量投半导体项目。",
        "纳斯达克半导体指数下跌，一些EDA公司上涨。",
    ],
)
def test_org_suffix_rule_rejects_common_noun_phrases(text):
    assert rule_texts(text, "org_suffix") == []


def test_product_code_rules_and_their_exclusions():
    text = "英伟达A100、H20，AMD MI308与MI300X，MTT S80，GPT-4，壁仞BR100。"
    assert set(rule_texts(text, "product_code")) >= {"A100", "H20", "MI308", "MI300X", "MTT S80", "GPT-4", "BR100"}
    noise = "售价100亿美元，采用7nm工艺，2024年Q1出货，FP32和INT8算力，5G，PCIe5.0接口，L2缓存，EE85班，FY2025。"
    assert rule_texts(noise, "product_code") == []
    brands = "云燧T20、天垓100、思元590、曦云C500、邃思2.0和麒麟970。"
    assert rule_texts(brands, "brand_code") == ["云燧T20", "天垓100", "思元590", "曦云C500", "邃思2.0", "麒麟970"]


def test_quoted_product_rule_needs_a_cue_and_a_name():
    assert rule_texts("公司推出GPU芯片“晨曦”。", "quoted_product") == ["晨曦"]
    assert rule_texts("公司推出“天垓100”。", "quoted_product") == ["天垓100"]
    assert rule_texts("该公司的“星火一号”GPU。", "quoted_product") == ["星火一号"]
    assert rule_texts("厂商常发布芯片“顺利回片”的消息。", "quoted_product") == []
    assert rule_texts("这些企业常被称作“国产英特尔”。", "quoted_product") == []


@pytest.mark.parametrize(
    "text, names",
    [
        ("创始人张文曾表示要扩产。", ["张文"]),
        ("该公司CEO赵立东出席发布会。", ["赵立东"]),
        ("某机构分析师龚建华认为需求旺盛。", ["龚建华"]),
        ("公司董事长兼CEO李明透露了进展。", ["李明"]),
        ("蓝海资本合伙人周明和主播吴迪对谈。", ["周明", "吴迪"]),
        ("协会副理事长于海波指出问题。", ["于海波"]),
        ("CTO兼首席架构师宋涛和负责芯片的王磊。", ["宋涛"]),
        ("研究总监向媒体表示乐观。", []),
    ],
)
def test_title_person_rule(text, names):
    assert rule_texts(text, "title_person") == names


def test_speaker_rule_only_at_line_start():
    text = "吴迪：为什么芯片重要？\n周明：因为算力。\n小结：这是总结。"
    ms = mentions_of(text)
    speakers = [(m.text, m.detector) for m in ms if m.label == "PERSON"]
    assert speakers == [("吴迪", "rule:speaker"), ("周明", "rule:speaker")]


# --- precedence and merging with model spans ----------------------------------------------------


def test_catalog_beats_rules_beats_model():
    text = "英伟达公司CEO黄仁勋访华。该芯片由澜舟科技推出。"
    ms = mentions_of(text, {"英伟达公司CEO": "ORG", "由澜舟": "ORG", "黄仁勋访": "PER"})
    got = {(m.text, m.detector, m.entity_id) for m in ms}
    assert ("英伟达公司", "catalog", "org.nvidia") in got
    assert ("黄仁勋", "catalog", "person.jensen_huang") in got
    assert ("澜舟科技", "rule:org_suffix", "org:澜舟") in got
    assert not any(m.detector == "model" for m in ms)


def test_model_spans_fill_in_with_mapped_labels():
    text = "据时代周报报道，普瑞在巴伐利亚州和华强北考察，由华强电子代工。"
    ms = by_text(mentions_of(text, {"时代周报": "ORG", "普瑞": "PER", "巴伐利亚州": "LOC", "华强北": "LOC", "由华强电子": "ORG"}))
    assert (ms["时代周报"].label, ms["时代周报"].detector, ms["时代周报"].entity_id) == ("ORG", "model", "org:时代周报")
    assert ms["时代周报"].confidence == pytest.approx(0.7)
    assert (ms["普瑞"].label, ms["普瑞"].entity_id) == ("PERSON", "person:普瑞")
    assert (ms["巴伐利亚州"].label, ms["巴伐利亚州"].entity_id) == ("GPE", "gpe:巴伐利亚")
    assert ms["华强北"].label == "LOC"
    assert ms["华强电子"].detector == "model"  # leading 由 stripped
    assert "由华强电子" not in ms


def test_model_noise_is_dropped_and_name_tails_are_cut():
    text = "分析师郭明远认为，AI Accelerator需求旺盛。郭明远称CEO将访问600519.SH所在的上交所，卡脖子问题仍在。"
    ms = mentions_of(text, {"郭明远": "PER", "郭明远称": "PER", "elerator": "PER", "CEO": "ORG", "SH": "ORG", "卡脖子": "PER"})
    assert [(m.text, m.label) for m in ms if m.text.startswith("郭明远")] == [("郭明远", "PERSON")] * 2
    assert not {"elerator", "CEO", "SH", "卡脖子", "郭明远称"} & {m.text for m in ms}
    assert len({m.entity_id for m in ms if m.text == "郭明远"}) == 1


def test_longest_wins_among_equals_and_places_give_way_to_organisations():
    text = "中关村科学城和上海市政府投资了该公司，他毕业于北京理工大学。"
    ms = by_text(mentions_of(text, {"中关村": "LOC", "中关村科学城": "ORG", "上海市政府": "ORG"}))
    assert ms["中关村科学城"].detector == "model" and "中关村" not in ms
    assert ms["上海市政府"].label == "ORG"  # model ORG with an org head beats catalog 上海
    assert ms["北京理工大学"].detector == "rule:org_suffix"  # rule beats catalog 北京
    assert "上海" not in ms and "北京" not in ms


def test_a_rule_extending_a_catalog_name_wins():
    ms = by_text(mentions_of("寒武纪的思元590和智铠100都已量产，印度尼西亚也有需求。"))
    assert ms["思元590"].detector == "rule:brand_code" and "思元" not in ms
    assert ms["智铠100"].label == "PRODUCT"
    assert ms["印度尼西亚"].label == "GPE" and "印度" not in ms
    assert ms["寒武纪"].entity_id == "org.cambricon"


def test_bad_model_spans_are_ignored_and_lengths_checked():
    text = "英伟达发布新品。"
    sents = split_sentences(text)
    ms = find_mentions(text, sents, [[("英伟", "ORG", 3, 5), ("新品", "MISC", 5, 7)]])
    assert [(m.text, m.detector) for m in ms] == [("英伟达", "catalog")]
    with pytest.raises(ValueError):
        find_mentions(text, sents, [])


def test_doc_carries_the_spans_of_every_detector():
    text = "英伟达和澜舟科技的新品。"
    sents = split_sentences(text)
    doc = build_doc(text, sents, [[("澜舟", "ORG", 4, 6)]])
    assert [s.text for s in doc.spans["catalog"]] == ["英伟达"]
    assert "澜舟科技" in [s.text for s in doc.spans["rules"]]
    assert [s.text for s in doc.spans["model"]] == ["澜舟"]
    assert [(e.text, e.label_, e.kb_id_, e.id_) for e in doc.ents] == [
        ("英伟达", "ORG", "org.nvidia", "catalog"),
        ("澜舟科技", "ORG", "org:澜舟", "rule:org_suffix"),
    ]


def test_model_is_called_lazily_when_no_spans_are_given(monkeypatch):
    from pipeline.entities import ner_model

    calls = []

    def fake(sentences):
        calls.append(list(sentences))
        return [[("普瑞", "PER", 0, 2)] if s.startswith("普瑞") else [] for s in sentences]

    monkeypatch.setattr(ner_model, "predict_spans", fake)
    text = "普瑞会见了黄仁勋。"
    ms = find_mentions(text, split_sentences(text))
    assert calls == [[text]]
    assert [(m.text, m.detector) for m in ms] == [("普瑞", "model"), ("黄仁勋", "catalog")]


def test_missing_model_falls_back_to_catalog_and_rules(monkeypatch):
    from pipeline.entities import ner_model

    def missing(sentences):
        raise FileNotFoundError("no NER model in models/ner_msra")

    monkeypatch.setattr(ner_model, "predict_spans", missing)
    text = "英伟达发布新品。"
    assert [m.entity_id for m in find_mentions(text, split_sentences(text))] == ["org.nvidia"]


def test_empty_input_and_the_stage_function():
    assert find_mentions("", [], []) == []
    assert find_mentions("", [], None) == []  # no sentences: the model is not even loaded
    from pipeline.entities.stage import entities_stage_rows, run_entities
    from pipeline.model import ArticleDoc, NormalizedText, RawArticle

    text = "英伟达与澜舟科技合作。"
    doc = ArticleDoc("a1", RawArticle("x.txt", 0, text), NormalizedText(text, "hans", "cn", list(range(len(text) + 1))))
    doc.text_final, doc.sentences = text, split_sentences(text)
    run_entities(doc, [[]])
    rows = entities_stage_rows(doc)["mentions"]
    assert [(r["text"], r["entity_id"]) for r in rows] == [("英伟达", "org.nvidia"), ("澜舟科技", "org:澜舟")]


# --- linking --------------------------------------------------------------------------------


def test_short_forms_link_to_the_long_form_of_the_article():
    text = "澜舟科技发布了新模型。澜舟表示，澜舟科技股份有限公司将上市。"
    ms = mentions_of(text)
    assert {m.entity_id for m in ms if "澜舟" in m.text} == {"org:澜舟"}
    assert [m.detector for m in ms if m.text == "澜舟"] == ["rule:short_form"]
    # catalog short forms link everywhere
    ids = {m.text: m.entity_id for m in mentions_of("中芯的产能紧张，壁仞也在扩产。")}
    assert ids == {"中芯": "org.smic", "壁仞": "org.biren"}
    # a bare short form takes the id of the long form it begins (model spans)
    ms = mentions_of("星海发布新芯片。星海微电子成立于2020年。", {"星海": "ORG"})
    assert {m.text: m.entity_id for m in ms} == {"星海": "org:星海微电子", "星海微电子": "org:星海微电子"}
    # ... but not when it is its own entity beside fuller names
    ms = mentions_of("蓝海资本合伙人周明说，蓝海研究所发布报告，蓝海也投了芯片。")
    assert {m.text: m.entity_id for m in ms if "蓝海" in m.text} == {
        "蓝海资本": "org:蓝海", "蓝海研究所": "org:蓝海研究所", "蓝海": "org:蓝海"
    }


def test_surfaces_found_once_are_found_again_in_the_article():
    ms = mentions_of("创始人王磊表示乐观。王磊还说，芯片很难。")
    assert [(m.text, m.detector) for m in ms] == [("王磊", "rule:title_person"), ("王磊", "rule:propagate")]
    assert len({m.entity_id for m in ms}) == 1


def test_ids_are_deterministic_and_derived_from_the_normalized_surface():
    linker = load_linker()
    assert linker.derived_id("ORG", "壁仞科技股份有限公司") == "org:壁仞"
    assert linker.derived_id("ORG", "澜舟科技集团") == "org:澜舟"
    assert linker.derived_id("ORG", "新公司") == "org:新公司"  # a core needs two characters
    assert linker.derived_id("PRODUCT", "MTT S80") == "product:mtt_s80"
    assert linker.derived_id("GPE", "广东省") == "gpe:广东"
    assert linker.link("ORG", "华为公司")[0] == "org.huawei"
    text = "澜舟科技和星海科技的MTT S80。"
    first = mentions_of(text)
    assert first == mentions_of(text)
    assert [m.entity_id for m in first] == ["org:澜舟", "org:星海", "product:mtt_s80"]


def test_same_company_one_id_across_simplified_and_traditional():
    simplified = "壁仞科技与摩尔线程都在上海，英伟达的黄仁勋也来了。"
    traditional = normalize("壁仞科技與摩爾線程都在上海，英偉達的黃仁勳也來了。").text
    ids_s = [m.entity_id for m in mentions_of(simplified)]
    ids_t = [m.entity_id for m in mentions_of(traditional)]
    assert ids_s == ids_t == ["org.biren", "org.moore_threads", "gpe.shanghai", "org.nvidia", "person.jensen_huang"]


# --- aggregation -----------------------------------------------------------------------------


def test_aggregate_entities():
    ms = mentions_of("英伟达和NVIDIA都指同一家公司。澜舟科技说，澜舟很好，澜舟科技也很好。")
    records = aggregate_entities(ms)
    assert [r.entity_id for r in records] == sorted(r.entity_id for r in records)
    rec = {r.entity_id: r for r in records}
    nvidia = rec["org.nvidia"]
    assert isinstance(nvidia, EntityRecord)
    assert (nvidia.name, nvidia.label, nvidia.mention_count) == ("英伟达", "ORG", 2)
    assert {"NVIDIA", "英偉達", "輝達"} <= set(nvidia.aliases) and "英伟达" not in nvidia.aliases
    lanzhou = rec["org:澜舟"]
    assert (lanzhou.name, lanzhou.aliases, lanzhou.mention_count) == ("澜舟科技", ["澜舟"], 3)
    rows = mention_rows("a1", ms)
    assert aggregate_entity_rows(rows)[0]["entity_id"] == records[0].entity_id
    assert rows[0]["article_id"] == "a1" and set(rows[0]) == {
        "article_id", "sent_index", "start", "end", "text", "label", "entity_id", "confidence", "detector"
    }


# --- the real model (optional) --------------------------------------------------------------------


def test_real_model_spans_merge_cleanly():
    if not (PROJECT_ROOT / "models" / "ner_msra" / "config.json").is_file():
        pytest.skip("no trained NER model in models/ner_msra")
    text = "英伟达创始人黄仁勋在北京会见了商务部官员，燧原科技也派人参加。"
    sents = split_sentences(text)
    ms = find_mentions(text, sents)
    check_invariants(text, sents, ms)
    assert {"org.nvidia", "person.jensen_huang", "org.enflame"} <= {m.entity_id for m in ms}


# --- seeds ---------------------------------------------------------------------------------------


def seed_mentions(prefix: str) -> tuple[str, list[Mention]]:
    if not SEEDS.is_dir():
        pytest.skip("seeds not available: ../shared/seeds")
    from pipeline.ingest import ingest_file

    path = next(iter(sorted(SEEDS.glob(f"{prefix}_*"))), None)
    if path is None:
        pytest.skip(f"seed {prefix} not found in ../shared/seeds")
    article = ingest_file(path).articles[0]
    text = normalize(article.text).text
    sents = split_sentences(text)
    ms = find_mentions(text, sents, [[] for _ in sents])
    check_invariants(text, sents, ms)
    return text, ms


@pytest.fixture(scope="module")
def seeds_003_004():
    return seed_mentions("003"), seed_mentions("004")


def test_seeds_link_the_same_entities_across_scripts(seeds_003_004):
    (_, simplified), (_, traditional) = seeds_003_004
    expected = {
        "英伟达": "org.nvidia",
        "黄仁勋": "person.jensen_huang",
        "壁仞科技": "org.biren",
        "摩尔线程": "org.moore_threads",
        "燧原科技": "org.enflame",
        "张文": "person.zhang_wen",
        "张建中": "person.zhang_jianzhong",
        "赵立东": "person.zhao_lidong",
        "BR100": "product.biren_br100",
    }
    for ms in (simplified, traditional):
        found = {(m.text, m.entity_id) for m in ms}
        assert set(expected.items()) <= found
    shared = {m.entity_id for m in simplified} & {m.entity_id for m in traditional}
    assert set(expected.values()) <= shared


def test_seed_spans_are_not_broken(seeds_003_004):
    for text, ms in seeds_003_004:
        for m in ms:
            if m.label == "ORG":
                assert m.text[0] not in "由被和与在对向从将把的了是", m
            assert m.text == m.text.strip() and len(m.text) >= 2, m
        detectors = {m.detector for m in ms}
        assert {"catalog", "rule:org_suffix", "rule:title_person", "rule:brand_code"} <= detectors
        people = {m.text for m in ms if m.label == "PERSON"}
        assert people and all(2 <= len(p) <= 3 or p.isascii() for p in people), people
