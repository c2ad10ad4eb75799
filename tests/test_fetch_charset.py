"""Which encoding a fetched body is in: BOM, header, XML declaration, <meta>, UTF-8, detector."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime

import pytest

from pipeline.charset import decode_body, detect_encoding, page_markup
from pipeline.fetch.content import sniff
from pipeline.models import Page

HK = "香港金融管理局與證券及期貨事務監察委員會聯合公布穩定幣發行人的發牌安排。" * 4
CN = "中国人民银行与香港金融管理局签署合作备忘录，推动跨境支付互联互通。" * 4


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
