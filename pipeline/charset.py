"""The text of a fetched body: which encoding it is in, from what the response and body say.

Order of trust: a byte-order mark; then the charset of the ``Content-Type`` header, the XML
declaration and ``<meta charset>``, each used only if the body decodes under it without error;
then a declared UTF-8 when the body has only a few invalid sequences (see ``STRAY_SEQUENCES``);
then UTF-8 if the body is valid UTF-8, or mostly UTF-8 (a few invalid sequences, and at least
as many valid multi-byte characters as invalid sequences); then a detector (charset-normalizer),
which therefore sees only bodies that fail UTF-8 badly. Invalid sequences in a body read as
UTF-8 become U+FFFD. Labels map to the superset browsers use (Big5 → Big5-HKSCS, GB2312/GBK →
GB18030, Latin-1 → cp1252), so Hong Kong and mainland pages keep every character. A single-byte
label on a body that is valid or mostly UTF-8 with multi-byte characters is a wrong
declaration (a page re-saved as UTF-8): UTF-8 wins.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from charset_normalizer import from_bytes

from pipeline.models import Page

# The HTML standard looks for <meta charset> in the first 1024 bytes; CMS preambles push it
# further on some pages, so a little more is read.
SNIFF_BYTES = 4096
# The detector is slow on large bodies and needs no more than this to decide.
DETECT_BYTES = 64 * 1024
# Up to this many invalid sequences in a UTF-8 body are damage, not another encoding: a byte
# pasted in from a Latin-1 source, a character cut in two by a CMS; damaged pages carry one to
# a handful. Text really in Big5, GB18030 or cp1252 has an invalid sequence for nearly every
# non-ASCII character, so such a page wrongly declared UTF-8 passes only with this few of them
# (and a browser, which never re-guesses a declared charset, shows it the same way).
STRAY_SEQUENCES = 8
# Long pages are judged by share instead: in Big5, GB18030 or cp1252 text about half or more of
# the non-ASCII bytes start an invalid sequence, in damaged UTF-8 far under one in a hundred.
STRAY_SHARE = 0.01

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
_HIGH_BYTES = bytes(range(0x80, 0x100))
_REPLACEMENT_UTF8 = "\ufffd".encode()


class _Utf8Fit(NamedTuple):
    """How well a body that is not valid UTF-8 reads as UTF-8."""

    invalid: int  # invalid sequences, each one U+FFFD when decoded with replacement
    multibyte: int  # valid characters of two bytes or more
    non_ascii_bytes: int

    def few_invalid(self) -> bool:
        """True when the invalid sequences are few enough to be damage (see STRAY_*)."""
        return self.invalid <= STRAY_SEQUENCES or self.invalid <= STRAY_SHARE * self.non_ascii_bytes

    def mostly_utf8(self) -> bool:
        """True for UTF-8 text with a few invalid sequences, declared or not."""
        # Legacy text still forms a valid UTF-8 sequence here and there (one Big5 or GB18030
        # character in four or five): only as many valid characters as invalid ones say UTF-8.
        return self.few_invalid() and self.multibyte >= self.invalid


def _utf8_fit(body: bytes) -> _Utf8Fit:
    """Count what decoding ``body`` as UTF-8 with replacement finds."""
    text = body.decode("utf-8", errors="replace")
    # U+FFFD written in the page itself is a valid character, not damage.
    invalid = text.count("\ufffd") - body.count(_REPLACEMENT_UTF8)
    ascii_bytes = len(body.translate(None, _HIGH_BYTES))
    # Replacement never swallows an ASCII byte: every other character came from high bytes.
    non_ascii_chars = len(text) - ascii_bytes
    return _Utf8Fit(invalid, non_ascii_chars - invalid, len(body) - ascii_bytes)


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


def _choose(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """The codec for ``body``, and False when it is UTF-8 with invalid sequences to replace."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, True
    # Every page is checked against UTF-8 once; ASCII needs no decoding to know it. Only a
    # body that fails is measured (a second decode), so valid pages cost what they did.
    ascii_only = body.isascii()
    valid_utf8 = ascii_only or _is_utf8(body)
    fit = None if valid_utf8 else _utf8_fit(body)
    utf8_text = (valid_utf8 and not ascii_only) or (fit is not None and fit.mostly_utf8())
    declared = declared_encodings(body, content_type)
    for name in declared:
        if utf8_text and name not in _MULTIBYTE:
            continue
        if name == "utf-8":
            if valid_utf8:
                return name, True
            continue
        try:
            body.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        return name, True
    if fit is None:
        return "utf-8", True
    # No declaration fits cleanly: a declared UTF-8 is kept through a few invalid sequences.
    if ("utf-8" in declared and fit.few_invalid()) or utf8_text:
        return "utf-8", False
    best = from_bytes(body[:DETECT_BYTES]).best()
    if best is not None and best.encoding:
        return _codec(best.encoding) or "utf-8", False
    return "utf-8", False


def detect_encoding(body: bytes, content_type: str | None = None) -> str:
    """The codec ``body`` is in (see the module docstring for the order of trust)."""
    return _choose(body, content_type)[0]


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """``body`` as text in the encoding ``detect_encoding`` finds; undecodable bytes replaced."""
    name = detect_encoding(body, content_type)
    return body.decode(name, errors="replace").lstrip("\ufeff")


def page_text(page: Page) -> str:
    """The text of a fetched page, by its headers and its bytes."""
    return decode_body(page.body, page.headers.get("content-type"))


def markup(body: bytes, content_type: str | None = None) -> bytes | str:
    """What an HTML parser should read: the bytes when they are UTF-8, else the decoded text.

    UTF-8 bytes go to the parser as they are (it reads them fastest); any other encoding, and
    UTF-8 with invalid sequences, is decoded here, by the rules above, so a page whose
    ``<meta>`` is wrong or missing reads correctly and the parser sees the same characters as
    ``decode_body``.
    """
    name, clean = _choose(body, content_type)
    if name == "utf-8" and clean:
        return body
    if name == "utf-8-sig":
        return body[len(codecs.BOM_UTF8) :]
    return body.decode(name, errors="replace").lstrip("\ufeff")


def page_markup(page: Page) -> bytes | str:
    """``markup`` of a fetched page, with the charset its response headers declare."""
    return markup(page.body, page.headers.get("content-type"))
