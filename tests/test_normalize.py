import pytest

from pipeline.normalize import detect_region, detect_script, normalize

TW = "台積電宣布3奈米晶片量產，輝達的演算法團隊改寫了軟體，記憶體與伺服器需求大增。"
HK = "港交所今日公布，一間本地晶片公司計劃以每股12港元招股，集資額約為5億港元，恒指午後回升。"
CN_HANT = "國產GPU廠商正在成爲資本追逐的對象，英偉達的芯片供應收緊，軟件生態仍需時間建設。"
HANS = "国产GPU厂商正在成为资本追逐的对象，英伟达的芯片供应收紧。"


@pytest.mark.parametrize(
    "text, script, region",
    [(TW, "hant", "tw"), (HK, "hant", "hk"), (CN_HANT, "hant", "cn"), (HANS, "hans", "cn")],
)
def test_script_and_region(text, script, region):
    s = detect_script(text)
    assert (s, detect_region(text, s)) == (script, region)


def test_taiwan_vocabulary_becomes_mainland():
    n = normalize(TW)
    for word in ("台积电", "纳米", "芯片", "英伟达", "算法", "软件", "内存", "服务器"):
        assert word in n.text, word
    for word in ("晶片", "奈米", "演算法", "軟體", "辉达"):
        assert word not in n.text


def test_overrides_keep_mainland_words_opencc_would_change():
    n = normalize("華爲昇騰910B的核心技術已建立起生態。")
    assert "昇腾910B" in n.text and "核心技术" in n.text and "建立" in n.text
    assert "华为" in n.text


def test_zhe_particle_and_wei_variant():
    n = normalize("他們追逐著夢想，成爲著名的企業，影響顯著。", script="hant", region="cn")
    assert "追逐着梦想" in n.text and "成为著名" in n.text and "显著" in n.text


def test_fullwidth_and_punctuation():
    n = normalize("英伟达Ｈ２０芯片售价约１．２万美元,市场份额(约30%)下降?是的:1,000台")
    assert "H20" in n.text and "1.2万" in n.text
    assert "美元，市场份额（约30%）下降？是的：1,000台" in n.text


def test_simplified_text_is_kept():
    assert normalize(HANS).text == HANS


@pytest.mark.parametrize("text", [TW, HK, CN_HANT, HANS, "我們的演算法與軟體\n第二行：智慧型手機的記憶體"])
def test_offset_map_covers_and_maps_back(text):
    n = normalize(text)
    assert len(n.offsets) == len(n.text) + 1
    assert n.offsets[-1] == len(text)
    assert n.offsets == sorted(n.offsets)
    for i in range(len(n.text)):
        start, end = n.to_original(i, i + 1)
        assert 0 <= start < end <= len(text)
    # a word's span maps back to the original word
    if "記憶體" in text:
        i = n.text.index("内存")
        s, e = n.to_original(i, i + 2)
        assert text[s:e] == "記憶體"


def test_seeds_scripts_regions(seed):
    from pipeline.ingest import ingest_file

    expected = {"000": ("hans", "cn"), "001": ("hant", "cn"), "003": ("hans", "cn"), "004": ("hant", "cn")}
    for prefix, want in expected.items():
        for art in ingest_file(seed(prefix)).articles:
            n = normalize(art.text)
            assert (n.script, n.region) == want, prefix
            if n.script == "hant":
                assert "英伟达" in n.text and "英偉達" not in n.text
