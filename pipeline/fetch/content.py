"""Is a body the kind of document an adapter asked for? Checked before any parser sees it.

``html_in_json`` takes the HTML out of a JSON answer that wraps it.

Kinds: ``feed`` (RSS/Atom XML or a JSON Feed), ``xml`` (a sitemap, possibly gzipped), ``json``
(an API answer), ``html`` (an article or listing page). Servers often declare the wrong type
(feeds as ``text/html``, JSON as ``text/plain``), so the body decides: its first bytes are sniffed,
and the declared type only names the fault in the message. An empty 200 is never what was asked.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pipeline.errors import PayloadError, UnexpectedContent
from pipeline.models import Page

# What an adapter can ask a body to be.
Expect = Literal["feed", "xml", "json", "html"]
# Enough to pass an XML declaration, comments and a doctype to reach the root element.
SNIFF_BYTES = 4096
GZIP_MAGIC = b"\x1f\x8b"

_NAMES = {
    "feed": "a feed (RSS/Atom XML or JSON Feed)",
    "xml": "an XML document",
    "json": "JSON",
    "html": "an HTML page",
}
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_ROOT = re.compile(
    rb"<(?:!--.*?-->|\?.*?\?>|!doctype\s+([a-z][\w:.-]*)[^>]*>|![^>]*>|([a-z][\w:.-]*))",
    re.IGNORECASE | re.DOTALL,
)
_HTML_ROOTS = frozenset({"html", "head", "body", "div", "p", "title", "meta"})


def sniff(body: bytes) -> str:
    """What a body looks like: ``empty``, ``json``, ``html``, ``xml``, ``gzip`` or ``other``."""
    if body.startswith(GZIP_MAGIC):
        return "gzip"
    head = body[:SNIFF_BYTES]
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    # UTF-16 markup has NUL bytes between the characters; drop them to read the tags.
    head = head.replace(b"\x00", b"").lstrip()
    if not head:
        return "empty"
    if head[:1] in (b"{", b"["):
        return "json"
    if head[:1] != b"<":
        return "other"
    for match in _ROOT.finditer(head):
        name = match.group(1) or match.group(2)
        if name is None:
            continue
        return "html" if name.decode("latin-1").lower() in _HTML_ROOTS else "xml"
    return "xml"


def _accepts(expect: Expect, seen: str, media_type: str) -> bool:
    if expect == "feed":
        return seen in ("xml", "json")
    if expect == "xml":
        return seen in ("xml", "gzip")
    if expect == "json":
        return seen == "json"
    # A page that starts with text before its first tag is still a page when declared as one.
    return seen in ("html", "xml") or (seen == "other" and "html" in media_type)


def check_content(page: Page, expect: Expect | None, where: str) -> None:
    """Raise ``UnexpectedContent`` naming ``where`` when ``page`` is not the ``expect`` kind."""
    if expect is None or page.status == 304:
        return
    seen = sniff(page.body)
    media_type = page.content_type or "none"
    if seen == "empty":
        raise UnexpectedContent(
            f"{where}: empty body (HTTP {page.status}, content-type {media_type}) where "
            f"{_NAMES[expect]} was expected"
        )
    if _accepts(expect, seen, media_type):
        return
    shown = {"html": "HTML page", "json": "JSON", "xml": "XML", "gzip": "gzip data"}.get(
        seen, f"{media_type} content"
    )
    prefix = "answer is not JSON: " if expect == "json" else ""
    raise UnexpectedContent(
        f"{where}: {prefix}{shown} (content-type {media_type}) where {_NAMES[expect]} was expected"
    )


def html_in_json(page: Page, field: str) -> str:
    """The HTML a JSON answer holds in ``field`` (the SFC's content endpoints wrap releases so);
    ``PayloadError`` naming the URL when the answer is not JSON or the field holds none."""
    try:
        data = json.loads(page.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"{page.url}: content answer is not JSON ({exc})") from exc
    html = data.get(field) if isinstance(data, dict) else None
    if not isinstance(html, str) or not html.strip():
        raise PayloadError(f"{page.url}: content answer holds no {field!r} body")
    return html
