"""Which encoding a fetched body is in: BOM, header, XML declaration, <meta>, UTF-8, detector."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime

import pytest

from pipeline.charset import decode_body, detect_encoding, markup, page_markup
from pipeline.extract import extract_article
from pipeline.fetch.content import sniff
from pipeline.models import Page

HK = "香港金融管理局與證券及期貨事務監察委員會聯合公布穩定幣發行人的發牌安排。" * 4
CN = "中国人民银行与香港金融管理局签署合作备忘录，推动跨境支付互联互通。" * 4
EN = (
    "<p>The HKMA’s “regulatory sandbox” now lets banks trial stablecoin payments with real "
    "customers, the regulator said on Tuesday.</p><p>“We expect the first licences early next "
    "year,” a spokesperson said; the bank’s pilot starts in March.</p>"
)
ZH = (
    "<p>香港金融管理局與證券及期貨事務監察委員會聯合公布穩定幣發行人的發牌安排。"
    "金管局表示，條例將於八月一日生效，屆時發行人須領取牌照。</p>"
)


def html(body: str, head: str = "") -> str:
    """A minimal article page around ``body``."""
    return (
        f"<!DOCTYPE html><html><head>{head}<title>Sandbox opens</title></head>"
        f"<body><article><h1>Sandbox opens</h1>{body}</article></body></html>"
    )


def damaged(text: str, *places: tuple[str, bytes]) -> bytes:
    """``text`` as UTF-8 with an invalid byte inserted after the first of each given word."""
    body = text.encode()
    for word, junk in places:
        body = body.replace(word.encode(), word.encode() + junk, 1)
    return body


def page(body: bytes, content_type: str) -> Page:
    return Page(
        url="https://example.hk/a",
        final_url="https://example.hk/a",
        status=200,
        headers={"content-type": content_type},
        body=body,
        fetched_at=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (HK.encode("big5hkscs"), "text/html; charset=Big5", "big5hkscs"),
        (CN.encode("gb18030"), "text/html; charset=GB2312", "gb18030"),
        (f'<?xml version="1.0" encoding="big5"?><rss>{HK}</rss>'.encode("big5"), "", "big5hkscs"),
        (f'<meta charset="gbk"><p>{CN}</p>'.encode("gb18030"), "text/html", "gb18030"),
        (codecs.BOM_UTF16_LE + HK.encode("utf-16-le"), "text/html; charset=big5", "utf-16"),
        (codecs.BOM_UTF8 + HK.encode(), "text/html; charset=big5", "utf-8-sig"),
        # A Latin-1 label on a page that is valid UTF-8 with multi-byte characters: UTF-8.
        (f"<p>Café – {HK}</p>".encode(), "text/html; charset=iso-8859-1", "utf-8"),
        (b"<p>plain ascii</p>", "text/html; charset=iso-8859-1", "cp1252"),
    ],
    ids=[
        "big5-header",
        "gb2312-header",
        "xml-declaration",
        "meta-gbk",
        "utf16-bom",
        "utf8-bom",
        "latin1-label-on-utf8",
        "ascii-latin1",
    ],
)
def test_encoding_from_what_the_response_declares(
    body: bytes, content_type: str, expected: str
) -> None:
    assert detect_encoding(body, content_type) == expected


@pytest.mark.parametrize(
    ("text", "codec"), [(HK, "big5"), (CN, "gb18030")], ids=["big5", "gb18030"]
)
def test_a_wrong_declaration_falls_back_to_the_detector(text: str, codec: str) -> None:
    body = f"<html><body><p>{text}</p></body></html>".encode(codec)
    decoded = decode_body(body, "text/html; charset=utf-8")
    assert text in decoded and "\ufffd" not in decoded


def test_utf8_pages_reach_the_parser_as_bytes_others_as_text() -> None:
    utf8 = f"<p>{HK}</p>".encode()
    assert page_markup(page(utf8, "text/html; charset=utf-8")) == utf8
    big5 = page(f"<p>{HK}</p>".encode("big5hkscs"), "text/html; charset=big5")
    assert page_markup(big5) == f"<p>{HK}</p>"


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        ("", "text/html; charset=utf-8"),
        ('<meta charset="utf-8">', "text/html"),
        ("", "text/html"),
        # A stale Latin-1 header on a page re-saved as UTF-8, with one bad byte besides.
        ("", "text/html; charset=iso-8859-1"),
    ],
    ids=["header", "meta", "undeclared", "latin1-label"],
)
def test_a_stray_invalid_byte_keeps_a_utf8_page_utf8(head: str, content_type: str) -> None:
    body = damaged(html(EN, head), ("tri", b"\xff"))
    decoded = decode_body(body, content_type)
    assert detect_encoding(body, content_type) == "utf-8"
    assert "The HKMA’s “regulatory sandbox” now lets banks tri\ufffdal stablecoin" in decoded
    assert "“We expect the first licences early next year,” a spokesperson" in decoded
    assert decoded.count("\ufffd") == 1
    # The parser is handed the same characters.
    assert markup(body, content_type) == decoded


def test_a_utf8_chinese_page_with_two_invalid_bytes_keeps_its_chinese() -> None:
    body = damaged(html(ZH), ("穩定", b"\xff"), ("條", b"\xfe"))
    decoded = decode_body(body, "text/html")
    assert "聯合公布穩定\ufffd幣發行人的發牌安排。金管局表示，條\ufffd例將於八月一日生效" in decoded
    assert decoded.count("\ufffd") == 2


def test_an_undeclared_big5_page_is_still_read_by_the_detector() -> None:
    decoded = decode_body(html(ZH).encode("big5hkscs"), "text/html")
    assert ZH in decoded and "\ufffd" not in decoded


@pytest.mark.parametrize(
    "body",
    [
        html(EN).encode("cp1252"),
        "<p>The HKMA’s “sandbox” – café rules</p>".encode("cp1252"),
    ],
    ids=["page", "one-line"],
)
def test_an_undeclared_cp1252_page_keeps_its_curly_quotes(body: bytes) -> None:
    assert decode_body(body, "text/html") == body.decode("cp1252")


def test_a_cp1252_page_wrongly_declared_utf8_is_not_read_as_damaged_utf8() -> None:
    # Every curly quote is an invalid sequence: far more than a few strays.
    text = html(EN * 3)
    decoded = decode_body(text.encode("cp1252"), "text/html; charset=utf-8")
    assert decoded == text


def test_extraction_keeps_the_quotes_of_a_utf8_page_with_a_stray_byte() -> None:
    body = damaged(html(EN, '<meta charset="utf-8">'), ("tri", b"\xff"))
    article = extract_article(body, "https://example.hk/a")
    assert article.title == "Sandbox opens"
    assert article.text.startswith("The HKMA’s “regulatory sandbox” now lets banks tri\ufffdal")
    assert "“We expect the first licences early next year,” a spokesperson" in article.text


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b'{"items": []}', "json"),
        (b"<!DOCTYPE html><html><body/></html>", "html"),
        (b'<?xml version="1.0"?><!-- c --><rss version="2.0"/>', "xml"),
        (b"\xef\xbb\xbf<feed xmlns='http://www.w3.org/2005/Atom'/>", "xml"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"%PDF-1.7", "other"),
    ],
)
def test_sniffing_the_kind_of_a_body(body: bytes, kind: str) -> None:
    assert sniff(body) == kind
