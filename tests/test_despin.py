"""Despin stage: detection, choice in context, protected names, offsets, determinism.

The spun sentences below were written for these tests in the style of a thesaurus
spinner (技术 -> 技能, 计算 -> 核算, ...); the clean ones are tests/fixtures/despin_clean.txt.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import load_config
from pipeline.despin import despin
from pipeline.despin.candidates import CILIN, CURATED, default_table
from pipeline.despin.evaluation import line_distance
from pipeline.despin.stage import apply_edits
from pipeline.model import DespinResult

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "despin_clean.txt"

# A spun article of our own: three paragraphs full of spinner output.
SPUN = (
    "据揭露材料显现,7部分联合印发施行定见,提出加快建造核算根底设施。部分企业现已开端研制练习芯片。\n"
    "与此一起,咱们和合作伙伴一起打造开源东西链,支撑干流结构。\n"
    "2023年10月,美国商务部工业和安全局再次收紧出口控制,国家集成电路工业出资基金宣告追加出资。"
)


def restored(result: DespinResult) -> dict[tuple[int, str], str]:
    """(start, spun) -> restored word, for looking edits up by position."""
    return {(e.start, e.spun): e.restored for e in result.edits}


def at(text: str, needle: str, word: str) -> int:
    """Offset of ``word`` inside the first occurrence of ``needle`` in ``text``."""
    return text.index(needle) + needle.index(word)


def check_offsets(text: str, result: DespinResult) -> None:
    last_end = 0
    for e in result.edits:
        assert text[e.start : e.end] == e.spun
        assert e.start >= last_end, "edits overlap or are unsorted"
        assert 0.0 < e.confidence <= 1.0
        last_end = e.end
    assert apply_edits(text, result.edits) == result.text_final


def load_spinner():
    """scripts/spinner.py as a module (scripts/ is not a package)."""
    if "spinner" not in sys.modules:
        spec = importlib.util.spec_from_file_location("spinner", ROOT / "scripts" / "spinner.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["spinner"] = module  # dataclasses look their module up while being built
        spec.loader.exec_module(module)
    return sys.modules["spinner"]


# --- detection -------------------------------------------------------------------


def test_clean_fixture_is_left_alone():
    text = FIXTURE.read_text(encoding="utf-8")
    result = despin(text)
    threshold = load_config("despin")["detection"]["article_threshold"]
    assert not result.is_spun and result.spin_score < threshold / 2
    assert result.text_final == text and result.edits == []
    assert len(result.paragraph_scores) == text.count("\n") + 1


def test_each_clean_paragraph_alone_is_left_alone():
    for para in FIXTURE.read_text(encoding="utf-8").splitlines():
        result = despin(para)
        assert not result.is_spun, para
        assert result.text_final == para and result.edits == []


def test_spun_article_scores_high():
    result = despin(SPUN)
    assert result.is_spun and result.spin_score > 0.8
    assert all(s > 0.8 for s in result.paragraph_scores)


def test_our_spinner_output_is_detected_and_mostly_restored():
    clean = FIXTURE.read_text(encoding="utf-8")
    spun, swaps = load_spinner().spin(clean, rate=1.0, seed=3, mode="curated")
    result = despin(spun)
    assert result.is_spun and result.spin_score > 0.8
    correct = {(s.start, s.end, s.original) for s in swaps} & {(e.start, e.end, e.restored) for e in result.edits}
    assert len(correct) >= 0.8 * len(swaps)
    assert len(correct) >= 0.8 * len(result.edits)
    check_offsets(spun, result)


def test_empty_and_blank_texts():
    for text in ("", "\n", "  \n\n"):
        result = despin(text)
        assert result.text_final == text and not result.is_spun and result.spin_score == 0.0
        assert len(result.paragraph_scores) == text.count("\n") + 1


def test_signature_collocations_count_as_evidence():
    plain = despin("公司推出的新产品采用了自研架构,面向数据中心市场,预计明年量产。")
    spun = despin("公司推出的核算机采用了自研架构,面向高功用练习芯片市场,东西链完善。")
    assert spun.spin_score > plain.spin_score
    assert spun.is_spun and not plain.is_spun


# --- choice in context -------------------------------------------------------------


def test_bufen_restored_as_department_kept_as_part():
    result = despin(SPUN)
    edits = restored(result)
    assert edits[(at(SPUN, "7部分联合", "部分"), "部分")] == "部门"
    assert (at(SPUN, "部分企业", "部分"), "部分") not in edits
    assert "7部门联合印发实施意见" in result.text_final and "部分企业已经开始" in result.text_final


def test_yiqi_restored_as_meanwhile_kept_as_together():
    result = despin(SPUN)
    edits = restored(result)
    assert edits[(at(SPUN, "与此一起", "一起"), "一起")] == "同时"
    assert (at(SPUN, "伙伴一起", "一起"), "一起") not in edits
    assert "与此同时,我们和合作伙伴一起打造开源工具链,支持主流框架" in result.text_final


def test_woguo_restored_in_a_name_kept_as_our_country():
    text = (
        "据揭露材料显现,中国芯片企业现已开端研制练习芯片,核算才能快速提高。\n"
        "我国工程院院士表明,国产芯片要为我国经济开展做出更大奉献。中国的算力根底设施仍需加强。"
    )
    result = despin(text)
    edits = restored(result)
    assert edits[(text.index("我国工程院"), "我国")] == "中国"
    assert (at(text, "为我国经济", "我国"), "我国") not in edits
    assert "中国工程院院士表示" in result.text_final and "为我国经济发展" in result.text_final


def test_cilin_candidates_generalise_beyond_curated_pairs():
    table = default_table()
    assert any(c.word == "执行" and c.source == CILIN for c in table.by_surface["履行"])
    assert all(c.source != CURATED for c in table.by_surface["履行"])
    text = "据揭露材料显现,该公司履行董事表明,公司现已开端研制新一代练习芯片,核算才能将大幅提高。"
    result = despin(text)
    assert restored(result)[(text.index("履行"), "履行")] == "执行"


def test_candidate_table_inverts_curated_pairs():
    table = default_table()
    assert {c.word for c in table.by_surface["本钱"] if c.source == CURATED} == {"资本", "成本"}
    assert {c.word for c in table.by_surface["规划"] if c.source == CURATED} == {"设计", "规模"}
    assert table.forward["计算"] == ("核算",)


# --- protected names ---------------------------------------------------------------


def test_protected_names_kept_and_their_spun_forms_restored():
    result = despin(SPUN)
    assert "美国商务部工业和安全局" in result.text_final
    assert "国家集成电路产业投资基金" in result.text_final
    bis = SPUN.index("美国商务部工业和安全局")
    assert not any(bis <= e.start < bis + len("美国商务部工业和安全局") for e in result.edits)
    fund = SPUN.index("国家集成电路工业出资基金")
    inside = [(e.spun, e.restored) for e in result.edits if fund <= e.start < fund + 12]
    assert inside == [("工业", "产业"), ("出资", "投资")]


def test_every_catalog_name_and_alias_is_protected():
    text = SPUN + "\n工业和信息化部与工业和安全局的官员现已会面,大基金也参加了商议。"
    result = despin(text)
    for entity in load_config("entities")["entities"]:
        for term in [entity["name"], *entity.get("aliases", [])]:
            for pos in range(len(text)):
                if text.startswith(term, pos):
                    assert not any(pos <= e.start < pos + len(term) for e in result.edits), term


# --- offsets and determinism ----------------------------------------------------------


def test_offsets_slice_the_input_exactly():
    for text in (SPUN, SPUN.replace("\n", "\r\n"), "前言\n\n" + SPUN + "\n"):
        result = despin(text)
        assert result.edits
        check_offsets(text, result)


def test_spinner_output_with_cilin_swaps_keeps_offsets_exact():
    clean = FIXTURE.read_text(encoding="utf-8")
    spun, swaps = load_spinner().spin(clean, rate=0.8, seed=11, mode="mixed")
    assert all(spun[s.start : s.end] == s.spun for s in swaps)
    check_offsets(spun, despin(spun))


def test_deterministic():
    first, second = despin(SPUN), despin(SPUN)
    assert first == second
    spinner = load_spinner()
    clean = FIXTURE.read_text(encoding="utf-8")
    assert spinner.spin(clean, 0.7, 5, "mixed") == spinner.spin(clean, 0.7, 5, "mixed")
    assert spinner.spin(clean, 0.7, 5, "mixed") != spinner.spin(clean, 0.7, 6, "mixed")


@pytest.mark.parametrize("text", ["ASCII only text, nothing to do.", "😀😀 🚀 GPU A100 H20"])
def test_non_chinese_text_is_left_alone(text):
    result = despin(text)
    assert result.text_final == text and result.edits == [] and not result.is_spun


# --- held out: the sample corpus's spun article (another spinner, another table) ------


def test_sample_corpus_spun_article_restored_towards_its_reference():
    corpus = ROOT / "pipeline" / "data" / "sample_corpus"
    manifest = yaml.safe_load((corpus / "MANIFEST.yaml").read_text(encoding="utf-8"))
    spun_files = [(n, e) for n, e in manifest["files"].items() if e.get("spun")]
    if not spun_files:
        pytest.skip("the sample corpus has no spun article")
    for name, entry in spun_files:
        raw = (corpus / name).read_text(encoding=entry["encoding"])
        lines = raw.split("\n")
        cut = next(i for i, line in enumerate(lines) if line.startswith("本文源自"))
        article, rest = "\n".join(lines[:cut]).strip(), "\n".join(lines[cut + 1 :])
        reference = (ROOT / entry["despin_reference"]).read_text(encoding="utf-8").strip()
        result = despin(article)
        assert result.is_spun
        before = line_distance(reference, article)
        after = line_distance(reference, result.text_final)
        assert after <= 0.3 * before, (before, after)
        for phrase in entry["unspun_ordinary"]:
            assert phrase in result.text_final, phrase
        unspun = despin(rest)
        assert not unspun.is_spun and unspun.text_final == rest
