"""``zhnews report``: every section from real outputs, offline, and drawn by a real browser."""

import re
import shutil
import subprocess

import pyarrow.dataset as ds
import pytest

from pipeline.cli import main
from pipeline.report import ReportError, build_report
from pipeline.runner import run_corpus
from test_ingest import BODY1, TRAD
from test_readme import ARTICLE


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    src = base / "in"
    src.mkdir()
    for name, text in {"b1.txt": BODY1, "trad.txt": TRAD, "cambricon.txt": ARTICLE}.items():
        (src / name).write_text(text, encoding="utf-8")
    run_corpus([src], base / "out", progress=lambda _m: None)
    index = build_report(base / "out", base / "report")
    return base / "out", index


def rows(out, table):
    return ds.dataset(out / table, format="parquet").to_table().to_pylist()


def test_index_has_every_section_with_real_values(built):
    out, index = built
    page = index.read_text(encoding="utf-8")
    for anchor in ("overview", "stance", "entities", "claims", "spin", "articles"):
        assert f"id='{anchor}'" in page
    for outlet in {a["outlet"] for a in rows(out, "articles") if a["outlet"]}:
        assert outlet in page
    top = max(rows(out, "entities"), key=lambda e: (e["mention_count"], e["entity_id"]))
    assert top["name"] in page
    assert page.count("<svg") >= 4  # outlets, stance, co-occurrence, claims: inline charts
    assert "11.74亿元" in page and "营收" in page  # a claim with its figure


def test_article_views_highlight_the_mentions(built):
    out, index = built
    mentions = rows(out, "mentions")
    for article in rows(out, "articles"):
        page = (index.parent / "articles" / f"{article['article_id']}.html").read_text(encoding="utf-8")
        marked = re.findall(r"<mark[^>]*>\s*(.*?)\s*<span", page, flags=re.S)
        expected = [m["text"] for m in sorted(mentions, key=lambda m: m["start"]) if m["article_id"] == article["article_id"]]
        assert [re.sub(r"\s+", "", t) for t in marked] == [re.sub(r"\s+", "", t) for t in expected]
        assert f"articles/{article['article_id']}.html" in index.read_text(encoding="utf-8")


def test_nothing_is_fetched_from_the_network(built):
    _, index = built
    for page in [index, *index.parent.glob("articles/*.html")]:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), page
        assert "@import" not in text and "<script" not in text


def test_missing_datasets_are_a_clear_error(tmp_path, capsys):
    with pytest.raises(ReportError, match="no datasets here"):
        build_report(tmp_path / "nothing", tmp_path / "r")
    assert main(["report", "--out", str(tmp_path / "nothing"), "--dest", str(tmp_path / "r")]) == 1
    assert "zhnews run" in capsys.readouterr().err


def test_a_headless_browser_renders_the_report(built, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium not installed (Debian: apt-get install chromium fonts-noto-cjk)")
    from matplotlib.image import imread

    _, index = built
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
         "--window-size=1280,2000", index.as_uri()],
        check=True, timeout=120, capture_output=True,
    )
    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    assert pixels[..., :3].std() > 0.05  # text, tables and charts, not a blank page
    # the charts are drawn: some rows in the upper half carry the bar colours
    assert (abs(pixels[:1000, :, :3] - [0x5C / 255, 0x6B / 255, 0xC0 / 255]).sum(axis=2) < 0.1).sum() > 500
