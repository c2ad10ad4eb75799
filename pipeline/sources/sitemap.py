"""News sitemaps (for sites with no feed) → ``Lead``s.

A Google News sitemap is a ``<urlset>`` whose ``<url>`` entries carry ``<loc>`` and a
``<news:news>`` block with ``<news:publication_date>``, ``<news:title>`` and, inside
``<news:publication>``, ``<news:language>``. A ``<sitemapindex>`` lists such sitemaps; it is
followed one level deep only (an index of indexes is a site map of the whole site, not news).
Sitemaps may be gzipped. The standard library's parser reads them: the format is small, and a
document declaring entities is refused, so a hostile sitemap cannot expand itself.

Options: ``max_sitemaps`` (children of an index read per run, newest ``lastmod`` first) and
``languages`` (keep only entries whose ``news:language`` is listed).
"""

from __future__ import annotations

import gzip
import io
import zlib
from datetime import datetime
from xml.etree import ElementTree

from pipeline.dates import HONG_KONG, parse_date
from pipeline.errors import PayloadError
from pipeline.fetch.client import Fetcher
from pipeline.models import Lead, Source
from pipeline.options import Option, Options, positive_int, string_list
from pipeline.sources.leads import MAX_ITEMS

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
# A news index usually lists one sitemap per day or per section; the newest few hold the last
# two days that a news sitemap covers. A backfill reads more (see MAX_SITEMAPS_WITH_SINCE).
DEFAULT_MAX_SITEMAPS = 3
# With ``since``, every child modified since then is read, up to this bound per index.
MAX_SITEMAPS_WITH_SINCE = 100
# A decompressed sitemap is at most 50 MB by the protocol; more is a fault or a zip bomb.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"

OPTIONS = Options(
    Option(
        "max_sitemaps",
        positive_int,
        f"children of a sitemap index read per run, newest first (default {DEFAULT_MAX_SITEMAPS};"
        f" {MAX_SITEMAPS_WITH_SINCE} in a backfill)",
    ),
    Option("languages", string_list("language codes"), "only items in these languages"),
    MAX_ITEMS,
)


async def discover(
    source: Source,
    fetcher: Fetcher,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[Lead]:
    """Entries of each configured sitemap (an index: of its newest child sitemaps), in order."""
    max_children = OPTIONS.value(source, "max_sitemaps") or (
        MAX_SITEMAPS_WITH_SINCE if since is not None else DEFAULT_MAX_SITEMAPS
    )
    wanted = OPTIONS.value(source, "languages")
    languages = frozenset(v.lower() for v in wanted) if wanted is not None else None
    leads: list[Lead] = []
    for url in source.urls:
        root = await _fetch_root(source, fetcher, url)
        if root is None:
            continue
        if _local(root.tag) == "sitemapindex":
            for child in _children(root, since)[:max_children]:
                child_root = await _fetch_root(source, fetcher, child)
                if child_root is None:
                    continue
                if _local(child_root.tag) != "urlset":
                    raise PayloadError(
                        f"{source.id}: {child}: a sitemap index lists <{_local(child_root.tag)}>"
                        ", not a <urlset> (indexes are followed one level deep)"
                    )
                leads.extend(_entries(source, child_root, languages))
        elif _local(root.tag) == "urlset":
            leads.extend(_entries(source, root, languages))
        else:
            raise PayloadError(
                f"{source.id}: {url}: root element <{_local(root.tag)}> is neither <urlset> "
                "nor <sitemapindex>"
            )
    return leads


def parse_sitemap(body: bytes, url: str) -> ElementTree.Element:
    """The root element of a (possibly gzipped) sitemap body; ``PayloadError`` with the reason."""
    if body.startswith(GZIP_MAGIC):
        try:
            body = _gunzip(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise PayloadError(f"{url}: gzipped sitemap does not decompress ({exc})") from exc
    if not body.strip():
        raise PayloadError(f"{url}: empty body where a sitemap was expected")
    if b"<!ENTITY" in body[:4096].upper():
        raise PayloadError(f"{url}: sitemap declares XML entities; refused")
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise PayloadError(f"{url}: sitemap is not well-formed XML ({exc})") from exc


async def _fetch_root(source: Source, fetcher: Fetcher, url: str) -> ElementTree.Element | None:
    """The sitemap's root element, or None when it has not changed since the last full run."""
    page = await fetcher.get(url, expect="xml", conditional=True)
    if page.status == 304:
        return None
    try:
        return parse_sitemap(page.body, page.final_url or url)
    except PayloadError as exc:
        raise PayloadError(f"{source.id}: {exc}") from exc


def _gunzip(body: bytes) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
        data = stream.read(MAX_SITEMAP_BYTES + 1)
    if len(data) > MAX_SITEMAP_BYTES:
        raise OSError(f"more than {MAX_SITEMAP_BYTES} bytes once decompressed")
    return data


def _children(root: ElementTree.Element, since: datetime | None) -> list[str]:
    """Child sitemap URLs, newest ``lastmod`` first; with ``since``, those modified since."""
    dated: list[tuple[datetime, str]] = []
    undated: list[str] = []
    for node in root.findall(f"{{{SITEMAP_NS}}}sitemap"):
        loc = _text(node, f"{{{SITEMAP_NS}}}loc")
        if not loc:
            continue
        modified = _date(_text(node, f"{{{SITEMAP_NS}}}lastmod"))
        if modified is None:
            undated.append(loc)
        elif since is None or modified >= _aware(since):
            dated.append((modified, loc))
    dated.sort(key=lambda pair: pair[0], reverse=True)
    # Undated children keep their listed order after the dated ones.
    return [loc for _, loc in dated] + undated


def _entries(
    source: Source, root: ElementTree.Element, languages: frozenset[str] | None
) -> list[Lead]:
    leads: list[Lead] = []
    for node in root.findall(f"{{{SITEMAP_NS}}}url"):
        loc = _text(node, f"{{{SITEMAP_NS}}}loc")
        if not loc:
            continue
        news = node.find(f"{{{NEWS_NS}}}news")
        title = _text(news, f"{{{NEWS_NS}}}title") if news is not None else ""
        published = _text(news, f"{{{NEWS_NS}}}publication_date") if news is not None else ""
        language = (
            _text(news, f"{{{NEWS_NS}}}publication/{{{NEWS_NS}}}language")
            if news is not None
            else ""
        )
        if languages is not None and language.lower() not in languages:
            continue
        keywords = _text(news, f"{{{NEWS_NS}}}keywords") if news is not None else ""
        leads.append(
            Lead(
                source_id=source.id,
                url=loc,
                title=" ".join(title.split()),
                published_at=_date(published or _text(node, f"{{{SITEMAP_NS}}}lastmod")),
                guid=loc,
                categories=tuple(k.strip() for k in keywords.split(",") if k.strip()),
                doc_type=source.doc_type,
                lang=source.lang,
            )
        )
    return leads


def _text(node: ElementTree.Element | None, path: str) -> str:
    if node is None:
        return ""
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


def _date(value: str) -> datetime | None:
    return parse_date(value) if value else None


def _aware(moment: datetime) -> datetime:
    # A naive "since" is a Hong Kong wall-clock time, like every naive time in this pipeline.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=HONG_KONG)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
