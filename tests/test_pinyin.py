"""strip_pinyin: annotations go, real parentheses stay."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from pypinyin import Style, pinyin

from pipeline.ingest.charmodel import is_han
from pipeline.ingest.pinyin import strip_pinyin

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
ANNOTATION = re.compile(r"[一-鿿]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")

# Written for these tests (Traditional and Simplified news-style prose).
TRADITIONAL = (
    "這家公司去年推出的處理器在市場上反應熱烈,營收較前年增長三成。"
    "分析師認為,產能擴張與軟體生態是下一階段競爭的關鍵。"
)
SIMPLIFIED = "研究团队发布了新的开源模型,数据显示推理成本下降了一半。投资机构对这个领域依然谨慎吗?"


def annotate(text: str, every: int = 1) -> str:
    """Glue a toned reading after every ``every``-th Han character, like the broken republished pages."""
    out, n = [], 0
    for ch in text:
        out.append(ch)
        if is_han(ch):
            n += 1
            if n % every == 0:
                out.append(f"({pinyin(ch, style=Style.TONE)[0][0]})")
    return "".join(out)


def seed(prefix: str) -> str:
    if not SEEDS.is_dir():
        pytest.skip("seeds not available: ../shared/seeds")
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


@pytest.mark.parametrize("text", [TRADITIONAL, SIMPLIFIED])
def test_every_annotation_removed(text: str) -> None:
    annotated = annotate(text)
    cleaned, removed = strip_pinyin(annotated)
    assert cleaned == text
    assert removed == sum(map(is_han, text))


def test_sparse_annotations_and_full_width_parentheses() -> None:
    annotated = annotate(TRADITIONAL, every=3).replace("(", "（", 2).replace(")", "）", 1)
    cleaned, removed = strip_pinyin(annotated)
    assert cleaned == TRADITIONAL
    assert removed == sum(map(is_han, TRADITIONAL)) // 3


def test_known_glued_forms() -> None:
    assert strip_pinyin("營收數(shù)據(jù)與產(chǎn)業(yè)機(jī)會") == ("營收數據與產業機會", 5)
    assert strip_pinyin("國內(nèi)的綠(lǜ)色能源") == ("國內的綠色能源", 2)
    assert strip_pinyin("我愛(ai)你") == ("我愛你", 1)  # untoned, but 愛 does read ai


@pytest.mark.parametrize(
    "text",
    [
        "世界貿易組織(WTO)發布報告",
        "機器學習(ML)與人工智能(AI)",
        "股價走勢(資料來源:路透)",
        "她畢業於麻省理工學院(Massachusetts Institute of Technology)",
        "按下重啟(reboot)鍵",
        "執行長蘇姿豐(Lisa Su)表示",
        "超微(AMD.O)收盤上漲",
        "這款模型(一種由研究團隊開發的開源模型)很受歡迎",
        "大(a)小",  # a is no reading of 大
        "咖啡(café)很香",  # accented, but no pinyin syllable
        "第二(ii)項",
        "數 (shù) 據",  # a space before: not glued, leave it
        "價格(10)元",
        "結果(ok)了",
    ],
)
def test_real_parentheses_stay(text: str) -> None:
    assert strip_pinyin(text) == (text, 0)


def test_after_non_han_only_toned_syllables() -> None:
    # garbling left a "?" or a Latin letter where the annotated character was
    assert strip_pinyin("置頂?(dào)了") == ("置頂?了", 1)
    assert strip_pinyin("的F(xiàn)在") == ("的F在", 1)
    assert strip_pinyin("的F(ai)在") == ("的F(ai)在", 0)
    assert strip_pinyin("(shù)") == ("(shù)", 0)  # nothing before it


def test_cut_annotations() -> None:
    # the opening parenthesis was eaten by a garbled neighbour
    assert strip_pinyin("大?shù)家") == ("大?家", 1)
    assert strip_pinyin("這?iàn)在") == ("這?在", 1)  # head of the syllable lost too
    assert strip_pinyin("越?jīng)]邊") == ("越?]邊", 1)
    # the closing parenthesis lost at a line end or the end of the text
    assert strip_pinyin("作業系統(tǒng\n下一行") == ("作業系統\n下一行", 1)
    assert strip_pinyin("作業系統(tǒng") == ("作業系統", 1)
    # untoned fragments and English words keep their parentheses
    assert strip_pinyin("電(ai\n") == ("電(ai\n", 0)
    assert strip_pinyin("by Lisa Su)") == ("by Lisa Su)", 0)
    assert strip_pinyin("總統(tǒng 說") == ("總統(tǒng 說", 0)  # not at a line end


def test_fast_on_a_long_annotated_text() -> None:
    text = annotate((TRADITIONAL + SIMPLIFIED + "\n") * 120, every=2)
    assert len(text.encode()) > 30_000
    strip_pinyin(text[:100])  # pypinyin's tables load once
    start = time.perf_counter()
    cleaned, removed = strip_pinyin(text)
    elapsed = time.perf_counter() - start
    assert cleaned == (TRADITIONAL + SIMPLIFIED + "\n") * 120
    assert removed > 3000
    assert elapsed < 0.1


def test_seed_with_annotations() -> None:
    cleaned, removed = strip_pinyin(seed("001"))
    assert 600 <= removed <= 800
    assert not ANNOTATION.search(cleaned)
    # cut forms next to the garbled runs are gone too
    assert not re.search(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]", cleaned)


@pytest.mark.parametrize("prefix", ["000", "003", "004"])
def test_seeds_without_annotations_unchanged(prefix: str) -> None:
    text = seed(prefix)
    assert strip_pinyin(text) == (text, 0)
