"""``zhnews report`` on the bundled sample corpus: every section shows the datasets' real
values, article views highlight the mentions, nothing is fetched from the network, and a
headless browser draws it."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.report import ReportError, build_report
from pipeline.runner import run_corpus
from pipeline.store import Store

CFG = load_config("report")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Store, Path]:
    base = tmp_path_factory.mktemp("report")
    run_corpus(None, base / "out", progress=lambda _m: None)
    return Store(base / "out"), build_report(base / "out", base / "report")


def rows(store: Store, table: str) -> list[dict]:
    return store.read(table).to_pylist()


def sections(index: Path) -> dict[str, str]:
    page = index.read_text(encoding="utf-8")
    return dict(re.findall(r'<section id="(\w+)">(.*?)</section>', page, flags=re.S))


def table_rows(part: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", part, flags=re.S)


def cell(value: object) -> str:
    return f"<td>{html.escape(str(value))}</td>"


def number(value: object) -> str:
    return f'<td class="num">{value}</td>'


def test_every_section_is_there(built):
    _, index = built
    assert list(sections(index)) == ["overview", "stance", "entities", "claims", "spin", "articles"]


def test_overview_counts_and_outlets(built):
    store, index = built
    overview = sections(index)["overview"]
    articles = rows(store, "articles")
    counts = {"articles": len(articles), "runs": len(rows(store, "runs")),
              "rejected inputs": len(rows(store, "rejects"))}
    for name, count in counts.items():
        assert f"<b>{count}</b><span>{name}</span>" in overview
    outlets = {a["outlet"] for a in articles if a["outlet"]}
    assert len(outlets) >= 5
    for outlet in outlets:
        assert cell(outlet) in overview
        # the chart's label is SVG text, drawn by the browser's fonts
        assert re.search(rf"<text[^>]*>{re.escape(html.escape(outlet))}</text>", overview)
    for script, region in {(a["script"], a["region"]) for a in articles}:
        assert f"{cell(script)}{cell(region)}" in overview


def test_stance_by_outlet_chart_and_means(built):
    store, index = built
    stance = sections(index)["stance"]
    assert "<svg" in stance
    outlet_of = {a["article_id"]: a["outlet"] or "(unknown)" for a in rows(store, "articles")}
    scores: dict[str, list[float]] = {}
    for row in rows(store, "stance"):
        if row["scope"] == "article" and row["target"] == CFG["stance_target"]:
            scores.setdefault(outlet_of[row["article_id"]], []).append(row["score"])
    assert len(scores) >= 5
    for outlet, values in scores.items():
        mean = f"{sum(values) / len(values):+.2f}"
        assert any(cell(outlet) in row and number(mean) in row for row in table_rows(stance)), outlet
        assert f"mean {mean}" in stance  # the note after the outlet's bar in the chart
    for label in ("bullish", "mixed", "neutral", "skeptical"):
        assert f">{label}</text>" in stance  # the chart's legend


def test_top_entity_and_top_pair(built):
    store, index = built
    part = sections(index)["entities"]
    entities = rows(store, "entities")
    top = min(entities, key=lambda e: (-e["mention_count"], e["entity_id"]))
    first_row = table_rows(part)[1]
    assert cell(top["name"]) in first_row and number(top["mention_count"]) in first_row
    named: dict[str, set[str]] = {}
    for m in rows(store, "mentions"):
        named.setdefault(m["article_id"], set()).add(m["entity_id"])
    pairs = Counter(pair for ids in named.values() for pair in combinations(sorted(ids), 2))
    (a, b), n = min(pairs.items(), key=lambda item: (-item[1], item[0]))
    name = {e["entity_id"]: e["name"] for e in entities}
    assert f"{cell(name[a])}{cell(name[b])}{number(n)}" in part
    assert part.count("<svg") == 2  # mentions bar chart and co-occurrence heatmap


def test_claims_with_their_figures(built):
    store, index = built
    part = sections(index)["claims"]
    claims = [c for c in rows(store, "claims") if c["quantity_ids"]]
    surface = {q["quantity_id"]: q["surface"] for q in rows(store, "quantities")}
    assert "<svg" in part
    assert part.count("<tr>") == 1 + min(len(claims), CFG["max_claims"])
    dated = [c for c in claims if c["period_norm"] and c["metric"]]
    assert dated
    for claim in dated:
        figures = "; ".join(surface[q] for q in claim["quantity_ids"])
        assert any(
            f"<td>{claim['period_norm']}" in row and cell(claim["metric"]) in row and cell(figures) in row
            for row in table_rows(part)
        ), claim


def test_spun_articles_with_restorations_in_context(built):
    store, index = built
    part = sections(index)["spin"]
    spun = [a for a in rows(store, "articles") if a["is_spun"]]
    edits = rows(store, "spin_edits")
    assert spun and edits
    width = CFG["spin_context_chars"]
    for article in spun:
        own = [e for e in edits if e["article_id"] == article["article_id"]]
        assert f"{number(format(article['spin_score'], '.2f'))}{number(len(own))}" in part
        for edit in own[:5]:
            before = article["text_normalized"][max(0, edit["start"] - width):edit["start"]]
            assert f"{html.escape(before)}<del>{edit['spun']}</del><ins>{edit['restored']}</ins>" in part


def test_article_views_highlight_every_mention(built):
    store, index = built
    articles = rows(store, "articles")
    mentions = sorted(rows(store, "mentions"), key=lambda m: m["start"])
    claims = rows(store, "claims")
    listing = sections(index)["articles"]
    pages = index.parent / "articles"
    assert len(list(pages.glob("*.html"))) == min(len(articles), CFG["max_articles"])
    stance = {s["article_id"]: s["label"] for s in rows(store, "stance") if s["scope"] == "article"}
    for article in articles:
        article_id = article["article_id"]
        assert f'href="articles/{article_id}.html"' in listing
        page = (pages / f"{article_id}.html").read_text(encoding="utf-8")
        marked = re.findall(r"<mark[^>]*>\s*(.*?)\s*<span", page, flags=re.S)
        expected = [m["text"] for m in mentions if m["article_id"] == article_id]
        assert [html.unescape(t) for t in marked] == expected
        assert f">{stance[article_id]}</span>" in page
        for claim in (c for c in claims if c["article_id"] == article_id):
            assert cell(claim["text"]) in page


def test_nothing_is_fetched_from_the_network(built):
    _, index = built
    for page in [index, *index.parent.glob("articles/*.html")]:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text), page
        for remote in ("<script", "<link", "@import", "url(http"):
            assert remote not in text, (page, remote)


def test_a_rebuild_is_identical_quiet_and_drops_stale_views(built, tmp_path, capfd):
    store, index = built
    dest = tmp_path / "again"
    (dest / "articles").mkdir(parents=True)
    (dest / "articles" / "a_gone.html").write_text("old", encoding="utf-8")
    messages: list[str] = []
    again = build_report(store.root, dest, progress=messages.append)
    assert capfd.readouterr() == ("", "")
    assert messages and again == dest / "index.html"
    assert again.read_bytes() == index.read_bytes()
    names = sorted(p.name for p in (dest / "articles").iterdir())
    assert names == sorted(p.name for p in (index.parent / "articles").iterdir())


def test_missing_or_empty_dataset_dir_is_a_clear_error(tmp_path):
    with pytest.raises(ReportError, match=r"no dataset directory at .*nothing.*zhnews run"):
        build_report(tmp_path / "nothing", tmp_path / "r")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match=r"holds no datasets"):
        build_report(tmp_path / "empty", tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_a_headless_browser_draws_the_report(built, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium not installed: apt-get install chromium")
    from matplotlib.image import imread

    _, index = built
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2400",
         index.as_uri()],
        check=True, timeout=60, capture_output=True,
    )
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    assert pixels.std() > 0.1  # text, tables and charts, not a blank page
    bar = [0x5C / 255, 0x6B / 255, 0xC0 / 255]  # the outlet chart's bars were drawn
    assert (abs(pixels - bar).sum(axis=2) < 0.05).sum() > 2000
