"""repair_misaligned_gbk: GBK runs read one byte out of step come back; clean text stays."""

from __future__ import annotations

import codecs
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from pipeline.ingest.charmodel import is_han, text_logp
from pipeline.ingest.mojibake import MojibakeRepair, repair_misaligned_gbk
from pipeline.ingest.pinyin import strip_pinyin

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
MARK = "\ufffd"

# Written for these tests, in the punctuation style of the scraped files
# (ASCII commas and question marks, full-width full stops).
SENTENCES = [
    "这家初创公司去年完成了两轮融资,估值已经超过十亿元。",
    "工程师们花了三个月重新设计电源管理模块,功耗因此下降了不少。",
    "他说市场需求还在增长,但供应链的压力越来越大。",
    "新工厂预计明年投产,届时产能将提高一倍。",
    "对于中小企业来说,云服务的价格仍然偏高。",
    "這家晶片設計公司計畫在明年推出新一代產品,並擴大海外市場。",
    "分析師指出,資料中心的需求仍然強勁,相關企業的營收持續成長。",
    "研發團隊認為,軟體生態才是真正的護城河。",
    "我們這個團隊只有二十個人,卻做出了一個完整的平台。",
    "董事會決定將總部遷往新竹,員工對此反應不一。",
]

CLEAN = """\
记者:你们为什么选择在这个时候推出新产品?
创始人:市场窗口不会一直开着。客户问我们,能不能再便宜一点?
我们的回答是:可以,但要等量产。
有人担心估值太高了吗?其实二级市场的反应还算平稳,A股和港股都有类似的公司。
真的假的??他自己也不敢相信。这怎么可能?!
“为什么不早点做?”她反问道。
燧石、曦光、鑫源、骉马这些名字在行业里并不常见。
產品經理說:明年會不會漲價?現在還不好說。
這家公司的股價為什麼跌了?分析師認為,主要是毛利率不如預期。
你問我這個方案可不可行?我覺得值得一試。
详情见 https://example.com/report?id=2024&lang=zh 或邮件 press@example.com 。
问答|这款芯片到底强在哪?
价格大约在3000元左右?还要看配置。
Is it ready? Not yet. 還沒準備好?那就再等等。
"""


def _seedlike(exc: UnicodeDecodeError) -> tuple[str, int]:
    # like the scraped files: a byte that starts nothing shows as "?", cp936's 0x80 as €
    return ("€" if exc.object[exc.start : exc.start + 1] == b"\x80" else "?"), exc.start + 1


def _drop_private_use(exc: UnicodeDecodeError) -> tuple[str, int]:
    # like the scraped files: a user-defined-area pair (private use) was dropped
    pair = exc.object[exc.start : exc.start + 2]
    try:
        if len(pair) == 2 and 0xE000 <= ord(pair.decode("gb18030")) <= 0xF8FF:
            return "", exc.start + 2
    except UnicodeDecodeError:
        pass
    return _seedlike(exc)


codecs.register_error("test_seedlike", _seedlike)
codecs.register_error("test_drop_private_use", _drop_private_use)


def garble(text: str, pos: int, errors: str = "test_seedlike") -> str:
    """Lose the lead byte of text[pos] and read the rest of its line one byte out of step."""
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    raw = text[pos:end].encode("gbk")
    shifted = raw[1:].decode("gbk", errors=errors)
    # a later normaliser turned full-width forms (！，？) into ASCII
    shifted = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in shifted)
    return text[:pos] + "?" + shifted + text[end:]


def verdict(original: str, repair: MojibakeRepair, garbled: str) -> str:
    """exact; marked (right but for U+FFFD markers); skipped (left as it was); wrong."""
    if repair.text == original:
        return "exact"
    if repair.text == garbled and not repair.runs_repaired:
        return "skipped"
    same_shape = len(repair.text) == len(original)
    if same_shape and all(a == b or b == MARK for a, b in zip(original, repair.text)):
        return "marked"
    return "wrong"


def seed(prefix: str) -> str:
    if not SEEDS.is_dir():
        pytest.skip("seeds not available: ../shared/seeds")
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


# --- repairs ------------------------------------------------------------------


def test_garbler_makes_what_the_scraped_files_show() -> None:
    text = "我們這個團隊"
    garbled = garble(text, 1)  # 們 is lost: 這 = df40 leaves an "@"
    assert garbled.startswith("我?") and "@" in garbled and garbled.endswith("個團隊")
    assert "€" in garble("做出了一個完整的平台", 3)  # 個 = 8280: cp936's 0x80


def test_every_position_of_every_sentence() -> None:
    """Garble each character in turn: never a wrong character, most runs repaired."""
    outcomes: Counter[str] = Counter()
    for sentence in SENTENCES:
        for pos, ch in enumerate(sentence):
            if not is_han(ch):
                continue
            garbled = garble(sentence, pos)
            outcome = verdict(sentence, repair_misaligned_gbk(garbled), garbled)
            assert outcome != "wrong", (sentence, garbled, repair_misaligned_gbk(garbled).text)
            outcomes[outcome] += 1
    total = sum(outcomes.values())
    # skipped: mostly one character lost whole ("??" before ASCII), which nothing can recover
    assert outcomes["exact"] + outcomes["marked"] >= 0.75 * total, outcomes
    assert outcomes["exact"] >= 0.15 * total, outcomes


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("研發團隊認為,軟體生態才是真正的護城河。", "發"),  # Traditional
        ("我們這個團隊只有二十個人,卻做出了一個完整的平台。", "們"),  # ends on "@"
        ("我們這個團隊只有二十個人,卻做出了一個完整的平台。", "一"),  # ends on "€"
        ("工程师们花了三个月重新设计电源管理模块,功耗因此下降了不少。", "新"),  # a "？" in it
    ],
)
def test_exact_repairs(text: str, at: str) -> None:
    garbled = garble(text, text.index(at))
    assert garbled != text
    assert repair_misaligned_gbk(garbled) == MojibakeRepair(text, 1, 0)


def test_run_at_line_start() -> None:
    text = "上一段到此結束。\n研發團隊認為,軟體生態才是真正的護城河。"
    garbled = garble(text, text.index("研"))
    assert "\n?" in garbled
    repair = repair_misaligned_gbk(garbled)
    assert verdict(text, repair, garbled) in ("exact", "marked")
    assert repair.runs_repaired == 1 and repair.text.count(MARK) == repair.unrecoverable <= 1


def test_run_at_line_end() -> None:
    text = "新工厂预计明年投产,届时产能将提高一倍。\n下一段从这里开始。"
    garbled = garble(text, text.index("提"))
    assert "?\n" in garbled  # the last trail byte was lost before the newline
    repair = repair_misaligned_gbk(garbled)
    assert verdict(text, repair, garbled) == "marked"
    assert repair.text.split("\n")[0] == "新工厂预计明年投产,届时产能将提高一倍" + MARK


def test_run_right_after_a_real_question_mark() -> None:
    text = "他们真的准备好了吗?工程师们花了三个月重新设计电源管理模块。"
    for at in ("工", "程"):
        garbled = garble(text, text.index(at))
        repair = repair_misaligned_gbk(garbled)
        assert verdict(text, repair, garbled) in ("exact", "marked"), repair.text
        assert repair.text.startswith("他们真的准备好了吗?")


def test_run_ending_at_a_real_question_mark() -> None:
    text = "这款芯片的功耗到底有没有降低?分析师说还要再看看。"
    garbled = garble(text, text.index("没"))
    assert "??" in garbled  # the lost trail byte, then the real question mark
    repair = repair_misaligned_gbk(garbled)
    assert verdict(text, repair, garbled) in ("exact", "marked")
    assert repair.text.endswith("?分析师说还要再看看。")


def test_dropped_private_use_pair_inside_a_run() -> None:
    # 化 = bbaf: "af" + the next lead byte is a user-defined pair, which got dropped
    text = "這家公司的資料中心規模化以後,營運成本明顯下降。"
    garbled = garble(text, text.index("規"), errors="test_drop_private_use")
    assert garbled != garble(text, text.index("規"))
    repair = repair_misaligned_gbk(garbled)
    assert verdict(text, repair, garbled) == "marked"
    assert repair.text.count(MARK) == 1


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("这家初创公司去年完成了两轮融资,估值已经超过十亿元。", "完成了两轮"),
        ("工程师们花了三个月重新设计电源管理模块。", "重新设计"),
        ("他说市场需求还在增长。", "市场需求还在增长"),
    ],
)
def test_run_whose_lost_byte_left_no_mark(text: str, phrase: str) -> None:
    # some garblers drop the first byte silently; only the odd byte at the end shows as "?"
    shifted = phrase.encode("gbk")[1:].decode("gbk", errors="replace").replace(MARK, "?")
    garbled = text.replace(phrase, shifted)
    assert shifted.endswith("?") and not shifted.startswith("?")
    repair = repair_misaligned_gbk(garbled)
    assert repair.runs_repaired == 1
    assert verdict(text, repair, garbled) in ("exact", "marked"), repair.text


def test_several_runs_in_one_text() -> None:
    lines = [garble(s, 1) for s in SENTENCES[5:8]]
    repair = repair_misaligned_gbk("\n".join(lines))
    assert repair.runs_repaired == 3
    for got, want in zip(repair.text.split("\n"), SENTENCES[5:8]):
        assert len(got) == len(want) and all(a == b or b == MARK for a, b in zip(want, got))


def test_repair_is_idempotent() -> None:
    for sentence in SENTENCES:
        for pos in range(0, len(sentence), 3):
            once = repair_misaligned_gbk(garble(sentence, pos)).text
            assert repair_misaligned_gbk(once) == MojibakeRepair(once, 0, 0)


# --- clean text ---------------------------------------------------------------


def test_clean_text_unchanged() -> None:
    assert repair_misaligned_gbk(CLEAN) == MojibakeRepair(CLEAN, 0, 0)
    for sentence in SENTENCES:
        assert repair_misaligned_gbk(sentence).text == sentence


def test_question_marks_anywhere_a_sentence_may_end() -> None:
    rng = random.Random(7)
    for sentence in SENTENCES * 3:
        marks = [i for i, ch in enumerate(sentence) if ch in ",。"]
        text = "".join(rng.choice(["?", "??", "?!", "?”"]) if i in marks else ch for i, ch in enumerate(sentence))
        assert repair_misaligned_gbk(text).text == text


def test_replacement_characters_from_elsewhere_stay() -> None:
    for text in ("资料\ufffd\ufffd中心", "我们\ufffd的数据", "这是什么?\ufffd"):
        assert repair_misaligned_gbk(text) == MojibakeRepair(text, 0, 0)


# --- the real files -----------------------------------------------------------


def test_seed_with_garbled_runs() -> None:
    text, removed = strip_pinyin(seed("001"))
    assert 600 <= removed <= 800
    repair = repair_misaligned_gbk(text)
    assert repair.runs_repaired == 8
    assert repair.text.count(MARK) == repair.unrecoverable
    for garbled in ("搅伺笥讶", "榻桓兑粋€", "边@", "?,F", "苿", "约澳茉础", "漠a", "?]"):
        assert garbled in text and garbled not in repair.text
    words = ("了朋友", "變為交付一個系統", "水平。”這是", "的。現在", "以及能源", "產品上面", "邊界")
    for word in words:
        assert word in repair.text
    assert repair_misaligned_gbk(repair.text).runs_repaired == 0


@pytest.mark.parametrize("prefix", ["000", "003", "004"])
def test_seeds_without_garbling_unchanged(prefix: str) -> None:
    text = seed(prefix)
    assert repair_misaligned_gbk(text) == MojibakeRepair(text, 0, 0)


def test_seed_fast_enough() -> None:
    text = seed("001")
    text_logp("預熱")  # the dictionary model loads once per process
    start = time.perf_counter()
    repair_misaligned_gbk(strip_pinyin(text)[0])
    assert time.perf_counter() - start < 0.5


def test_megabyte_of_clean_text_fast_enough() -> None:
    rng = random.Random(3)
    pieces = (SENTENCES + CLEAN.splitlines()) * 4
    chunks = []
    while sum(map(len, chunks)) * 3 < 1_000_000:
        rng.shuffle(pieces)
        chunks.append("\n".join(pieces))
    text = "\n".join(chunks)
    text_logp("預熱")
    start = time.perf_counter()
    repair = repair_misaligned_gbk(text)
    elapsed = time.perf_counter() - start
    assert repair.text == text
    assert elapsed < 1.0
