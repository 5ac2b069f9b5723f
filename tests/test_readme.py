"""The README's examples for consumers run against real outputs and find what they promise."""

import re
from pathlib import Path

import pytest

from pipeline.runner import run_corpus

ROOT = Path(__file__).resolve().parents[1]

ARTICLE = """来源：芯片观察
标题：寒武纪营收大增，国产算力加速落地

芯片观察讯 寒武纪近日发布年报，2024年营业收入为11.74亿元，同比增长65.56%。公司表示，思元系列芯片已在多家互联网企业实现规模化部署，国产替代进程明显加快。
业内人士指出，中芯国际已实现7纳米制程的稳定量产，为国产AI芯片提供了关键产能支撑。分析师认为，国产芯片的市场份额有望继续提升。
不过也有观点认为，部分企业估值过高，行业存在泡沫风险，盈利能力仍然堪忧。
"""


def readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Reading the datasets") :]
    section = section[: section.index("\n## ", 3)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def outputs_cwd(tmp_path_factory):
    base = tmp_path_factory.mktemp("readme")
    (base / "in").mkdir()
    (base / "in" / "cambricon.txt").write_text(ARTICLE, encoding="utf-8")
    run_corpus([base / "in"], base / "outputs", progress=lambda _m: None)
    return base


def test_readme_examples_run_and_find_the_facts(outputs_cwd, monkeypatch):
    blocks = readme_blocks()
    assert len(blocks) == 2
    monkeypatch.chdir(outputs_cwd)
    ns: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), ns)
    revenue = ns["revenue"]
    assert list(zip(revenue.aspect, revenue.value, revenue.unit)) == [("level", 1.174e9, "CNY"), ("change", 65.56, "%")]
    assert set(revenue.period_norm) == {"2024"}
    assert ns["seven_nm"].text.str.contains("7纳米").all() and len(ns["seven_nm"]) == 1
    assert ns["by_outlet"].articles.sum() == 1
    assert "org.cambricon" in set(ns["top"].entity_id)
    assert ns["why"].evidence.str.contains("泡沫|堪忧").any()
