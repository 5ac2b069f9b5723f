"""Stage 5 facts: numerals, quantities, periods, claims, the stage API; then the seeds.

Every sentence here is written for these tests. The seed tests read ``../shared/seeds`` at run
time (skipping when absent), run them through ingest -> normalize -> despin -> sentences ->
entities (catalog and rules, no statistical model) -> facts, and assert on the values found.
"""

from __future__ import annotations

import pytest

from pipeline.facts.periods import find_periods
from pipeline.facts.quantities import find_quantities
from pipeline.facts.stage import extract_facts, facts_stage_rows, run_facts
from pipeline.sentences import split_sentences

from conftest import seed_path

# --- helpers ------------------------------------------------------------------------------------


def quantities(text: str, mentions=()):
    qs = find_quantities(text, "a_test", split_sentences(text), list(mentions))
    for q in qs:
        assert text[q.start : q.end] == q.surface
    return qs


def one(text: str):
    """The only quantity of ``text`` as (value, low, high, unit, kind, approx)."""
    qs = quantities(text)
    assert len(qs) == 1, [q.surface for q in qs]
    q = qs[0]
    return q.value, q.value_low, q.value_high, q.unit, q.unit_kind, q.approx


def mention(text: str, surface: str, label: str, entity_id: str, nth: int = 0) -> dict:
    pos = -1
    for _ in range(nth + 1):
        pos = text.index(surface, pos + 1)
    return {"start": pos, "end": pos + len(surface), "text": surface, "label": label, "entity_id": entity_id}


def claims_of(text: str, mentions=(), year: int | None = None):
    sents = split_sentences(text)
    _, qs, cs = extract_facts(text, "a_test", sents, list(mentions), year)
    by_id = {q.quantity_id: q for q in qs}
    for c in cs:
        assert text[c.start : c.end] == c.text
        assert all(i in by_id for i in c.quantity_ids)
    return cs, by_id


def approx_eq(a, b):
    return a == pytest.approx(b, rel=1e-9)


# --- numerals, scales, units --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("销售额达到1,200万元。", (1.2e7, 1.2e7, 1.2e7, "CNY", "currency", None)),
        ("公司去年营收约为二百六十亿元。", (2.6e10, 2.6e10, 2.6e10, "CNY", "currency", "about")),
        ("这笔交易价值3.5亿美元。", (3.5e8, 3.5e8, 3.5e8, "USD", "currency", None)),
        ("募资2.5亿港元用于扩产。", (2.5e8, 2.5e8, 2.5e8, "HKD", "currency", None)),
        ("本轮融资额为8000万人民币。", (8e7, 8e7, 8e7, "CNY", "currency", None)),
        ("公司市值突破3万亿美元。", (3e12, 3e12, None, "USD", "currency", "over")),
        ("产业基金规模为两千亿元。", (2e11, 2e11, 2e11, "CNY", "currency", None)),
        ("该板块市场空间有望达到百亿。", (1e10, 1e10, 1e10, None, "number", None)),
        ("公司拥有5千名员工。", (5000.0, 5000.0, 5000.0, "人", "count", None)),
        ("累计融资近70亿元。", (7e9, None, 7e9, "CNY", "currency", "nearly")),
        ("逾百家企业参展。", (100.0, 100.0, None, "家", "count", "over")),
        ("年收入不足800万元。", (8e6, None, 8e6, "CNY", "currency", "under")),
        ("行业里有五百多家公司。", (500.0, 500.0, None, "家", "count", "over")),
        ("团队共20余人。", (20.0, 20.0, None, "人", "count", "over")),
        ("良率在90%以上。", (90.0, 90.0, None, "%", "percent", "over")),
        ("股价一度下跌超6%。", (6.0, 6.0, None, "%", "percent", "over")),
        ("毛利率为15%左右。", (15.0, 15.0, 15.0, "%", "percent", "about")),
        ("占比约为12.5%。", (12.5, 12.5, 12.5, "%", "percent", "about")),
        ("国产化率达到百分之三十。", (30.0, 30.0, 30.0, "%", "percent", None)),
        ("三成订单来自海外。", (30.0, 30.0, 30.0, "%", "percent", None)),
        ("增速提高了2个百分点。", (2.0, 2.0, 2.0, "pp", "percent", None)),
        ("约1/3的产能闲置。", (1 / 3, 1 / 3, 1 / 3, "ratio", "ratio", "about")),
        ("国内有二百六十家芯片设计公司。", (260.0, 260.0, 260.0, "家", "count", None)),
        ("投资规模达数十亿元。", (None, 2e9, 9e9, "CNY", "currency", "several")),
        ("最后能活下来的只有一两家。", (None, 1.0, 2.0, "家", "count", None)),
        ("性能提升3.3倍。", (3.3, 3.3, 3.3, "x", "multiplier", None)),
        ("股价为88.5元/股。", (88.5, 88.5, 88.5, "CNY/share", "price", None)),
        ("发行价为12美元/股。", (12.0, 12.0, 12.0, "USD/share", "price", None)),
        ("净利润同比-12.3%。", (-12.3, -12.3, -12.3, "%", "percent", None)),
        ("招股价为每股20港元。", (20.0, 20.0, 20.0, "HKD/share", "price", None)),
        ("投入是收入的一倍半。", (1.5, 1.5, 1.5, "x", "multiplier", None)),
        ("单次流片花费上亿元。", (1e8, 1e8, None, "CNY", "currency", "over")),
        ("１２３家公司参会。", (123.0, 123.0, 123.0, "家", "count", None)),
    ],
)
def test_number_forms(text, expected):
    got = one(text)
    assert got[3:] == expected[3:]
    for g, e in zip(got[:3], expected[:3]):
        assert (g is None and e is None) or approx_eq(g, e)


@pytest.mark.parametrize(
    "text, low, high, unit, kind",
    [
        ("单价为1.2万-1.5万美元。", 1.2e4, 1.5e4, "USD", "currency"),
        ("每年研发投入为5-10亿。", 5e8, 1e9, None, "number"),
        ("订单规模在120亿至150亿美元之间。", 1.2e10, 1.5e10, "USD", "currency"),
        ("良率在90-95%之间。", 90.0, 95.0, "%", "percent"),
        ("渗透率为12%至13%。", 12.0, 13.0, "%", "percent"),
        ("其中四分之一到三分之一是初创企业。", 0.25, 1 / 3, "ratio", "ratio"),
        ("推理性能提升2-3倍。", 2.0, 3.0, "x", "multiplier"),
        ("目标价在160～185美元。", 160.0, 185.0, "USD", "currency"),
        ("需要3、4块板卡才能完成。", 3.0, 4.0, "块", "count"),
        ("未来5到10年内见分晓。", 5.0, 10.0, "year", "time"),
    ],
)
def test_ranges(text, low, high, unit, kind):
    value, lo, hi, u, k, _ = one(text)
    assert value is None and approx_eq(lo, low) and approx_eq(hi, high)
    assert (u, k) == (unit, kind)


@pytest.mark.parametrize(
    "text, value, unit, kind",
    [
        ("公司共有3颗芯片流片。", 3, "颗", "count"),
        ("月产能为12片晶圆。", 12, "片", "count"),
        ("服务器搭载8张加速卡。", 8, "张", "count"),
        ("一面墙上有16个机柜。", 16, "个", "count"),
        ("研发团队有200人。", 200, "人", "count"),
        ("公司已完成5轮融资。", 5, "轮", "count"),
        ("年底前交付20台设备。", 20, "台", "count"),
        ("采用5纳米工艺。", 5, "nm", "tech"),
        ("采用7nm工艺。", 7, "nm", "tech"),
        ("台湾厂商已量产3奈米制程。", 3, "nm", "tech"),
        ("单精度算力为320TFLOPS。", 320, "TFLOPS", "tech"),
        ("集群算力为2.5 PFLOPS。", 2.5, "PFLOPS", "tech"),
        ("整数算力为256TOPS。", 256, "TOPS", "tech"),
        ("互联带宽为900GB/s。", 900, "GB/s", "tech"),
        ("显存带宽为3.35TB/s。", 3.35, "TB/s", "tech"),
        ("芯片面积为815mm²。", 815, "mm2", "tech"),
        ("该芯片集成了530亿个晶体管。", 5.3e10, "transistor", "tech"),
        ("公司正在建设万卡集群。", 1e4, "card", "tech"),
        ("推出8卡服务器。", 8, "card", "tech"),
        ("大模型拥有700亿参数。", 7e10, "parameter", "tech"),
        ("支持16位浮点运算。", 16, "bit", "tech"),
        ("研发周期长达18个月。", 18, "month", "time"),
        ("模型连续运行了19天。", 19, "day", "time"),
        ("他在行业深耕十年。", 10, "year", "time"),
        ("计划投入 5000 亿美元。", 5e11, "USD", "currency"),
    ],
)
def test_units(text, value, unit, kind):
    v, lo, hi, u, k, _ = one(text)
    assert approx_eq(v, value) and (u, k) == (unit, kind)


@pytest.mark.parametrize(
    "text",
    [
        "英伟达A100和H20芯片都受到管制。",
        "支持FP32与INT8两种精度。",  # 两种 is a count; FP32/INT8 are not
        "公司股票代码为688256.SH。",
        "采用2.5D封装技术。",
        "基于GPT-4模型开发。",
        "第三代产品即将发布。",
        "这是行业里的难题之一。",
        "行业呈现百家争鸣的局面。",
        "一家公司不可能包揽全部环节。",
        "2024全球AI大会在上海举行。",
        "新款x86处理器和PCIe5.0接口。",
        "MUSA Toolkit 1.0 已经发布。",
    ],
)
def test_codes_ordinals_idioms_and_articles_are_not_quantities(text):
    surfaces = [q.surface for q in quantities(text)]
    if "两种" in text:
        assert surfaces == ["两种"]
    else:
        assert surfaces == []


def test_numbers_inside_entity_mentions_are_skipped():
    text = "思元590的性能接近A100。"
    ms = [mention(text, "思元590", "PRODUCT", "product:思元590")]
    assert quantities(text, ms) == []
    assert [q.surface for q in quantities(text)] == []  # glued to a name even without the mention


# --- dates and periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, norms",
    [
        ("2023年，公司营收增长。", ["2023"]),
        ("2024年前三季度数据。", ["2024-Q1/2024-Q3"]),
        ("到2025财年第一季度为止。", ["FY2025-Q1"]),
        ("今年5月，公司发布新品。", ["2024-05"]),
        ("去年同期。", ["2023"]),
        ("2019年5月16日，名单公布。", ["2019-05-16"]),
        ("5月16日，名单公布。", ["2024-05-16"]),
        ("2019年至2020年间成立。", ["2019/2020"]),
        ("2019-2020年间成立。", ["2019/2020"]),
        ("2023年1~2月进口下滑。", ["2023-01/2023-02"]),
        ("展会于7月26日-7月29日举行。", ["2024-07-26/2024-07-29"]),
        ("2025年Q1营收创新高。", ["2025-Q1"]),
        ("2025年上半年有多家企业挂牌。", ["2025-H1"]),
        ("2020年5月流片，12月点亮。", ["2020-05", "2020-12"]),
        ("2020年公司上市。同年二季度扭亏。", ["2020", "2020-Q2"]),
        ("2022全年下滑。", ["2022"]),
        ("在 1 月 23 日签署。", ["2024-01-23"]),
        ("截至2024-06-30的数据。", ["2024-06-30"]),
        ("20世纪50年代起步。", [None, None]),
    ],
)
def test_periods(text, norms):
    ps = find_periods(text, 2024)
    assert [p.norm for p in ps] == norms
    for p in ps:
        assert text[p.start : p.end] == p.text


def test_periods_without_article_date_and_codes():
    assert [p.norm for p in find_periods("今年5月发布。")] == ["XXXX-05"]
    assert [p.norm for p in find_periods("今年营收增长。")] == [None]
    assert find_periods("H20和H100的需求；Q1X平台。") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023年，公司营收为5亿元。", ["5亿元"]),
        ("2024年前三季度营收为3亿元。", ["3亿元"]),
        ("2025财年第一季度亏损扩大。", []),
        ("今年5月，股价上涨。", []),
        ("5月16日，名单公布。", []),
        ("2019年至2020年间成立。", []),
        ("2023年1~2月进口下滑。", []),
        ("2024年1月29日，7部门联合发文。", ["7部门"]),
        ("20世纪50年代起步。", []),
        ("截至2024-06-30，营收10亿元。", ["10亿元"]),
    ],
)
def test_dates_are_not_quantities(text, expected):
    assert [q.surface for q in quantities(text)] == expected


# --- claims --------------------------------------------------------------------------------------


def test_claim_from_a_data_source_with_a_change_and_a_comparison_period():
    text = "据海关总署统计，2023年中国芯片进口数量为4795亿个，较2022年下降10.8%。"
    ms = [mention(text, "海关总署", "ORG", "org.gacc"), mention(text, "中国", "GPE", "gpe.china")]
    cs, qs = claims_of(text, ms)
    assert [(c.metric, c.aspect) for c in cs] == [("进口量", "level"), ("进口量", "change")]
    level, change = cs
    q = qs[level.quantity_ids[0]]
    assert approx_eq(q.value, 4.795e11) and q.unit == "个"
    assert level.subject_entity_id == "gpe.china"
    assert level.speaker == "海关总署" and level.speaker_entity_id == "org.gacc"
    assert level.period_norm == "2023" and change.period_norm == "2023"  # not the comparison base
    assert approx_eq(qs[change.quantity_ids[0]].value, 10.8)
    assert level.kind == "reported" and not level.hedged


def test_claims_share_subject_and_period_across_clauses():
    text = "寒武纪在2024年前三季度投入研发费用3.5亿元，营收仅1.9亿元。"
    ms = [mention(text, "寒武纪", "ORG", "org.cambricon")]
    cs, qs = claims_of(text, ms)
    assert [c.metric for c in cs] == ["研发费用", "营收"]
    assert all(c.subject_entity_id == "org.cambricon" for c in cs)
    assert all(c.period_norm == "2024-Q1/2024-Q3" for c in cs)
    assert [qs[c.quantity_ids[0]].value for c in cs] == [3.5e8, 1.9e8]
    assert all(c.speaker == "author" for c in cs)


def test_forecast_hedged_speaker_is_not_the_subject():
    text = "摩根士丹利分析师指出，英伟达明年数据中心收入有望增长30%以上。"
    ms = [mention(text, "摩根士丹利", "ORG", "org.morgan_stanley"), mention(text, "英伟达", "ORG", "org.nvidia")]
    cs, qs = claims_of(text, ms, year=2024)
    (c,) = cs
    assert c.speaker == "摩根士丹利分析师" and c.speaker_entity_id == "org.morgan_stanley"
    assert c.subject_entity_id == "org.nvidia"
    assert (c.metric, c.aspect, c.kind, c.hedged) == ("营收", "change", "forecast", True)
    assert c.period_norm == "2025"
    q = qs[c.quantity_ids[0]]
    assert (q.value, q.approx) == (30.0, "over")


def test_quoted_speech_names_the_speaker():
    text = "“我们今年的出货量将超过10万片。”张三说。"
    ms = [mention(text, "张三", "PERSON", "person:张三")]
    cs, qs = claims_of(text, ms)
    (c,) = cs
    assert (c.speaker, c.speaker_entity_id) == ("张三", "person:张三")
    assert (c.metric, c.kind) == ("出货量", "forecast")
    assert approx_eq(qs[c.quantity_ids[0]].value_low, 1e5)


def test_interview_labels_are_speakers():
    text = "主持人：行业现状如何？\n李四：科创板上大约有三百家半导体公司。\n主持人：明白。\n李四：对。"
    ms = [mention(text, "李四", "PERSON", "person:李四")]
    cs, _ = claims_of(text, ms)
    (c,) = cs
    assert (c.speaker, c.metric, c.subject_entity_id) == ("李四", "企业数量", None)


def test_unnamed_sources_hedge_and_keep_the_author():
    text = "据悉，这家芯片公司的估值已达200亿元。有消息称，该公司正在研发3纳米芯片。"
    cs, _ = claims_of(text)
    assert [(c.metric, c.speaker, c.hedged) for c in cs] == [("估值", "author", True), ("制程", "author", True)]


def test_comparison_base_gets_its_own_period():
    text = "该公司今年营收为50亿元，比去年同期的40亿元增长25%。"
    cs, qs = claims_of(text, year=2024)
    got = [(c.aspect, [qs[i].value for i in c.quantity_ids], c.period_norm) for c in cs]
    assert got == [("level", [5e9], "2024"), ("base", [4e9], "2023"), ("change", [25.0], "2024")]


def test_anaphora_and_vendors():
    text = "壁仞科技发布BR100芯片，该芯片采用台积电7纳米工艺，算力达到1000TFLOPS。英伟达发布财报。公司第一季度营收为260亿美元。"
    ms = [
        mention(text, "壁仞科技", "ORG", "org.biren"),
        mention(text, "BR100", "PRODUCT", "product.biren_br100"),
        mention(text, "台积电", "ORG", "org.tsmc"),
        mention(text, "英伟达", "ORG", "org.nvidia"),
    ]
    cs, _ = claims_of(text, ms)
    got = [(c.metric, c.subject_entity_id, c.period_norm) for c in cs]
    assert got == [("制程", "product.biren_br100", None), ("算力", "product.biren_br100", None), ("营收", "org.nvidia", "XXXX-Q1")]


def test_clause_topics_carry_through_the_sentence():
    text = "据悉，多家大厂大幅追加订单，甲科技参与了六轮投资，成为乙科技第一大股东，持股比例为18%。一台80GB显存的X9服务器价格为90万元。"
    ms = [
        mention(text, "甲科技", "ORG", "org:甲科技"),
        mention(text, "乙科技", "ORG", "org:乙科技"),
        mention(text, "X9", "PRODUCT", "product:x9"),
    ]
    cs, _ = claims_of(text, ms)
    assert [(c.metric, c.subject_entity_id) for c in cs] == [
        ("持股比例", "org:甲科技"),  # the clause chain's topic, not the company after 成为
        ("显存", "product:x9"),
        ("价格", "product:x9"),
    ]


def test_share_price_and_unit_implied_metrics():
    text = "截至11月29日收盘，寒武纪股价为500元/股。某模型拥有700亿参数。"
    ms = [mention(text, "寒武纪", "ORG", "org.cambricon")]
    cs, qs = claims_of(text, ms)
    assert [(c.metric, c.subject_entity_id) for c in cs] == [("股价", "org.cambricon"), ("参数量", None)]
    assert cs[0].period_norm == "XXXX-11-29"
    assert qs[cs[0].quantity_ids[0]].unit == "CNY/share"


def test_a_ratio_word_is_no_change_and_level_figures_do_not_inherit_metrics():
    text = "两年前国产芯片的比例还不到一成，集资约20亿港元，入场费逾五千港元。"
    cs, qs = claims_of(text)
    got = [(c.metric, c.aspect, [qs[i].surface for i in c.quantity_ids]) for c in cs]
    assert got == [(None, "level", ["不到一成"]), ("融资额", "level", ["约20亿港元"]), (None, "level", ["逾五千港元"])]


def test_small_counts_and_durations_make_no_claims():
    text = "两家公司合作了3年。"
    cs, _ = claims_of(text)
    assert cs == []


# --- configuration and stage API -------------------------------------------------------------------


def test_units_come_from_the_config(tmp_path, monkeypatch):
    from pipeline.config import PROJECT_ROOT

    src = (PROJECT_ROOT / "configs" / "facts.yaml").read_text(encoding="utf-8")
    src = src.replace("units:\n", "units:\n  - {unit: g, kind: mass, surfaces: [克]}\n", 1)
    (tmp_path / "facts.yaml").write_text(src, encoding="utf-8")
    monkeypatch.setenv("ZHNEWS_CONFIG_DIR", str(tmp_path))
    assert one("样品重5克。")[3:5] == ("g", "mass")
    monkeypatch.delenv("ZHNEWS_CONFIG_DIR")
    assert all(q.unit != "g" for q in quantities("样品重5克。"))


def _doc(text: str, published: str | None = None):
    from pipeline.model import ArticleDoc, NormalizedText, RawArticle

    raw = RawArticle("x.txt", 0, text, published_date=published)
    norm = NormalizedText(text, "hans", "cn", list(range(len(text) + 1)))
    doc = ArticleDoc("a_test", raw, norm, text_final=text)
    doc.sentences = split_sentences(text)
    return doc


def test_stage_rows_match_the_contract_schemas():
    import pyarrow as pa

    text = "据公司公告，今年前三季度营收为12.5亿元，同比增长35%。"
    doc = _doc(text, "2024-11-01")
    doc.extra_rows["mentions"] = []
    run_facts(doc)
    rows = facts_stage_rows(doc)
    from pipeline.schemas import SCHEMAS

    assert set(rows) == {"quantities", "claims"}
    for table in rows:
        schema = SCHEMAS[table]
        assert rows[table], table
        for row in rows[table]:
            assert list(row) == schema.names
        pa.Table.from_pylist(rows[table], schema=schema)  # types fit
    q = rows["quantities"][0]
    assert (q["quantity_id"], q["surface"], q["value"], q["unit"]) == (f"q_a_test_{text.index('12.5')}", "12.5亿元", 1.25e9, "CNY")
    c = rows["claims"][0]
    assert (c["metric"], c["period_norm"], c["speaker"]) == ("营收", "2024-Q1/2024-Q3", "公司公告")
    run_facts(doc)
    assert facts_stage_rows(doc) == rows  # same input, same ids


# --- seeds ---------------------------------------------------------------------------------------


def _process_seed(prefix: str):
    from pipeline.despin import despin
    from pipeline.entities.stage import find_mentions, mention_rows
    from pipeline.ingest import ingest_file
    from pipeline.normalize import normalize

    path = seed_path(prefix)
    out = []
    for raw in ingest_file(path).articles:
        text = despin(normalize(raw.text).text).text_final
        sents = split_sentences(text)
        mentions = mention_rows(f"a_{prefix}", find_mentions(text, sents, [[] for _ in sents]))
        periods, qs, cs = extract_facts(text, f"a_{prefix}", sents, mentions)
        out.append((text, sents, periods, qs, cs))
    return out


@pytest.fixture(scope="module")
def seeds():
    return {p: _process_seed(p) for p in ("000", "001", "003", "004")}


def _all(seeds, prefix):
    qs = [q for _, _, _, qq, _ in seeds[prefix] for q in qq]
    cs = [c for _, _, _, _, cc in seeds[prefix] for c in cc]
    return qs, cs, {q.quantity_id: q for q in qs}


def _find_q(qs, value, unit):
    found = [q for q in qs if q.value is not None and approx_eq(q.value, value) and q.unit == unit]
    assert found, (value, unit)
    return found[0]


def _claims_with(cs, q):
    return [c for c in cs if q.quantity_id in c.quantity_ids]


def test_seed_invariants(seeds):
    for prefix, parts in seeds.items():
        for text, sents, periods, qs, cs in parts:
            ids = [q.quantity_id for q in qs]
            assert len(ids) == len(set(ids))
            assert len({c.claim_id for c in cs}) == len(cs)
            taken = bytearray(len(text))
            for p in periods:
                assert text[p.start : p.end] == p.text
                taken[p.start : p.end] = b"\x01" * (p.end - p.start)
            for q in qs:
                assert text[q.start : q.end] == q.surface
                assert not any(taken[q.start : q.end]), (prefix, q.surface)  # no date is a quantity
                assert q.sent_index is not None
                if q.value is None:
                    assert q.value_low is not None and q.value_high is not None
            for c in cs:
                assert text[c.start : c.end] == c.text
                assert set(c.quantity_ids) <= set(ids)
                assert c.kind in ("reported", "forecast") and c.aspect in ("level", "change", "base")


def test_seed_000_imports(seeds):
    qs, cs, by_id = _all(seeds, "000")
    q = _find_q(qs, 676e8, "个")
    assert q.unit_kind == "count"
    (c,) = _claims_with(cs, q)
    assert (c.metric, c.aspect, c.period_norm, c.subject_entity_id) == ("进口量", "level", "2023-01/2023-02", "gpe.china")
    assert c.speaker != "author"  # a data source
    change = [x for x in cs if x.sent_index == c.sent_index and x.aspect == "change"]
    assert change and by_id[change[0].quantity_ids[0]].unit == "%"
    assert change[0].period_norm == "2023-01/2023-02"
    nm = [x for x in cs if x.metric == "制程"]
    assert any(x.subject_entity_id == "org.microsoft" and x.hedged for x in nm)


def test_seed_001_interview(seeds):
    qs, cs, _ = _all(seeds, "001")
    hkd = _find_q(qs, 2504e8, "HKD")
    (c,) = _claims_with(cs, hkd)
    assert (c.metric, c.period_norm) == ("融资额", "2025-H1")
    companies = _find_q(qs, 260, "家")
    (c,) = _claims_with(cs, companies)
    assert (c.metric, c.speaker, c.subject_entity_id) == ("企业数量", "王智", "org.star_market")
    ratio = [q for q in qs if q.unit == "ratio" and q.value is None]
    assert ratio and approx_eq(ratio[0].value_low, 0.25) and approx_eq(ratio[0].value_high, 1 / 3)
    share = [c for c in cs if c.metric == "市场份额" and c.subject_entity_id == "org.nvidia"]
    assert share and share[0].speaker == "王智"


def test_seed_003_chips_and_h20(seeds):
    qs, cs, by_id = _all(seeds, "003")
    assert approx_eq(_find_q(qs, 10900, "家").value, 10900)
    price = [q for q in qs if q.unit == "USD" and q.value is None and approx_eq(q.value_low, 1.2e4)]
    assert price and approx_eq(price[0].value_high, 1.5e4)
    (c,) = _claims_with(cs, price[0])
    assert (c.metric, c.subject_entity_id) == ("价格", "product.nvidia_h20")
    writedown = [c for c in cs if c.metric == "减值损失" and c.speaker_entity_id == "org.nvidia"]
    assert writedown and all(c.kind == "forecast" and c.period_norm.startswith("FY") for c in writedown)
    flops = [c for c in cs if c.metric == "算力" and any(by_id[i].unit == "TFLOPS" for i in c.quantity_ids)]
    assert len(flops) >= 4
    revenue = [c for c in cs if c.metric == "营收" and c.period_norm == "2024" and c.subject_entity_id == "org.nvidia"]
    assert {c.aspect for c in revenue} >= {"level", "change"}


def test_seed_004_cambricon(seeds):
    qs, cs, _ = _all(seeds, "004")
    (c,) = _claims_with(cs, _find_q(qs, 561, "CNY/share"))
    assert (c.metric, c.subject_entity_id) == ("股价", "org.cambricon")
    rd = [c for c in cs if c.metric == "研发费用" and c.subject_entity_id == "org.cambricon" and c.period_norm == "2024-Q1/2024-Q3"]
    assert rd
    rev = [c for c in cs if c.metric == "营收" and c.subject_entity_id == "org.cambricon"]
    assert rev and rev[0].period_norm == "2024-Q1/2024-Q3"
    spread = [q for q in qs if q.value is None and q.unit is None and approx_eq(q.value_low, 5e8)]
    assert spread and approx_eq(spread[0].value_high, 1e9)
    assert _find_q(qs, 70, "%").unit_kind == "percent"
