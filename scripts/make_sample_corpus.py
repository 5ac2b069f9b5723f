#!/usr/bin/env python
"""Build the bundled sample corpus (``pipeline/data/sample_corpus/``).

The articles are written by hand, in UTF-8, in ``tests/fixtures/sample_sources/``.
This script turns them into the files the pipeline must cope with: it writes each
one in its real encoding (GBK, Big5, UTF-16 with BOM), garbles and annotates the
interview, "spins" the main article of the aggregated file, converts the feed to
JSON Lines, makes a re-wrapped Markdown duplicate of the GBK article, and writes
``MANIFEST.yaml`` describing what every file holds and what cleaning must achieve.

Everything is deterministic: running it twice gives byte-identical files (the
test ``tests/test_sample_corpus.py`` regenerates into a temporary directory and
compares). Usage::

    python scripts/make_sample_corpus.py                 # rewrite the package data
    python scripts/make_sample_corpus.py --out /tmp/x    # write elsewhere

Transformations applied by the generator (not present in the sources):

* ``interview_pinyin_mojibake.txt``: every character listed in ``PINYIN`` gets its
  toned pinyin glued after it in ASCII parentheses (``產(chǎn)``), the way some
  transcoding sites render Traditional text; each ``[[gbk:PHRASE]]`` marker is
  replaced by byte-misaligned GBK mojibake of PHRASE (see ``gbk_mojibake``).
* ``spun_multi.txt``: the line ``{{SPUN:FILE}}`` is replaced by FILE (the clean main
  article) passed through the synonym spinner ``SPIN_TABLE``.
* ``feed.jsonl`` comes from ``feed.jsonl.yaml``; ``duplicate_of_gbk.md`` from
  ``gbk_encoded.txt`` (same text, UTF-8, Markdown heading, hard-wrapped lines).
"""

from __future__ import annotations

import argparse
import codecs
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tests" / "fixtures" / "sample_sources"
OUT = ROOT / "pipeline" / "data" / "sample_corpus"

# --- transformations -------------------------------------------------------------

# Traditional characters whose Simplified form differs, with the reading they have
# everywhere they occur in the interview; they get ``(pinyin)`` glued after them.
PINYIN = {
    "產": "chǎn", "價": "jià", "資": "zī", "機": "jī", "數": "shù", "據": "jù",
    "業": "yè", "導": "dǎo", "項": "xiàng", "買": "mǎi", "確": "què", "動": "dòng",
    "積": "jī", "製": "zhì", "場": "chǎng", "鏈": "liàn",
}

# The article spinner's near-synonyms (original -> spun). Injective, so the clean
# reference can be recovered; 一起/使用/部分 also occur unspun in ordinary use.
SPIN_TABLE = {
    "中国": "我国", "性能": "功用", "计算": "核算", "训练": "练习", "平台": "渠道",
    "主流": "干流", "支持": "支撑", "已经": "现已", "资本": "本钱", "技术": "技能",
    "行业": "职业", "投资": "出资", "突破": "打破", "产业": "工业", "发展": "开展",
    "市场": "商场", "应用": "使用", "系统": "体系", "基础": "根底", "同时": "一起",
    "公开": "揭露", "出现": "呈现", "效率": "功率", "认为": "以为", "估计": "估量",
    "困难": "艰难", "明确": "清晰", "部署": "布置", "建设": "建造", "实际": "实践",
    "一些": "部分",
}
_SPIN_RE = re.compile("|".join(sorted(map(re.escape, SPIN_TABLE), key=len, reverse=True)))
_MARKER_RE = re.compile(r"\[\[gbk:([^\]]+)\]\]")


def gbk_mojibake(phrase: str) -> str:
    """PHRASE as GBK bytes read one byte late: drop the first byte, decode as cp936.

    Undecodable bytes (and the odd byte left at the end) become ``?``.
    """
    data = phrase.encode("gbk")[1:]
    return data.decode("cp936", errors="replace").replace("\ufffd", "?")


def spin(text: str) -> str:
    return _SPIN_RE.sub(lambda m: SPIN_TABLE[m.group(0)], text)


def spin_pairs(clean: str) -> dict[str, str]:
    """Spun form -> original, for the table entries that occur in ``clean``."""
    found = {m.group(0) for m in _SPIN_RE.finditer(clean)}
    return {SPIN_TABLE[w]: w for w in sorted(found, key=lambda w: clean.index(w))}


def annotate_pinyin(text: str) -> str:
    return "".join(f"{ch}({PINYIN[ch]})" if ch in PINYIN else ch for ch in text)


def garble_interview(text: str) -> str:
    out, pos = [], 0
    for m in _MARKER_RE.finditer(text):
        out.append(annotate_pinyin(text[pos : m.start()]))
        out.append(gbk_mojibake(m.group(1)))
        pos = m.end()
    out.append(annotate_pinyin(text[pos:]))
    return "".join(out)


def expand_spun(text: str, sources: Path) -> str:
    def repl(m: re.Match[str]) -> str:
        return spin((sources / m.group(1)).read_text(encoding="utf-8").rstrip("\n"))

    return re.sub(r"\{\{SPUN:([^}]+)\}\}", repl, text)


def feed_to_jsonl(text: str) -> str:
    keys = ("title", "outlet", "author", "url", "published", "text")
    items = yaml.safe_load(text)
    return "".join(json.dumps({k: item[k] for k in keys}, ensure_ascii=False) + "\n" for item in items)


def markdown_rewrap(text: str, width: int = 36) -> str:
    """First line as a ``#`` heading, every other line a paragraph hard-wrapped at WIDTH."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    parts = [f"# {lines[0]}"]
    for ln in lines[1:]:
        parts.append("\n".join(ln[i : i + width] for i in range(0, len(ln), width)))
    return "\n\n".join(parts) + "\n"


# --- the samples -------------------------------------------------------------------

Transform = Callable[[str, Path], str]


def _same(text: str, sources: Path) -> str:
    return text


SAMPLES: list[dict[str, Any]] = [
    {
        "file": "web_page_zh.txt",
        "source": "web_page_zh.txt",
        "transform": _same,
        "codec": "utf-8",
        "description": "Scraped web page (Simplified): site name and nav crumbs, the title twice, "
        "a WeChat outlet line, the article, a share prompt, a 相关阅读 heading with glued "
        "link titles, a footer and a legal disclaimer.",
        "problems": ["site_header", "nav_crumbs", "repeated_title", "outlet_line", "share_prompt",
                     "link_farm", "footer", "site_disclaimer"],
        "script": "hans", "region": "cn", "articles": 1, "teasers": 0, "spun": False,
        "title": "国产GPU企业扎堆融资,估值与亏损同步攀升",
        "outlet": "算力前哨", "author": "林可", "published_date": "2025-03-12", "url": None,
        "must_contain": ["5-10亿元", "约200亿元", "超过30%", "2024年前三季度营收不足6亿元",
                         "摩尔线程、壁仞科技、沐曦"],
        "must_not_contain": ["相关阅读", "隐私协议", "扫码关注", "site.example", "首页 >",
                             "RISC-V能否撑起", "老字号糕点铺", "不代表本站立场", "(ID:suanli_qianshao)",
                             "芯事速递"],
    },
    {
        "file": "interview_pinyin_mojibake.txt",
        "source": "interview_pinyin_mojibake.txt",
        "transform": lambda text, src: garble_interview(text),
        "codec": "utf-8",
        "description": "Interview in Traditional script with mainland vocabulary: 出品/作者/編輯 header "
        "block, toned pinyin glued after ~40 characters, two runs of byte-misaligned GBK "
        "mojibake, a stray </p> and &nbsp;, then a source/URL line, a game advert and an "
        "AI-generation disclaimer.",
        "problems": ["header_block", "pinyin_annotations", "gbk_mojibake", "html_residue",
                     "outlet_line", "trailing_ad", "ai_disclaimer"],
        "script": "hant", "region": "cn", "articles": 1, "teasers": 0, "spun": False,
        "title": "對話一位硬科技投資人:國產AI芯片的錢,該投給誰?",
        "outlet": "芯潮網", "author": "周明遠", "published_date": None,
        "url": "https://xinchao.example.com/article/20250318-0042.html",
        "must_contain": ["1.2萬-1.5萬美元", "寒武紀在互聯網客戶裡也有", "中芯國際的7nm", "良率也還在爬坡",
                         "孫啟航"],
        "must_not_contain": ["(chǎn)", "(shù)", "(jià)", gbk_mojibake("對主流框架"), gbk_mojibake("排到了幾月份"),
                             "</p>", "&nbsp;", "傳奇手遊", "十連抽", "免責聲明", "大語言模型", "xinchao.example.com",
                             "出品|", "編輯|"],
    },
    {
        "file": "spun_multi.txt",
        "source": "spun_multi.txt",
        "transform": expand_spun,
        "codec": "utf-8",
        "description": "Aggregated page (Simplified): a machine-spun article (near-synonym "
        "substitutions; 一起/使用/部分 also occur unspun) ending with 本文源自, a second "
        "unspun article from another outlet with its own 本文源自 and editor line, then three "
        "cut-off teasers ending in '...' (two off-topic).",
        "problems": ["spun_text", "multi_article", "outlet_line", "teasers"],
        "script": "hans", "region": "cn", "articles": 2, "teasers": 3, "spun": True,
        "title": "万卡集群热潮下,国产算力芯片的真实处境",
        "outlet": "算力观察", "author": None, "published_date": None, "url": None,
        "more_articles": [
            {"title": "寒武纪股价大起大落,机构分歧加剧", "outlet": "资本快讯", "author": "吴桐",
             "published_date": None, "url": None, "spun": False},
        ],
        "must_contain": ["二百六十家", "四分之一到三分之一", "熬夜排查故障", "561元/股", "成交额突破百亿元"],
        "must_not_contain": ["本文源自", "责任编辑", "明显降温", "巡演首站", "老股东继续跟投", "气象台"],
        "despin_reference": "tests/fixtures/sample_sources/spun_multi.clean.txt",
        # Spinner outputs that also occur as ordinary words: a despinner must leave these alone.
        "unspun_ordinary": ["一起在机房熬夜", "使用率不足三成", "部分节点", "相当一部分"],
    },
    {
        "file": "variants_captions_hant.txt",
        "source": "variants_captions_hant.txt",
        "transform": _same,
        "codec": "utf-8",
        "description": "Traditional with mainland vocabulary and OpenCC variant forms 爲/着/裏/啓, "
        "image captions (圖源:Wind) on their own lines, a table caption line, and a "
        "本文來源/作者 outlet line.",
        "problems": ["variant_characters", "image_caption", "table_caption", "outlet_line"],
        "script": "hant", "region": "cn", "articles": 1, "teasers": 0, "spun": False,
        "title": "兩家GPU獨角獸衝刺上市,招股書裏藏着哪些隱憂",
        "outlet": "芯視界", "author": "許安 鄭一帆", "published_date": None, "url": None,
        "must_contain": ["成爲新一輪IPO的主角", "追逐着GPU國產化的窗口期", "2024年前三季度", "中芯國際7nm工藝",
                         "超過30%"],
        "must_not_contain": ["圖源", "表1:", "本文來源", "記者整理"],
    },
    {
        "file": "taiwan_vocab.txt",
        "source": "taiwan_vocab.txt",
        "transform": _same,
        "codec": "utf-8",
        "description": "Taiwan Traditional with Taiwan vocabulary (晶片, 奈米, 演算法, 軟體, 人工智慧, 輝達, "
        "資料中心, 記憶體, 伺服器, 網路), an author line, a date line, and an author bio table "
        "at the end.",
        "problems": ["taiwan_vocabulary", "author_line", "date_line", "author_bio_table"],
        "script": "hant", "region": "tw", "articles": 1, "teasers": 0, "spun": False,
        "title": "中國AI晶片加速自主,台積電與輝達的兩難",
        "outlet": None, "author": "林雅婷", "published_date": "2025-04-08", "url": None,
        "must_contain": ["7奈米", "高頻寬記憶體", "演算法函式庫", "透過高速網路", "人工智慧需求"],
        "must_not_contain": ["作者簡介", "現職|", "學歷|", "專長|", "民間智庫", "發佈時間"],
    },
    {
        "file": "gbk_encoded.txt",
        "source": "gbk_encoded.txt",
        "transform": _same,
        "codec": "gbk",
        "newline": "\r\n",
        "description": "Simplified article written in GBK (no BOM, CRLF line ends), with a "
        "来源 line carrying the date and a 责任编辑 line.",
        "problems": ["legacy_encoding_gbk", "crlf", "outlet_line", "editor_line"],
        "script": "hans", "region": "cn", "articles": 1, "teasers": 0, "spun": False,
        "title": "先进制程产能吃紧，国产AI芯片排队等流片",
        "outlet": "半导体周刊", "author": "王珂", "published_date": "2025-01-06", "url": None,
        "must_contain": ["中芯国际的7nm工艺", "2024年前三季度", "多重曝光", "晚半年上市"],
        "must_not_contain": ["责任编辑", "来源：半导体周刊"],
    },
    {
        "file": "big5_encoded.txt",
        "source": "big5_encoded.txt",
        "transform": _same,
        "codec": "big5",
        "description": "Taiwan Traditional article written in Big5 (no BOM), with a reporter "
        "byline, a 本文轉載自 line and a copyright line.",
        "problems": ["legacy_encoding_big5", "byline", "outlet_line", "copyright"],
        "script": "hant", "region": "tw", "articles": 1, "teasers": 0, "spun": False,
        "title": "黃仁勳再談中國市場：華為是「非常強大的對手」",
        "outlet": "科技新報網", "author": "張書豪", "published_date": None, "url": None,
        "must_contain": ["黃仁勳", "非常強大的對手", "高頻寬記憶體", "網路公司"],
        "must_not_contain": ["本文轉載自", "版權所有", "未經授權不得轉載", "台北報導"],
    },
    {
        "file": "utf16_bom.txt",
        "source": "utf16_bom.txt",
        "transform": _same,
        "codec": "utf-16-le",
        "bom": True,
        "newline": "\r\n",
        "description": "Simplified article written in UTF-16 little-endian with a BOM and CRLF "
        "line ends, with an outlet line and an image credit line.",
        "problems": ["utf16_bom", "crlf", "outlet_line", "image_caption"],
        "script": "hans", "region": "cn", "articles": 1, "teasers": 0, "spun": False,
        "title": "高校智算平台落地：一次国产芯片的“压力测试”",
        "outlet": "算力周报", "author": None, "published_date": None, "url": None,
        "must_contain": ["海光信息的DCU", "沐曦的GPU", "总投资超过三亿元", "千卡、万卡规模"],
        "must_not_contain": ["图片来自", "本文来源", "视觉中国"],
    },
    {
        "file": "feature_page.html",
        "source": "feature_page.html",
        "transform": _same,
        "codec": "utf-8",
        "description": "HTML news page (Simplified): <title> with site suffix, meta author/date/"
        "og:url, nav, header, the article in <article><p>, an aside of related links and a "
        "footer with copyright.",
        "problems": ["html", "html_metadata", "nav", "related_links", "footer", "copyright"],
        "script": "hans", "region": "cn", "articles": 1, "teasers": 0, "spun": False,
        "title": "摩尔线程科创板上市首日：市值飙升背后的冷思考",
        "outlet": "硅谷之外", "author": "宋佳音", "published_date": "2025-05-21",
        "url": "https://www.site.example/deep/2025/0521/moore-ipo.html",
        "must_contain": ["盘中涨幅一度超过300%", "募资约80亿元", "2024年前三季度亏损额", "全功能GPU"],
        "must_not_contain": ["<p>", "相关文章", "隐私政策", "版权所有", "国产HBM进展如何", "看懂中国硬科技",
                             "analytics.js", "_深度_硅谷之外"],
    },
    {
        "file": "feed.jsonl",
        "source": "feed.jsonl.yaml",
        "transform": lambda text, src: feed_to_jsonl(text),
        "codec": "utf-8",
        "description": "JSON Lines feed with metadata fields title/outlet/author/url/published/"
        "text: one Simplified article, one Hong Kong Traditional article (港元, 晶片, 軟件, 數據, 於).",
        "problems": ["jsonl", "structured_metadata", "hong_kong_vocabulary"],
        "script": "hans", "region": "cn", "articles": 2, "teasers": 0, "spun": False,
        "title": "华为公布昇腾新路线图，超节点集群能否缩小与英伟达的差距",
        "outlet": "智算日报", "author": "韩露", "published_date": "2025-03-27",
        "url": "https://feed.site.example/cn/2025/0327/ascend-roadmap",
        "more_articles": [
            {"title": "壁仞科技啟動香港招股，入場費逾五千港元", "outlet": "港財通訊社", "author": "黎家豪",
             "published_date": "2025-04-10", "url": "https://feed.site.example/hk/2025/0410/biren-ipo",
             "script": "hant", "region": "hk", "spun": False},
        ],
        "must_contain": ["以系统换单芯", "四成左右", "二十二港元", "軟件平台建設", "預計於本月底", "孖展"],
        "must_not_contain": ['"title":', '"url":', '"published":', "feed.site.example"],
    },
    {
        "file": "duplicate_of_gbk.md",
        "source": "gbk_encoded.txt",
        "transform": lambda text, src: markdown_rewrap(text),
        "codec": "utf-8",
        "description": "The GBK article's exact text again, as UTF-8 Markdown with a # title "
        "heading and lines hard-wrapped at 36 characters: same content, different bytes.",
        "problems": ["duplicate", "markdown", "hard_wrapped_lines"],
        "script": "hans", "region": "cn", "articles": 1, "teasers": 0, "spun": False,
        "duplicate_of": "gbk_encoded.txt",
        "title": "先进制程产能吃紧，国产AI芯片排队等流片",
        "outlet": "半导体周刊", "author": "王珂", "published_date": "2025-01-06", "url": None,
        "must_contain": ["极紫外光刻机", "晚半年上市", "中芯国际在2024年前三季度", "良率爬坡只是时间问题"],
        "must_not_contain": ["# 先进制程产能吃紧", "责任编辑"],
    },
]

_MANIFEST_KEYS = ("description", "problems", "encoding", "bom", "newline", "script", "region",
                  "articles", "teasers", "spun", "title", "outlet", "author", "published_date", "url",
                  "more_articles", "duplicate_of", "despin_reference", "spin_pairs", "unspun_ordinary",
                  "must_contain", "must_not_contain", "bytes", "sha256")

MANIFEST_HEADER = """\
# Sample corpus manifest -- GENERATED by scripts/make_sample_corpus.py; do not edit.
# Edit tests/fixtures/sample_sources/ or the generator, then rerun it.
#
# files.<name>:
#   description, problems   what the file shows (problems: short tags)
#   encoding, bom, newline  how the bytes are written (Python codec name; BOM present;
#                           'lf' or 'crlf'); decode with `encoding` (utf-16 files: 'utf-16')
#   script, region          hans|hant; cn|tw|hk (of the first article; see more_articles)
#   articles, teasers       real articles expected; cut-off teasers to reject
#   spun                    whether the first article is machine-spun
#   title, outlet, author, published_date, url
#                           expected metadata of the FIRST article (null: not in the input);
#                           author falls back to the 责任编辑 (editor) where no byline exists
#   more_articles           the same fields for articles 2..n, in file order
#   duplicate_of            another sample with the same text (content id must match)
#   despin_reference        clean (unspun) text of the spun article, path from project root
#   spin_pairs              spun form -> original, for the substitutions in the spun article
#   unspun_ordinary         phrases whose spinner-like words are ordinary: keep them as they are
#   must_contain            short phrases that must survive cleaning, in the original script
#   must_not_contain        boilerplate/garbage that cleaning must remove; every phrase of
#                           both lists occurs in the decoded raw file
#   bytes, sha256           of the file as written
"""


def _write_bytes(spec: dict[str, Any], text: str) -> bytes:
    text = text.rstrip("\n") + "\n"
    newline = spec.get("newline", "\n")
    if newline != "\n":
        text = text.replace("\n", newline)
    data = text.encode(spec["codec"])
    if spec.get("bom"):
        data = codecs.BOM_UTF16_LE + data if spec["codec"] == "utf-16-le" else codecs.BOM_UTF8 + data
    return data


def _manifest_entry(spec: dict[str, Any], data: bytes, sources: Path) -> dict[str, Any]:
    entry = {k: v for k, v in spec.items() if k in _MANIFEST_KEYS}
    entry["encoding"] = "utf-16" if spec["codec"] == "utf-16-le" and spec.get("bom") else spec["codec"]
    entry["bom"] = bool(spec.get("bom"))
    entry["newline"] = "crlf" if spec.get("newline") == "\r\n" else "lf"
    if spec.get("despin_reference"):
        clean = (sources / Path(spec["despin_reference"]).name).read_text(encoding="utf-8")
        entry["spin_pairs"] = spin_pairs(clean)
    entry["bytes"] = len(data)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    return {k: entry[k] for k in _MANIFEST_KEYS if k in entry}


def build(out: Path = OUT, sources: Path = SOURCES) -> dict[str, bytes]:
    """Write every sample and MANIFEST.yaml into ``out``; return name -> bytes written."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, bytes] = {}
    manifest: dict[str, Any] = {"format_version": 1, "files": {}}
    for spec in SAMPLES:
        raw = (sources / spec["source"]).read_text(encoding="utf-8")
        data = _write_bytes(spec, spec["transform"](raw, sources))
        (out / spec["file"]).write_bytes(data)
        written[spec["file"]] = data
        manifest["files"][spec["file"]] = _manifest_entry(spec, data, sources)
    body = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=100)
    data = (MANIFEST_HEADER + body).encode("utf-8")
    (out / "MANIFEST.yaml").write_bytes(data)
    written["MANIFEST.yaml"] = data
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output directory (default {OUT})")
    parser.add_argument("--sources", type=Path, default=SOURCES, help="directory of UTF-8 sources")
    args = parser.parse_args(argv)
    written = build(args.out, args.sources)
    total = sum(len(b) for b in written.values())
    for name, data in written.items():
        print(f"{len(data):7d}  {name}")
    print(f"{total:7d}  total bytes in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
