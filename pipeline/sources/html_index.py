"""HTML listing pages (for sites with no feed) → ``Lead``s, by the source's CSS selectors.

``selectors.item`` picks each listed item; inside it ``link`` (its href), ``item_title``,
``item_date`` and ``item_summary`` give the lead's fields. ``next_page`` is followed up to
``options.max_pages`` pages, never to a URL already read.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.charset import page_text
from pipeline.dates import parse_date
from pipeline.errors import SourceError
from pipeline.fetch.client import Fetcher
from pipeline.models import Lead, Page, Source
from pipeline.options import Option, Options, positive_int
from pipeline.sources.feeds import shorten
from pipeline.sources.leads import MAX_ITEMS

# One page is the daily need: a listing shows the newest items first and a run comes daily.
DEFAULT_MAX_PAGES = 1

OPTIONS = Options(
    Option("max_pages", positive_int, "listing pages read per run", default=DEFAULT_MAX_PAGES),
    MAX_ITEMS,
)
# A listing is read through these: without them there are no items.
REQUIRED_SELECTORS = ("item", "link")
# Attributes that hold a machine-readable date, in the order they are trusted.
DATE_ATTRIBUTES = ("datetime", "content", "data-date", "title")


async def discover(
    source: Source,
    fetcher: Fetcher,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[Lead]:
    """Items of each listing URL and its next pages, in page order."""
    selectors = source.selectors
    if not selectors.item:
        raise SourceError(f"{source.id}: html_index needs selectors.item")
    max_pages: int = OPTIONS.value(source, "max_pages")
    visited: set[str] = set()
    leads: list[Lead] = []
    for start in source.urls:
        url: str | None = start
        for number in range(max_pages):
            if url is None or _key(url) in visited:
                break
            visited.add(_key(url))
            # The first page shows the newest items: unchanged, the listing has nothing new.
            page = await fetcher.get(url, expect="html", conditional=number == 0)
            if page.status == 304:
                break
            visited.add(_key(page.final_url))
            tree = LexborHTMLParser(_decode(page))
            found = _items(source, tree, _base_url(tree, page.final_url or url))
            if not found:
                if number == 0:
                    raise SourceError(
                        f"{source.id}: {url}: listing matched no items with selector "
                        f"{selectors.item!r}"
                    )
                # A later page without items is the end of the listing, not a broken layout.
                break
            leads.extend(found)
            url = _next_page(source, tree, page.final_url or url)
    return leads


def _items(source: Source, tree: LexborHTMLParser, base: str) -> list[Lead]:
    selectors = source.selectors
    leads: list[Lead] = []
    for node in tree.css(selectors.item or ""):
        anchor = _link_node(node, selectors.link)
        href = (anchor.attributes.get("href") or "").strip() if anchor is not None else ""
        url = _absolute(href, base)
        if not url:
            continue
        title = _text(node, selectors.item_title) or _node_text(anchor)
        leads.append(
            Lead(
                source_id=source.id,
                url=url,
                title=title,
                published_at=_date(node, selectors.item_date),
                summary=shorten(_text(node, selectors.item_summary)),
                doc_type=source.doc_type,
                lang=source.lang,
            )
        )
    return leads


def _link_node(item: LexborNode, selector: str | None) -> LexborNode | None:
    if selector:
        return item.css_first(selector)
    # Without a link selector the item is the anchor, or holds the first one.
    if item.tag == "a" and item.attributes.get("href"):
        return item
    return item.css_first("a[href]")


def _text(item: LexborNode, selector: str | None) -> str:
    if not selector:
        return ""
    return _node_text(item.css_first(selector))


def _node_text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return " ".join((node.text(separator=" ") or "").split())


def _date(item: LexborNode, selector: str | None) -> datetime | None:
    if not selector:
        return None
    node = item.css_first(selector)
    if node is None:
        return None
    for attribute in DATE_ATTRIBUTES:
        value = node.attributes.get(attribute)
        if value and value.strip():
            found = parse_date(value)
            if found is not None:
                return found
    text = _node_text(node)
    return parse_date(text) if text else None


def _next_page(source: Source, tree: LexborHTMLParser, base: str) -> str | None:
    selector = source.selectors.next_page
    if not selector:
        return None
    node = tree.css_first(selector)
    href = (node.attributes.get("href") or "").strip() if node is not None else ""
    return _absolute(href, _base_url(tree, base)) or None


def _base_url(tree: LexborHTMLParser, page_url: str) -> str:
    # A <base href> changes what relative links mean; most pages have none.
    base = tree.css_first("base[href]")
    href = (base.attributes.get("href") or "").strip() if base is not None else ""
    return urljoin(page_url, href) if href else page_url


def _absolute(href: str, base: str) -> str:
    if not href or href.startswith("#"):
        return ""
    try:
        joined = urldefrag(urljoin(base, href)).url
        parts = urlsplit(joined)
    except ValueError:
        return ""
    return joined if parts.scheme in ("http", "https") and parts.netloc else ""


def _key(url: str) -> str:
    return urldefrag(url).url.rstrip("/")


def _decode(page: Page) -> str:
    """The page as text: BOM, header, <meta>, else UTF-8 or a detector (see fetch.charset)."""
    return page_text(page)
