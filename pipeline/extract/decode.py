"""Bytes of a page → what the HTML parser reads, and whether they are text at all.

Which encoding a page is in is decided in one place, ``pipeline.charset``, for fetched pages
and for bytes handed to ``extract_article`` alike.
"""

from __future__ import annotations

import codecs

from pipeline.charset import markup

# How much of a body to inspect when deciding whether it is text at all.
BINARY_SNIFF_BYTES = 8192
# Text has almost no control characters; compressed or image bytes have about one in eight.
MAX_CONTROL_SHARE = 0.02
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
# UTF-16 and UTF-32 text is full of NUL bytes: its byte-order mark says it is text all the same.
_WIDE_BOMS = (
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
)


def looks_binary(raw: bytes | str) -> bool:
    """True for content that is not text at all (an image, a PDF, compressed bytes)."""
    sample = raw[:BINARY_SNIFF_BYTES]
    if isinstance(sample, str):
        controls = sum(1 for ch in sample if ch < " " and ch not in "\t\n\r\f")
        return controls > len(sample) * MAX_CONTROL_SHARE
    if sample.startswith(_WIDE_BOMS):
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > len(sample) * MAX_CONTROL_SHARE


def parser_input(raw: bytes | str) -> bytes | str:
    """UTF-8 bytes as they are (the parser reads them directly); other encodings decoded."""
    if isinstance(raw, str):
        return raw
    return markup(raw)
