"""Bytes of a page → text, by its byte-order mark or declared charset, else UTF-8."""

from __future__ import annotations

import codecs
import re

# The HTML standard stops looking for a charset declaration after 1024 bytes, but some CMSs emit
# long <head> preambles first; looking a little further keeps such pages from being misread.
CHARSET_SNIFF_BYTES_LENIENT = 4096

# UTF-32 marks first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# How much of a body to inspect when deciding whether it is text at all.
BINARY_SNIFF_BYTES = 8192
# Text has almost no control characters; compressed or image bytes have about one in eight.
MAX_CONTROL_SHARE = 0.02
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
# Labels browsers map to a superset: pages declaring them use the superset's characters.
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
}


def declared_charset(raw: bytes) -> str | None:
    """The encoding a BOM or ``<meta charset>``/``http-equiv`` declares, as a Python codec name."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    match = _META_CHARSET.search(raw[:CHARSET_SNIFF_BYTES_LENIENT])
    if match is None:
        return None
    label = match.group(1).decode("ascii", "ignore").lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def looks_binary(raw: bytes | str) -> bool:
    """True for content that is not text at all (an image, a PDF, compressed bytes)."""
    sample = raw[:BINARY_SNIFF_BYTES]
    if isinstance(sample, str):
        controls = sum(1 for ch in sample if ch < " " and ch not in "\t\n\r\f")
        return controls > len(sample) * MAX_CONTROL_SHARE
    if any(sample.startswith(bom) for bom, name in _BOMS if name != "utf-8"):
        return False  # UTF-16/32 text is full of NUL bytes
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > len(sample) * MAX_CONTROL_SHARE


def decode_html(raw: bytes | str) -> str:
    """Decode a page: BOM, then declared charset, then UTF-8 with replacement characters."""
    if isinstance(raw, str):
        return raw
    source = parser_input(raw)
    return source if isinstance(source, str) else source.decode("utf-8", errors="replace")


def parser_input(raw: bytes | str) -> bytes | str:
    """UTF-8 bytes as they are (the parser reads them directly); other encodings decoded."""
    if isinstance(raw, str):
        return raw
    charset = declared_charset(raw)
    if charset is None:
        return raw
    if charset == "utf-8":
        return raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    if charset not in ("utf-16", "utf-32") and _is_utf8(raw):
        # Re-encoded copies keep their old declaration (a "GB2312" page saved as UTF-8); text
        # in a legacy encoding almost never happens to be valid UTF-8, so trust the bytes.
        return raw
    return raw.decode(charset, errors="replace").lstrip("\ufeff")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
