import os

import pytest

from pipeline.ingest.encoding import decode_bytes
from pipeline.ingest.errors import InputRejected

HANS = "国产芯片厂商在七纳米工艺上取得进展，多家公司完成新一轮融资，资本市场反应积极。\n分析师认为竞争仍然激烈。"
HANT = "臺灣的晶片製造商宣布擴大先進製程產能，記憶體與伺服器需求持續攀升，供應鏈緊張。\n業者預計明年營收成長。"


@pytest.mark.parametrize(
    "data, text, encoding",
    [
        (HANS.encode("utf-8"), HANS, "utf-8"),
        (b"\xef\xbb\xbf" + HANS.encode("utf-8"), HANS, "utf-8-bom"),
        (HANS.encode("utf-16"), HANS, "utf-16-bom"),
        (HANS.encode("utf-16-le"), HANS, "utf-16"),
        (HANS.encode("utf-16-be"), HANS, "utf-16"),
        (HANS.encode("gbk"), HANS, "gb18030"),
        (HANT.encode("big5"), HANT, "big5"),
        (HANT.encode("gb18030"), HANT, "gb18030"),
    ],
)
def test_detects_encoding(data, text, encoding):
    decoded = decode_bytes(data)
    assert decoded.text == text
    assert decoded.encoding == encoding


def test_crlf_becomes_lf():
    assert decode_bytes(HANS.replace("\n", "\r\n").encode("gbk")).text == HANS


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"   \n\t  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000), "binary"),
        (bytes(range(256)) * 8, "binary"),
        (os.urandom(4096).replace(b"\x00", b"\x01"), "undecodable"),
    ],
)
def test_rejects_non_text(data, reason):
    with pytest.raises(InputRejected) as err:
        decode_bytes(data)
    assert err.value.reason in (reason, "binary", "undecodable")
    assert err.value.detail


def test_mixed_encodings_line_by_line():
    data = HANS.encode("utf-8") + b"\n" + HANT.encode("big5") + b"\n" + HANS.encode("gbk")
    decoded = decode_bytes(data)
    assert HANT.split("\n")[0] in decoded.text
    assert decoded.text.count(HANS.split("\n")[0]) == 2
    assert "mixed_encoding" in decoded.flags


def test_utf8_with_a_few_bad_bytes_is_kept_with_markers():
    data = HANS.encode("utf-8") + b"\xff\xfe" + HANS.encode("utf-8")
    decoded = decode_bytes(data)
    assert decoded.encoding == "utf-8"
    assert decoded.text.count(HANS.split("\n")[0]) == 2 and "\ufffd" in decoded.text
    assert any(f.startswith("undecodable_bytes:") for f in decoded.flags)
