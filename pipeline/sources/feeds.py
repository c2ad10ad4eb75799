"""RSS 0.9x/1.0/2.0, Atom and JSON Feed: a feed body → ``Lead``s. No I/O.

``parse_feed`` is public and stable (DESIGN.md; also importable from ``pipeline.sources.rss``).
It reads whatever a feed holds, best effort (a slightly broken feed that still yields entries
gives them), and raises ``FeedError`` with the reason when the body is not a feed at all: an
HTML page, an empty body, JSON that is not a JSON Feed, XML that is no feed. It raises nothing
else on any input.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.exceptions import ThingsNobodyCaresAboutButMe
from selectolax.lexbor import LexborHTMLParser

from pipeline.dates import parse_date
from pipeline.errors import FeedError
from pipeline.models import Lead

# A lead's summary is a teaser for listings and alert snippets; the article text comes from the
# page. Long enough for two or three sentences, short enough for a chat message.
SUMMARY_MAX_CHARS = 400
# The root element of any feed appears within this many bytes, after the XML declaration,
# comments and doctype; sniffing more would only cost time on large bodies.
SNIFF_BYTES = 8192
# HTML pages in place of a feed are named by their <title>; error messages stay one line.
ERROR_TITLE_CHARS = 80
JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/"
LINK_SCHEMES = ("http", "https")

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff")
_MARKUP = re.compile(
    rb"<(?:!--.*?-->|\?.*?\?>|!doctype\s+([a-z][\w:.-]*)[^>]*>|![^>]*>|([a-z][\w:.-]*))",
    re.IGNORECASE | re.DOTALL,
)
_EMAIL_AND_NAME = re.compile(r"[^\s@()]+@[^\s()]+\s*\((.+)\)")
_HTML_ROOTS = frozenset({"html", "head", "body"})
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
# Block-level tags become spaces so "<p>a</p><p>b</p>" reads "a b", not "ab".
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article|header"
    r"|footer|figure|figcaption|hr|pre|dd|dt|dl)\b[^>]*>",
    re.IGNORECASE,
)


def parse_feed(body: bytes, url: str) -> list[Lead]:
    """Entries of an RSS/Atom/JSON feed as leads, in feed order; ``FeedError`` if not a feed."""
    if not isinstance(body, bytes | bytearray):
        raise FeedError(f"feed body must be bytes, not {type(body).__name__}")
    head = _sniff_text(bytes(body[:SNIFF_BYTES]))
    if not head.strip():
        raise FeedError("empty body where a feed was expected")
    first = head.lstrip()[0]
    if first in "{[":
        return _parse_json_feed(bytes(body), url)
    if first != "<":
        raise FeedError(
            f"neither XML nor JSON where a feed was expected (starts {head.lstrip()[:40]!r})"
        )
    root = _root_element(head)
    if root in _HTML_ROOTS:
        raise FeedError(f"HTML page where a feed was expected ({_html_title(bytes(body))})")
    return _parse_xml_feed(bytes(body), url, root)


# --- XML feeds (feedparser) -----------------------------------------------------------------


def _parse_xml_feed(body: bytes, url: str, root: str | None) -> list[Lead]:
    try:
        # A stream, never the bytes themselves: feedparser opens a str/bytes that looks like a
        # URL or a file name, and a feed body must never make it touch the network or disk.
        # No base URL either: feedparser would "resolve" bare guids such as SFC's "26PR27" into
        # URLs; links are made absolute here instead.
        parsed = feedparser.parse(io.BytesIO(body))
    except Exception as exc:  # feedparser's own bugs on hostile input must not escape
        raise FeedError(f"feed parser failed: {type(exc).__name__}: {exc}") from exc
    entries = parsed.get("entries") or []
    version = parsed.get("version") or ""
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    # Encoding notices leave a feed readable; syntax errors may not.
    if isinstance(problem, ThingsNobodyCaresAboutButMe):
        problem = None
    if not entries:
        if not version:
            if problem is not None:
                raise FeedError(f"not a feed: {_describe(problem)}")
            raise FeedError(f"XML that is not a feed (root element <{root or '?'}>)")
        # A syntax error that left no entry must show, or a broken feed would pass as one
        # with nothing new.
        if problem is not None:
            raise FeedError(
                f"malformed {version} feed with no readable entry: {_describe(problem)}"
            )
        return []
    leads: list[Lead] = []
    for entry in entries:
        if isinstance(entry, dict):
            leads.append(_lead_from_entry(entry, url))
    return leads


def _lead_from_entry(entry: dict[str, Any], base: str) -> Lead:
    guid = _clean(entry.get("id")) or None
    link = _clean(entry.get("link")) or _alternate_link(entry.get("links"))
    title_type = str(_get(entry.get("title_detail"), "type") or "")
    title = _text_of(entry.get("title"), is_html="html" in title_type)
    # Raw strings, not feedparser's *_parsed struct_time, which drops the UTC offset.
    raw_date = _first_str(*(dict.get(entry, key) for key in ("published", "updated", "created")))
    summary = _first_str(entry.get("summary"), _first_content(entry.get("content")))
    return Lead(
        source_id="",
        url=_item_url(link, guid, _enclosure(entry), base),
        title=title,
        published_at=parse_date(raw_date) if raw_date else None,
        guid=guid,
        summary=shorten(_text_of(summary, is_html=True)),
        author=_author(entry.get("author")),
        categories=_unique(_get(tag, "term") for tag in _as_list(entry.get("tags"))),
    )


def _author(value: object) -> str | None:
    """The name alone from RSS's "jane@example.org (Jane Doe)"; feedparser splits it badly."""
    text = _clean(value)
    match = _EMAIL_AND_NAME.fullmatch(text)
    return (match.group(1).strip() if match else text) or None


def _item_url(link: str, guid: str | None, enclosure: str, base: str) -> str:
    """The item's URL: its link, else a guid that is a URL (a permalink), else its enclosure
    (a podcast's or a document feed's file); "" when it has none of them."""
    return (
        _absolute(link, base)
        or _absolute(guid if _is_url(guid) else None, base)
        or _absolute(enclosure or None, base)
    )


def _enclosure(entry: dict[str, Any]) -> str:
    """The href of an RSS ``<enclosure>`` or an Atom ``rel="enclosure"`` link, if any."""
    for enclosure in _as_list(entry.get("enclosures")):
        if href := _clean(_get(enclosure, "href")):
            return href
    return ""


def _attachment(item: Mapping[str, Any]) -> str:
    """The URL of a JSON Feed item's first attachment, if any."""
    for attachment in _as_list(item.get("attachments")):
        if isinstance(attachment, Mapping) and (url := _clean(attachment.get("url"))):
            return url
    return ""


def _alternate_link(links: object) -> str:
    for link in _as_list(links):
        rel = _get(link, "rel") or "alternate"
        href = _clean(_get(link, "href"))
        if href and rel == "alternate":
            return href
    return ""


def _first_content(content: object) -> str:
    for part in _as_list(content):
        value = _get(part, "value")
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _describe(problem: object) -> str:
    message = str(problem).strip() or type(problem).__name__
    line = getattr(problem, "getLineNumber", None)
    if callable(line):
        try:
            return f"{message} at line {line()}"
        except Exception:  # SAX locators can be gone after parsing ends
            return message
    return message


# --- JSON Feed ------------------------------------------------------------------------------


def _parse_json_feed(body: bytes, url: str) -> list[Lead]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FeedError(f"body looks like JSON but does not parse ({exc})") from exc
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSION_PREFIX):
        raise FeedError(
            f'JSON that is not a JSON Feed (no "version": "{JSON_FEED_VERSION_PREFIX}…")'
        )
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError(f'JSON Feed ({version}) without an "items" list')
    feed_author = _json_author(data)
    return [
        _lead_from_json_item(item, url, feed_author) for item in items if isinstance(item, dict)
    ]


def _lead_from_json_item(item: dict[str, Any], base: str, feed_author: str | None) -> Lead:
    raw_id = item.get("id")
    guid = _clean(str(raw_id)) if isinstance(raw_id, str | int) else ""
    link = _first_str(item.get("url"), item.get("external_url"))
    raw_date = _first_str(item.get("date_published"), item.get("date_modified"))
    summary_html = _first_str(item.get("summary"), item.get("content_html"))
    summary = (
        _text_of(summary_html, is_html=True) if summary_html else _clean(item.get("content_text"))
    )
    tags = item.get("tags")
    return Lead(
        source_id="",
        url=_item_url(link, guid, _attachment(item), base),
        title=_text_of(item.get("title"), is_html=False),
        published_at=parse_date(raw_date) if raw_date else None,
        guid=guid or None,
        summary=shorten(summary),
        author=_json_author(item) or feed_author,
        categories=_unique(tag for tag in tags if isinstance(tag, str))
        if isinstance(tags, list)
        else (),
    )


def _json_author(holder: Mapping[str, Any]) -> str | None:
    # JSON Feed 1.1 has "authors" (a list); 1.0 had one "author".
    authors = holder.get("authors")
    candidates = authors if isinstance(authors, list) else []
    candidates = [*candidates, holder.get("author")]
    for author in candidates:
        name = _clean(author.get("name")) if isinstance(author, dict) else ""
        if name:
            return name
    return None


# --- helpers --------------------------------------------------------------------------------


def _sniff_text(head: bytes) -> str:
    """The first bytes as ASCII-ish text, whatever the encoding: enough to spot the markup."""
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    # UTF-16/32 bodies have NUL bytes around every ASCII character; dropping them reads the tags.
    return head.replace(b"\x00", b"").decode("latin-1")


def _root_element(head: str) -> str | None:
    """The first element's name; the doctype's only when no element shows in the head."""
    doctype_root: str | None = None
    for match in _MARKUP.finditer(head.encode("latin-1")):
        doctype, element = match.group(1), match.group(2)
        if element:
            return element.decode("latin-1").lower()
        if doctype and doctype_root is None:
            doctype_root = doctype.decode("latin-1").lower()
    return doctype_root


def _html_title(body: bytes) -> str:
    raw = _sniff_text(body[: SNIFF_BYTES * 8]).encode("latin-1")
    match = _TITLE.search(raw)
    if match is None:
        return "no <title>"
    try:
        title = match.group(1).decode("utf-8")
    except UnicodeDecodeError:
        # Not UTF-8: most such pages are Western European; an error message need not be perfect.
        title = match.group(1).decode("cp1252", errors="replace")
    title = " ".join(html.unescape(title).split())
    if len(title) > ERROR_TITLE_CHARS:
        title = title[: ERROR_TITLE_CHARS - 1] + "…"
    return f"<title>{title}</title>"


def _text_of(value: object, *, is_html: bool) -> str:
    """Plain text: tags stripped (for HTML), entities unescaped, whitespace collapsed."""
    if not isinstance(value, str) or not value.strip():
        return ""
    if is_html and ("<" in value or "&" in value):
        tree = LexborHTMLParser(_BLOCK_TAG.sub(" ", value))
        tree.strip_tags(["script", "style"])
        text = tree.text(separator="") or ""
    else:
        # Feeds often escape twice ("&amp;#8217;"); what reaches a reader should be the character.
        text = html.unescape(value)
    return " ".join(text.split())


def shorten(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def _absolute(link: str | None, base: str) -> str:
    if not link:
        return ""
    try:
        joined = urljoin(base, link.strip()) if base else link.strip()
        parts = urlsplit(joined)
    except ValueError:
        return ""
    return joined if parts.scheme.lower() in LINK_SCHEMES and parts.netloc else ""


def _is_url(value: str | None) -> bool:
    if not value:
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in LINK_SCHEMES and bool(parts.netloc)


def _clean(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _first_str(*values: object) -> str:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _get(holder: object, key: str) -> object:
    return holder.get(key) if isinstance(holder, Mapping) else None


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _unique(values: Iterable[object]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        text = _clean(value)
        if text:
            seen.setdefault(text, None)
    return tuple(seen)
