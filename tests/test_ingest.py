"""Ingest on inputs we wrote that show each problem, and on the seeds."""

import json
import re

import pytest

from pipeline.ingest import ingest_bytes, ingest_file

BODY1 = (
    "本周，国产GPU厂商星河微电子宣布完成新一轮融资，金额约为15亿元，由多家产业基金领投。"
    "公司表示，新资金将主要用于下一代训练芯片的研发和量产准备。\n"
    "业内人士指出，在出口管制收紧的背景下，国内算力需求正在向本土厂商转移，"
    "但软件生态仍是最大的短板，开发者迁移成本依然很高。\n"
    "星河微电子创始人李明在接受采访时称，公司的芯片已在三家互联网企业完成验证，预计明年实现规模出货。"
)
BODY2 = (
    "另一家AI芯片企业云岭科技近日披露，其2024年前三季度营收为3.2亿元，同比增长超过60%，"
    "但净亏损仍达5.1亿元。公司解释说，亏损主要来自研发投入和人员扩张。\n"
    "有分析师对此表示担忧，认为在价格战加剧的情况下，公司短期内难以实现盈利，估值存在泡沫。"
)

WEB_PAGE = f"""芯闻网
>
国产GPU再获融资，算力替代加速
国产GPU再获融资，算力替代加速
公众号新闻
本文来自微信公众号:芯片观察(ID:chipwatch),作者:王小川,头图来自:视觉中国
{BODY1}
扫码关注我们的公众号
相关阅读
国产芯片的下一站在哪里?三家公司财报解读英伟达新品发布会前瞻
logo
联系我们隐私协议©2025 chipnews.example
芯闻网刊载任何文章,不代表同意其说法或描述,仅为提供更多信息。
"""


def test_web_page_boilerplate_and_metadata():
    result = ingest_bytes(WEB_PAGE.encode("utf-8"), "web.txt")
    assert not result.rejects
    [art] = result.articles
    assert art.title == "国产GPU再获融资，算力替代加速"
    assert art.outlet == "芯片观察"
    assert art.author == "王小川"
    assert art.text == BODY1
    rules = {r.rule for r in art.removed}
    assert {"header", "title", "metadata", "share_prompt", "link_farm"} <= rules
    # the link farm and footer after it are recorded, not silently dropped
    assert any("隐私协议" in r.text for r in art.removed)


AGGREGATED = f"""{BODY1}
本文源自:芯片观察
今日多地迎来降温天气，气象部门提醒市民注意添衣保暖，部分地区将出现大风和雨雪天气，出行请注意安全...
{BODY2}
本文源自:财经日报
作者:张三
一位知名演员在社交媒体上晒出新片杀青照，与多位老友合影留念，引来大批网友点赞，话题迅速登上热搜榜单...
"""


def test_aggregated_file_splits_and_rejects_teasers():
    result = ingest_bytes(AGGREGATED.encode("utf-8"), "agg.txt")
    assert [a.text for a in result.articles] == [BODY1, BODY2]
    assert [(a.outlet, a.author) for a in result.articles] == [("芯片观察", None), ("财经日报", "张三")]
    assert [r.reason for r in result.rejects] == ["teaser", "teaser"]
    assert [a.part_index for a in result.articles] == [0, 1]


TRAD = """“國產算力”的分岔路
本文來源:科技週刊 作者:陳一 林二
今年以來，國產AI芯片企業的融資節奏明顯放緩，多家公司開始收縮業務線，把資源集中到推理芯片上。
(圖源:Wind)
數據顯示，前三季度行業融資總額約爲120億元，較去年同期下降近四成，投資機構變得更加謹慎。
表1:主要企業融資情況
業內人士認爲，能否實現規模化出貨，將決定這些企業能否撐過這一輪調整。
作者簡介
姓名|陳一
現職|科技週刊記者
"""


def test_traditional_captions_bio_and_metadata():
    [art] = ingest_bytes(TRAD.encode("utf-8"), "trad.txt").articles
    assert art.title == "“國產算力”的分岔路"
    assert (art.outlet, art.author) == ("科技週刊", "陳一 林二")  # metadata keeps the original script
    assert "圖源" not in art.text and "作者簡介" not in art.text and "現職" not in art.text
    assert "表1" not in art.text
    assert art.text.count("\n") == 2
    assert {"image_caption", "author_bio", "table_caption"} <= {r.rule for r in art.removed}


def test_ad_and_ai_disclaimer_after_end_line():
    text = BODY1 + "\n本文來自芯片觀察,原文鏈接:https://example.com/a/1.html\n某網遊十大坐騎排行和攻略\n免責聲明:本文內容由智能模型自動生成,僅供參考。\n"
    [art] = ingest_bytes(text.encode("utf-8"), "ad.txt").articles
    assert art.text == BODY1
    assert art.url == "https://example.com/a/1.html"
    assert "坐騎" in " ".join(r.text for r in art.removed)


def test_markup_remnants_removed():
    text = "英伟达的H20芯片</p>在国内市场&nbsp;受到限制，多家云厂商转向国产方案，采购量明显上升。<br/>分析师预计这一趋势将延续。"
    [art] = ingest_bytes(text.encode("utf-8"), "m.txt").articles
    assert "</p>" not in art.text and "&nbsp;" not in art.text and "<br" not in art.text
    assert any(f.startswith("markup_removed") for f in art.quality_flags)


def test_html_through_trafilatura():
    page = f"""<!doctype html><html><head><title>国产GPU再获融资</title>
    <meta name="author" content="王小川"><meta property="article:published_time" content="2025-03-02"></head>
    <body><nav><a href="/">首页</a> <a href="/chips">芯片</a></nav>
    <article><h1>国产GPU再获融资</h1>{''.join(f'<p>{p}</p>' for p in BODY1.split(chr(10)))}</article>
    <aside><h3>相关阅读</h3><ul><li><a href="/x">另一篇文章的标题</a></li></ul></aside>
    <footer>©2025 芯闻网 联系我们</footer></body></html>"""
    [art] = ingest_bytes(page.encode("utf-8"), "p.html", ".html").articles
    assert "星河微电子" in art.text and "首页" not in art.text and "©" not in art.text
    assert art.title == "国产GPU再获融资"
    assert art.published_date == "2025-03-02"


def test_broken_html_still_yields_text_or_reject():
    page = "<html><body><div><p>" + "<div>" * 3000 + BODY2 + "</p></span></table>"
    result = ingest_bytes(page.encode("utf-8"), "broken.html", ".html")
    assert result.articles or result.rejects
    if result.articles:
        assert "云岭科技" in result.articles[0].text


def test_jsonl_records_with_metadata():
    lines = [
        {"title": "甲", "outlet": "芯片观察", "author": "王五", "url": "https://e.com/1", "published": "2025-01-05T08:00:00", "text": BODY1},
        {"title": "乙", "source": "财经日报", "content": BODY2},
        {"title": "无正文"},
    ]
    data = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode("utf-8")
    arts = ingest_bytes(data, "feed.jsonl", ".jsonl").articles
    assert [(a.title, a.outlet, a.part_index) for a in arts] == [("甲", "芯片观察", 0), ("乙", "财经日报", 1)]
    assert arts[0].published_date.startswith("2025-01-05")


def test_bad_json_is_rejected():
    result = ingest_bytes(b'{"text": "ok"}\n{broken', "bad.jsonl", ".jsonl")
    assert [r.reason for r in result.rejects] == ["bad_json"]


def test_markdown_title_and_wrapping():
    md = "# 国产GPU再获融资\n\n" + BODY2.split("\n")[0][:40] + "\n" + BODY2.split("\n")[0][40:] + "\n\n" + BODY2.split("\n")[1] + "\n"
    [art] = ingest_bytes(md.encode("utf-8"), "a.md", ".md").articles
    assert art.title == "国产GPU再获融资"
    assert art.text == BODY2


@pytest.mark.parametrize(
    "data, reason",
    [(b"", "empty"), (b"\x00\x01\x02\x03" * 500, "binary"), (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary")],
)
def test_bad_bytes_give_rejects(data, reason):
    result = ingest_bytes(data, "bad.txt")
    assert not result.articles
    assert [r.reason for r in result.rejects] == [reason]


def test_too_large_file_is_rejected_unread(tmp_path):
    from pipeline.ingest import max_file_bytes

    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(max_file_bytes() + 1)
    result = ingest_file(big)
    assert [r.reason for r in result.rejects] == ["too_large"]


def test_missing_file_is_rejected(tmp_path):
    assert ingest_file(tmp_path / "nope.txt").rejects[0].reason == "unreadable"


BOILERPLATE = re.compile(r"相关阅读|相關閱讀|隐私协议|扫码关注|戳这里|免責聲明|免责声明|圖源|图源|原文鏈接|原文链接|本文源自|本文来自|刊载任何文章")
PINYIN = re.compile(r"[\u4e00-\u9fff]\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)")


@pytest.mark.parametrize("prefix", ["000", "001", "003", "004"])
def test_seeds_come_out_clean(seed, prefix):
    result = ingest_file(seed(prefix))
    assert result.articles
    for art in result.articles:
        assert not BOILERPLATE.search(art.text), BOILERPLATE.search(art.text)
        assert not PINYIN.search(art.text)
        assert "</p>" not in art.text
        assert len(art.text) > 500


def test_seed_003_splits_into_articles_and_teasers(seed):
    result = ingest_file(seed("003"))
    assert len(result.articles) == 3
    assert [a.outlet for a in result.articles] == ["创业邦", "金融界", "钛媒体"]
    teasers = [r for r in result.rejects if r.reason == "teaser"]
    assert len(teasers) >= 5
    assert all(not a.text.rstrip().endswith("...") for a in result.articles)


def test_seed_metadata(seed):
    [a0] = ingest_file(seed("000")).articles
    assert a0.outlet == "峰瑞资本" and a0.title and "芯片" in a0.title
    [a1] = ingest_file(seed("001")).articles
    assert a1.outlet == "虎嗅" and a1.author and a1.url.startswith("https://")
    [a4] = ingest_file(seed("004")).articles
    assert a4.outlet == "時代週報" and a4.title
