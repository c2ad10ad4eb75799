"""The text of a fetched body: which encoding it is in, from what the response and body say.

Order of trust: a byte-order mark; then the charset of the ``Content-Type`` header, the XML
declaration and ``<meta charset>``, each used only if the body decodes under it without error;
then UTF-8 if the body is valid UTF-8; then a detector (charset-normalizer). Labels map to the
superset browsers use (Big5 → Big5-HKSCS, GB2312/GBK → GB18030, Latin-1 → cp1252), so Hong Kong
and mainland pages keep every character. A single-byte label on a body that is valid UTF-8
with multi-byte sequences is a wrong declaration (a page re-saved as UTF-8): UTF-8 wins.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from pipeline.models import Page

# The HTML standard looks for <meta charset> in the first 1024 bytes; CMS preambles push it
# further on some pages, so a little more is read.
SNIFF_BYTES = 4096
# The detector is slow on large bodies and needs no more than this to decide.
DETECT_BYTES = 64 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=\s*[\"']([\w.:-]+)[\"']", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cp950": "big5hkscs",
}
_MULTIBYTE = frozenset(
    {"utf-8", "utf-16", "utf-32", "big5hkscs", "gb18030", "shift_jis", "euc_jp", "euc_kr"}
)


def _codec(label: str | bytes | None) -> str | None:
    if label is None:
        return None
    text = label.decode("ascii", "ignore") if isinstance(label, bytes) else label
    text = text.strip().lower()
    text = _SUPERSETS.get(text, text)
    try:
        return codecs.lookup(text).name
    except LookupError:
        return None


def declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    """Codec names the header, the XML declaration and ``<meta>`` declare, in that order."""
    head = body[:SNIFF_BYTES]
    found: list[str] = []
    header = _HEADER_CHARSET.search(content_type or "")
    xml = _XML_DECL.search(head)
    meta = _META_CHARSET.search(head)
    for label in (
        header.group(1) if header else None,
        xml.group(1) if xml else None,
        meta.group(1) if meta else None,
    ):
        name = _codec(label)
        if name is not None and name not in found:
            found.append(name)
    return found


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(body: bytes, content_type: str | None = None) -> str:
    """The codec ``body`` is in (see the module docstring for the order of trust)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    # Every page is checked against UTF-8 once; ASCII needs no decoding to know it.
    ascii_only = body.isascii()
    valid_utf8 = ascii_only or _is_utf8(body)
    multibyte_utf8 = valid_utf8 and not ascii_only
    for name in declared_encodings(body, content_type):
        if multibyte_utf8 and name not in _MULTIBYTE:
            continue
        if name == "utf-8" and valid_utf8:
            return name
        try:
            body.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        return name
    if valid_utf8:
        return "utf-8"
    best = from_bytes(body[:DETECT_BYTES]).best()
    if best is not None and best.encoding:
        return _codec(best.encoding) or "utf-8"
    return "utf-8"


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """``body`` as text in the encoding ``detect_encoding`` finds; undecodable bytes replaced."""
    name = detect_encoding(body, content_type)
    return body.decode(name, errors="replace").lstrip("\ufeff")


def page_text(page: Page) -> str:
    """The text of a fetched page, by its headers and its bytes."""
    return decode_body(page.body, page.headers.get("content-type"))


def markup(body: bytes, content_type: str | None = None) -> bytes | str:
    """What an HTML parser should read: the bytes when they are UTF-8, else the decoded text.

    UTF-8 bytes go to the parser as they are (it reads them fastest); any other encoding is
    decoded here, by the rules above, so a page whose ``<meta>`` is wrong or missing still
    reads correctly.
    """
    name = detect_encoding(body, content_type)
    if name == "utf-8":
        return body
    if name == "utf-8-sig":
        return body[len(codecs.BOM_UTF8) :]
    return body.decode(name, errors="replace").lstrip("\ufeff")


def page_markup(page: Page) -> bytes | str:
    """``markup`` of a fetched page, with the charset its response headers declare."""
    return markup(page.body, page.headers.get("content-type"))
