"""The bundled sample corpus (pipeline/data/sample_corpus) and its generator.

Checks that the generator is deterministic and the committed files are its output,
that every file decodes with its declared encoding, that MANIFEST.yaml agrees with
the files (so the corpus really shows the problems it claims to), and that no line
of the corpus is copied from the real seed articles in ../shared/seeds.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "pipeline" / "data" / "sample_corpus"
SOURCES = ROOT / "tests" / "fixtures" / "sample_sources"
SEEDS = ROOT.parent / "shared" / "seeds"
MAX_CORPUS_BYTES = 60 * 1024


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_sample_corpus", ROOT / "scripts" / "make_sample_corpus.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
MANIFEST = yaml.safe_load((CORPUS / "MANIFEST.yaml").read_text(encoding="utf-8"))
FILES: dict = MANIFEST["files"]


def _raw(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def _text(name: str) -> str:
    return _raw(name).decode(FILES[name]["encoding"]).lstrip("\ufeff")


# --- the generator ------------------------------------------------------------------


def test_generator_is_deterministic_and_matches_committed_files(tmp_path):
    first = gen.build(tmp_path / "a")
    second = gen.build(tmp_path / "b")
    assert first == second
    committed = {p.name for p in CORPUS.iterdir() if p.is_file()}
    assert committed == set(first), "pipeline/data/sample_corpus holds files the generator does not write (or lacks some)"
    for name, data in first.items():
        assert (tmp_path / "a" / name).read_bytes() == data
        assert _raw(name) == data, f"{name} is stale: rerun scripts/make_sample_corpus.py"


def test_gbk_mojibake_is_misaligned_gbk():
    garbled = gen.gbk_mojibake("排到了幾月份")
    assert garbled.endswith("?")  # the odd byte left at the end
    assert "排到了" not in garbled
    assert garbled == "排到了幾月份".encode("gbk")[1:].decode("cp936", errors="replace").replace("\ufffd", "?")


def test_spinner_is_invertible():
    values = list(gen.SPIN_TABLE.values())
    assert len(values) == len(set(values))
    assert not set(values) & set(gen.SPIN_TABLE), "a spun form is also a spinner input"


# --- encodings ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILES))
def test_file_decodes_with_declared_encoding(name):
    entry = FILES[name]
    data = _raw(name)
    text = data.decode(entry["encoding"])  # strict
    if entry["bom"]:
        assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8))
    else:
        assert not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8))
        assert "\ufffd" not in text
    if entry["encoding"] in ("gbk", "big5"):
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    if entry["newline"] == "crlf":
        assert text.count("\n") == text.count("\r\n") > 0
    else:
        assert "\r" not in text
    assert entry["bytes"] == len(data)
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_corpus_is_small():
    total = sum(p.stat().st_size for p in CORPUS.iterdir() if p.is_file())
    assert total < MAX_CORPUS_BYTES


# --- the manifest ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILES))
def test_manifest_entry_is_well_formed(name):
    entry = FILES[name]
    for key in ("encoding", "script", "region", "articles", "teasers", "title", "outlet", "author",
                "published_date", "must_contain", "must_not_contain", "spun"):
        assert key in entry, f"{name}: manifest lacks {key}"
    assert entry["script"] in ("hans", "hant")
    assert entry["region"] in ("cn", "tw", "hk")
    assert isinstance(entry["spun"], bool)
    assert entry["articles"] >= 1 and entry["teasers"] >= 0
    assert len(entry.get("more_articles", [])) == entry["articles"] - 1
    for art in [entry, *entry.get("more_articles", [])]:
        assert art["title"]
        if art["published_date"] is not None:
            dt.date.fromisoformat(art["published_date"])
    assert entry["must_contain"] and entry["must_not_contain"]
    assert not set(entry["must_contain"]) & set(entry["must_not_contain"])


@pytest.mark.parametrize("name", sorted(FILES))
def test_manifest_phrases_occur_in_raw_file(name):
    """The corpus really exhibits what the manifest says cleaning must keep and remove."""
    text = _text(name)
    for phrase in FILES[name]["must_contain"] + FILES[name]["must_not_contain"]:
        assert phrase in text, f"{name}: {phrase!r} is not in the raw file"


def test_teasers_are_cut_off_lines():
    for name, entry in FILES.items():
        lines = [ln for ln in _text(name).splitlines() if ln.strip().endswith("...")]
        assert len(lines) == entry["teasers"], name
        for ln in lines:
            assert 60 <= len(ln.strip()) <= 110, ln


def test_spun_sample_matches_its_clean_reference():
    (name,) = [n for n, e in FILES.items() if e["spun"]]
    entry = FILES[name]
    raw = _text(name)
    clean = (ROOT / entry["despin_reference"]).read_text(encoding="utf-8").strip()
    spun = gen.spin(clean)
    assert spun != clean and spun in raw
    assert clean not in raw
    for spun_form, original in entry["spin_pairs"].items():
        assert gen.SPIN_TABLE[original] == spun_form
        assert spun_form in raw and original in clean
    # Ordinary uses of words the spinner also produces: same in the raw and clean text.
    for phrase in entry["unspun_ordinary"]:
        assert phrase in raw and phrase in clean, phrase


def test_interview_has_pinyin_and_two_mojibake_runs():
    text = _text("interview_pinyin_mojibake.txt")
    annotations = re.findall(r"[\u4e00-\u9fff]\(([a-zāáǎàēéěèīíǐìōóǒòūúǔùü]+)\)", text)
    assert 30 <= len(annotations) <= 50
    assert all(re.search("[āáǎàēéěèīíǐìōóǒòūúǔùü]", p) for p in annotations if p != "men")
    garbled = [p for p in FILES["interview_pinyin_mojibake.txt"]["must_not_contain"] if "?" in p]
    assert len(garbled) == 2 and all(g in text for g in garbled)


def test_feed_lines_are_json_with_metadata():
    lines = _text("feed.jsonl").splitlines()
    assert len(lines) == FILES["feed.jsonl"]["articles"]
    entry = FILES["feed.jsonl"]
    for item, expected in zip(map(json.loads, lines), [entry, *entry["more_articles"]]):
        assert set(item) == {"title", "outlet", "author", "url", "published", "text"}
        assert item["title"] == expected["title"] and item["url"] == expected["url"]
        assert dt.datetime.fromisoformat(item["published"]).date().isoformat() == expected["published_date"]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_duplicate_has_same_text_in_other_bytes():
    for name, entry in FILES.items():
        if not entry.get("duplicate_of"):
            continue
        other = entry["duplicate_of"]
        assert _raw(name) != _raw(other)
        dup = _text(name)
        assert dup.startswith("# ")
        assert _squash(dup[2:]) == _squash(_text(other))


# --- originality --------------------------------------------------------------------------


def _sample_texts() -> dict[str, str]:
    texts = {f"corpus/{n}": _text(n) for n in FILES}
    texts.update({f"sources/{p.name}": p.read_text(encoding="utf-8") for p in SOURCES.iterdir() if p.is_file()})
    return texts


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is absent")
def test_no_line_is_copied_from_the_seeds():
    """No line of ours occurs verbatim in a seed (also after folding both to Simplified).

    Lines shorter than 10 characters are exempt: headings such as 相关阅读 or 联系我们 are
    boilerplate every site shares, and the corpus must contain them.
    """
    import opencc

    t2s = opencc.OpenCC("t2s")
    seeds = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(SEEDS.iterdir()) if p.is_file()]
    seeds += [t2s.convert(s) for s in seeds]
    copied = []
    for name, text in _sample_texts().items():
        for line in text.splitlines():
            line = line.strip()
            if len(line) < 10:
                continue
            for variant in {line, t2s.convert(line)}:
                if any(variant in s for s in seeds):
                    copied.append((name, line))
                    break
    assert not copied, copied


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is absent")
def test_no_long_passage_is_shared_with_the_seeds():
    """No run of 20 characters (whitespace removed, folded to Simplified) is shared."""
    import opencc

    t2s = opencc.OpenCC("t2s")
    n = 20
    seed_grams: set[str] = set()
    for p in SEEDS.iterdir():
        if p.is_file():
            s = _squash(t2s.convert(p.read_text(encoding="utf-8", errors="replace")))
            seed_grams.update(s[i : i + n] for i in range(len(s) - n + 1))
    shared = []
    for name, text in _sample_texts().items():
        s = _squash(t2s.convert(text))
        shared += [(name, s[i : i + n]) for i in range(len(s) - n + 1) if s[i : i + n] in seed_grams]
    assert not shared, shared[:10]
