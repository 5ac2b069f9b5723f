"""The bundled sample corpus through ingest and normalize, checked against its manifest."""

from pathlib import Path

import pytest
import yaml

from pipeline.ingest import ingest_file
from pipeline.normalize import normalize
from pipeline.runner import SAMPLE_CORPUS

MANIFEST = yaml.safe_load((SAMPLE_CORPUS / "MANIFEST.yaml").read_text(encoding="utf-8"))["files"]
META = ("title", "outlet", "author", "published_date", "url")


def _expected_articles(entry: dict) -> list[dict]:
    return [entry] + list(entry.get("more_articles") or [])


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_sample_file(name):
    entry = MANIFEST[name]
    result = ingest_file(SAMPLE_CORPUS / name)
    assert len(result.articles) == entry["articles"], [r.detail for r in result.rejects]
    assert sum(r.reason == "teaser" for r in result.rejects) == entry["teasers"]
    text = "\n".join(f"{a.title or ''}\n{a.text}" for a in result.articles)
    for phrase in entry["must_contain"]:
        assert phrase in text, phrase
    for phrase in entry["must_not_contain"]:
        assert phrase not in text, phrase
    for art, want in zip(result.articles, _expected_articles(entry)):
        got = {k: getattr(art, k) for k in META}
        expect = {k: want.get(k) for k in META}
        if got["title"] and expect["title"]:  # titles are compared modulo punctuation width
            from pipeline.textfold import fullwidth_to_ascii

            got["title"], expect["title"] = fullwidth_to_ascii(got["title"]), fullwidth_to_ascii(expect["title"])
        assert got == expect
        n = normalize(art.text)
        assert (n.script, n.region) == (want.get("script", entry["script"]), want.get("region", entry["region"]))


def test_duplicate_has_the_same_article_id():
    from pipeline.runner import prepare_article

    for name, entry in MANIFEST.items():
        if entry.get("duplicate_of"):
            a = prepare_article(ingest_file(SAMPLE_CORPUS / name).articles[0])
            b = prepare_article(ingest_file(SAMPLE_CORPUS / entry["duplicate_of"]).articles[0])
            assert a.article_id == b.article_id
