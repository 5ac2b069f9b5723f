"""Despin on the real seeds (read at run time; skipped when ../shared/seeds is absent)."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import seed_path
from pipeline.config import load_config
from pipeline.despin import despin
from pipeline.despin.candidates import curated_pairs
from pipeline.despin.evaluation import split_at_attribution, trailing_parts
from pipeline.model import DespinResult
from pipeline.textfold import opencc_converter



def seed_text(prefix: str) -> str:
    return seed_path(prefix).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_003() -> str:
    return seed_text("003")


@pytest.fixture(scope="module")
def main_003(seed_003) -> tuple[str, DespinResult]:
    main, _ = split_at_attribution(seed_003)
    return main, despin(main)


@pytest.mark.parametrize("prefix", ["000", "004"])
def test_clean_seeds_unchanged(prefix):
    threshold = load_config("despin")["detection"]["article_threshold"]
    text = opencc_converter("t2s").convert(seed_text(prefix))
    result = despin(text)
    assert not result.is_spun and result.spin_score < threshold / 2
    assert result.text_final == text and result.edits == []


def test_seed_003_main_article_is_spun(main_003):
    main, result = main_003
    assert result.is_spun and result.spin_score > 0.8
    threshold = load_config("despin")["detection"]["paragraph_threshold"]
    assert sum(s >= threshold for s in result.paragraph_scores) >= 0.9 * len(result.paragraph_scores)
    for e in result.edits:
        assert main[e.start : e.end] == e.spun


def test_seed_003_listed_pairs_mostly_restored(main_003):
    """The brief's pairs (group ``core``): most occurrences of their spun forms restored."""
    main, result = main_003
    pairs = curated_pairs(load_config("despin"), ("core",))
    by_pair = Counter((e.spun, e.restored) for e in result.edits)
    occurrences, restorations = Counter(), Counter()
    for original, spun in pairs:
        occurrences[spun] = main.count(spun)
        restorations[spun] += by_pair[(spun, original)]
    assert sum(restorations.values()) >= 0.85 * sum(occurrences.values())
    present = [s for s in occurrences if occurrences[s]]
    well_restored = [s for s in present if restorations[s] >= 0.5 * occurrences[s]]
    assert len(well_restored) >= 0.9 * len(present), sorted(set(present) - set(well_restored))


def test_seed_003_names(main_003):
    main, result = main_003
    assert "美国商务部工业和安全局" in main and "美国商务部工业和安全局" in result.text_final
    assert "国家集成电路工业出资基金" in main
    assert "国家集成电路产业投资基金" in result.text_final
    assert "国家集成电路工业出资基金" not in result.text_final


def test_seed_003_trailing_snippets(seed_003):
    _, lines = split_at_attribution(seed_003)
    teasers, snippets = trailing_parts(lines)
    assert len(snippets) >= 2
    for snippet in snippets:
        result = despin(snippet)
        assert result.is_spun and result.spin_score > 0.6, snippet[:20]
    signatures = load_config("despin")["detection"]["signatures"]
    spun_forms = {s for _, s in curated_pairs(load_config("despin"))}
    for teaser in teasers:
        result = despin(teaser)
        has_evidence = any(s in teaser for s in spun_forms | set(signatures))
        if not has_evidence:
            assert not result.is_spun and result.spin_score == 0.0, teaser[:20]
