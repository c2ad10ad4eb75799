"""The recorded news-outlet exchanges: all served by the replay transport, every feed parseable
with enough items, every item's page recorded and matching the selectors in sources.toml.

Also checks what the ingestion tests lean on: the two seed articles in their outlets' pages, and
the repeats (shared URLs, a syndicated copy, a repeated guid) that deduplication must find.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode
from support import REPO
from support.shared import shared_path

from pipeline.config import load_sources
from pipeline.fetch import ReplayTransport
from pipeline.models import Source

FIXTURES = REPO / "fixtures" / "http"
SEED_000 = "000_8b8f788cc300a693.txt"
SEED_002 = "002_f2cc545ab4b0069d.txt"

FEED_SOURCES = (
    "fintechnews-hk",
    "cointelegraph",
    "cointelegraph-regulation",
    "coinpedia",
    "scmp-business",
    "scmp-tech",
    "scmp-hkma",
    "theblock",
    "coindesk",
    "regulation-asia",
    "finextra-headlines",
    "finextra-blockchain",
    "hkgov-press",
)
LISTING_SOURCE = "ainvest"
NEWS_HOSTS = (
    "fintechnews.hk",
    "cointelegraph.com",
    "coinpedia.org",
    "www.scmp.com",
    "www.theblock.co",
    "www.coindesk.com",
    "www.regulationasia.com",
    "www.finextra.com",
    "www.info.gov.hk",
    "www.ainvest.com",
)
MIN_ITEMS = 8
# The fixture world: every item is dated in this window (Hong Kong time, inclusive).
WINDOW = ("2025-10-20", "2025-11-20")


def exchange_files() -> list[Path]:
    """Every recorded exchange (not body) file of the news hosts."""
    return sorted(
        path
        for host in NEWS_HOSTS
        for path in (FIXTURES / host).glob("*.json")
        if ".body" not in path.name
    )


async def _fetch_all(urls: list[str]) -> dict[str, httpx.Response]:
    transport = ReplayTransport(FIXTURES)
    async with httpx.AsyncClient(transport=transport) as client:
        responses = await asyncio.gather(*(client.get(url) for url in urls))
    return dict(zip(urls, responses, strict=True))


@pytest.fixture(scope="module")
def served() -> dict[str, httpx.Response]:
    """Every news exchange, requested through ReplayTransport as a run would request it."""
    records = [json.loads(path.read_text(encoding="utf-8")) for path in exchange_files()]
    urls = [record["request"]["url"] for record in records]
    return asyncio.run(_fetch_all(urls))


@pytest.fixture(scope="module")
def sources() -> dict[str, Source]:
    """The configured sources by id."""
    return {source.id: source for source in load_sources(REPO / "sources.toml")}


@pytest.fixture(scope="module")
def feeds(
    sources: dict[str, Source], served: dict[str, httpx.Response]
) -> dict[str, feedparser.FeedParserDict]:
    """Each feed source's recorded feed, parsed."""
    parsed = {}
    for source_id in FEED_SOURCES:
        url = sources[source_id].urls[0]
        assert url in served, f"{source_id}: no exchange recorded for its feed {url}"
        response = served[url]
        parsed[source_id] = feedparser.parse(
            response.content, response_headers={"content-type": response.headers["content-type"]}
        )
    return parsed


def page(served: dict[str, httpx.Response], url: str) -> LexborHTMLParser:
    """The recorded page at ``url``, parsed."""
    assert url in served, f"no exchange recorded for {url}"
    return LexborHTMLParser(served[url].text)


def text_of(node: LexborNode | None) -> str:
    """The whitespace-collapsed text of a node ("" for none)."""
    return " ".join(node.text().split()) if node is not None else ""


def body_paragraphs(tree: LexborHTMLParser, source: Source) -> list[str]:
    """The body's paragraph texts after the source's ``remove`` selectors are applied."""
    body = tree.css_first(source.selectors.body or "body")
    assert body is not None
    for selector in source.selectors.remove:
        for node in body.css(selector):
            node.decompose()
    paragraphs = [text_of(p) for p in body.css("p") if text_of(p)]
    if paragraphs:
        return paragraphs
    # GIA releases separate paragraphs with blank lines of <br> instead of <p> elements.
    blocks = body.html.replace("\n", "").split("<br><br>") if body.html else []
    return [text for text in (text_of(LexborHTMLParser(b).body) for b in blocks) if text]


def date_of(node: LexborNode) -> str:
    """The date a ``published`` element carries: its datetime or content attribute, or text."""
    attributes = node.attributes
    return attributes.get("datetime") or attributes.get("content") or text_of(node)


def item_links(source_id: str, feeds: dict[str, feedparser.FeedParserDict]) -> list[str]:
    """The item links of a feed, in feed order."""
    return [entry.link for entry in feeds[source_id].entries]


def listing_links(served: dict[str, httpx.Response], source: Source) -> Iterator[tuple[str, int]]:
    """(article URL, page number) for every card of the AInvest listing, following next links."""
    url: str | None = source.urls[0]
    number = 0
    while url:
        number += 1
        tree = page(served, url)
        for card in tree.css(source.selectors.item or ""):
            link = card.css_first(source.selectors.link or "")
            assert link is not None and link.attributes.get("href")
            yield urljoin(url, link.attributes["href"] or ""), number
        nxt = tree.css_first(source.selectors.next_page or "")
        url = urljoin(url, nxt.attributes["href"] or "") if nxt is not None else None


def without_query(url: str) -> str:
    """``url`` without its query string and fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


# --- every exchange -----------------------------------------------------------------------------


def test_every_news_exchange_loads_and_says_it_is_modelled(
    served: dict[str, httpx.Response],
) -> None:
    files = exchange_files()
    assert len(files) >= 100
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record.get("note", "").startswith("modelled: "), path
        assert record["request"]["method"] == "GET", path
        response = served[record["request"]["url"]]
        assert response.status_code == 200, path
        assert response.content, path
        assert "charset=" in response.headers["content-type"].lower(), path
        assert response.headers["date"].endswith("GMT"), path


# --- feeds --------------------------------------------------------------------------------------


@pytest.mark.parametrize("source_id", FEED_SOURCES)
def test_feed_parses_cleanly_with_enough_dated_items(
    source_id: str, feeds: dict[str, feedparser.FeedParserDict]
) -> None:
    feed = feeds[source_id]
    assert not feed.bozo, (source_id, feed.get("bozo_exception"))
    assert len(feed.entries) >= MIN_ITEMS, source_id
    published = []
    for entry in feed.entries:
        assert entry.get("title") and entry.get("link"), (source_id, entry)
        assert entry.get("published_parsed") is not None, (source_id, entry.get("link"))
        published.append(datetime(*entry.published_parsed[:6]))
    assert published == sorted(published, reverse=True), f"{source_id}: not newest first"
    assert WINDOW[0] <= f"{min(published):%Y-%m-%d}"
    assert f"{max(published):%Y-%m-%d}" <= WINDOW[1]


@pytest.mark.parametrize("source_id", FEED_SOURCES)
def test_every_feed_item_has_a_recorded_page(
    source_id: str, feeds: dict[str, feedparser.FeedParserDict], served: dict[str, httpx.Response]
) -> None:
    missing = [link for link in item_links(source_id, feeds) if link not in served]
    assert not missing, (source_id, missing)


@pytest.mark.parametrize("source_id", FEED_SOURCES)
def test_feed_pages_match_the_configured_selectors(
    source_id: str,
    sources: dict[str, Source],
    feeds: dict[str, feedparser.FeedParserDict],
    served: dict[str, httpx.Response],
) -> None:
    selectors = sources[source_id].selectors
    for entry in feeds[source_id].entries:
        tree = page(served, entry.link)
        title = text_of(tree.css_first(selectors.title or ""))
        assert title == " ".join(entry.title.split()), (source_id, entry.link)
        assert len(body_paragraphs(tree, sources[source_id])) >= 3, (source_id, entry.link)
        if selectors.author:
            assert text_of(tree.css_first(selectors.author)), (source_id, entry.link)
        if selectors.published:
            node = tree.css_first(selectors.published)
            assert node is not None, (source_id, entry.link)
            day = datetime.fromisoformat(date_of(node).replace("Z", "+00:00"))
            assert WINDOW[0] <= f"{day:%Y-%m-%d}" <= WINDOW[1], (source_id, entry.link)


@pytest.mark.parametrize("source_id", FEED_SOURCES)
def test_pages_carry_canonical_and_opengraph_and_tracking_links_point_home(
    source_id: str, feeds: dict[str, feedparser.FeedParserDict], served: dict[str, httpx.Response]
) -> None:
    for entry in feeds[source_id].entries:
        tree = page(served, entry.link)
        canonical = tree.css_first("link[rel=canonical]")
        assert canonical is not None, entry.link
        href = canonical.attributes["href"]
        expected = without_query(entry.link) if "utm_" in entry.link else entry.link
        assert href == expected, (entry.link, href)
        og_title = tree.css_first("meta[property='og:title']")
        assert og_title is not None and og_title.attributes["content"] == entry.title


@pytest.mark.parametrize("source_id", [s for s in FEED_SOURCES if s != "hkgov-press"])
def test_outlet_pages_embed_a_news_article_json_ld(
    source_id: str, feeds: dict[str, feedparser.FeedParserDict], served: dict[str, httpx.Response]
) -> None:
    for entry in feeds[source_id].entries:
        tree = page(served, entry.link)
        scripts = [
            json.loads(node.text()) for node in tree.css("script[type='application/ld+json']")
        ]
        nodes = [n for data in scripts for n in data.get("@graph", [data])]
        articles = [n for n in nodes if n.get("@type") == "NewsArticle"]
        assert len(articles) == 1, entry.link
        published = tree.css_first("meta[property='article:published_time']")
        assert published is not None, entry.link
        assert articles[0]["headline"] == entry.title
        assert articles[0]["datePublished"][:10] >= WINDOW[0]


def test_gia_releases_end_with_the_issue_line(
    feeds: dict[str, feedparser.FeedParserDict], served: dict[str, httpx.Response]
) -> None:
    for entry in feeds["hkgov-press"].entries:
        tree = page(served, entry.link)
        ends = text_of(tree.css_first("#PRDate"))
        assert ends.startswith("Ends/") and "Issued at HKT" in ends, entry.link
    first = page(served, "https://www.info.gov.hk/gia/general/202511/03/P2025110300612.htm")
    ends = first.css_first("#PRDate")
    assert ends is not None and " ".join(ends.text(separator=" ").split()) == (
        "Ends/Monday, November 3, 2025 Issued at HKT 17:30"
    )


# --- the AInvest listing ------------------------------------------------------------------------


def test_ainvest_listing_has_two_pages_and_every_article(
    sources: dict[str, Source], served: dict[str, httpx.Response]
) -> None:
    source = sources[LISTING_SOURCE]
    selectors = source.selectors
    links = list(listing_links(served, source))
    pages = [number for _, number in links]
    assert max(pages) == 2 and pages.count(1) >= 5 and len(links) >= MIN_ITEMS
    second = page(served, "https://www.ainvest.com/news/?page=2")
    assert second.css_first(selectors.next_page or "") is None
    for url, number in links:
        listing = page(served, source.urls[0] if number == 1 else f"{source.urls[0]}?page=2")
        card = next(
            c
            for c in listing.css(selectors.item or "")
            if urljoin(source.urls[0], c.css_first(selectors.link or "").attributes["href"] or "")
            == url
        )
        for field in (selectors.item_title, selectors.item_date, selectors.item_summary):
            assert text_of(card.css_first(field or "")), (url, field)
        tree = page(served, url)
        assert text_of(tree.css_first(selectors.title or "")) == text_of(
            card.css_first(selectors.item_title or "")
        )
        assert text_of(tree.css_first(selectors.author or "")), url
        assert date_of(tree.css_first(selectors.published or "")).startswith("2025-1"), url
        assert len(body_paragraphs(tree, source)) >= 3, url


# --- the seeds ----------------------------------------------------------------------------------


def seed_lines(name: str) -> list[str]:
    """The non-blank lines of a seed article (``../shared/seeds``); skips the test without it."""
    text = shared_path("seeds", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.mark.shared
def test_seed_000_is_the_fintechnews_article_with_its_chrome(
    sources: dict[str, Source],
    feeds: dict[str, feedparser.FeedParserDict],
    served: dict[str, httpx.Response],
) -> None:
    lines = seed_lines(SEED_000)
    [entry] = [e for e in feeds["fintechnews-hk"].entries if "Eric Jing" in e.title]
    tree = page(served, entry.link)
    body = tree.css_first("div.entry-content")
    assert body is not None
    paragraphs = [text_of(child) for child in body.iter() if child.tag == "p"]
    assert paragraphs == lines, "body paragraphs differ from the seed"
    assert paragraphs[-1].startswith("Featured image credit: ")
    for chrome in (".sharedaddy", ".jp-relatedposts"):
        assert body.css_first(chrome) is not None, chrome
    assert body.css_first("#comments") is None and tree.css_first("#comments") is not None
    assert tree.css_first("footer#colophon") is not None and tree.css_first("aside#secondary")
    assert date_of(tree.css_first("time.entry-date")).startswith("2025-11-03")
    meta = tree.css_first("meta[property='article:published_time']")
    assert meta is not None and meta.attributes["content"].startswith("2025-11-03")
    assert text_of(tree.css_first(".author-name")) == "Fintech News Hong Kong"
    cleaned = body_paragraphs(tree, sources["fintechnews-hk"])
    assert cleaned[0] == lines[0] and cleaned[-2] == lines[-2]


@pytest.mark.shared
def test_seed_002_is_on_ainvest_page_one_with_ticker_widgets_and_comments(
    sources: dict[str, Source], served: dict[str, httpx.Response]
) -> None:
    source = sources[LISTING_SOURCE]
    lines = seed_lines(SEED_002)
    title = lines[0]
    [url] = [u for u, n in listing_links(served, source) if n == 1 and "ai-crypto-ecosystem" in u]
    tree = page(served, url)
    assert text_of(tree.css_first("h1.article-title")) == title
    assert date_of(tree.css_first("time.article-date")).startswith("2025-11-06")
    body = tree.css_first("div.article-body")
    assert body is not None
    widgets = [text_of(node) for node in body.css("span.ticker-widget")]
    assert widgets == ["BTC--", "ETH--"]
    rendered = " ".join(text_of(n) for n in body.css("p, h2, li"))
    for line in lines[1 : lines.index("Comentarios")]:
        assert line.removeprefix("- ") in rendered, line[:60]
    comments = tree.css_first(".comments")
    assert comments is not None and body.css_first(".comments") is None
    assert "Comentarios" in text_of(comments) and "Aún no hay comentarios" in text_of(comments)
    cleaned = " ".join(body_paragraphs(tree, source))
    assert "BTC--" not in cleaned and "Bitcoin, Ethereum, stablecoins" in cleaned


# --- repeats deduplication must find ------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "at_least"),
    [
        ("cointelegraph", "cointelegraph-regulation", 2),
        ("scmp-business", "scmp-hkma", 1),
        ("finextra-headlines", "finextra-blockchain", 1),
    ],
)
def test_feeds_share_article_urls(
    first: str, second: str, at_least: int, feeds: dict[str, feedparser.FeedParserDict]
) -> None:
    shared = set(item_links(first, feeds)) & set(item_links(second, feeds))
    assert len(shared) >= at_least, (first, second, shared)


def test_a_feed_repeats_an_item_with_the_same_guid(
    feeds: dict[str, feedparser.FeedParserDict],
) -> None:
    repeated = [
        source_id
        for source_id in FEED_SOURCES
        if len({e.id for e in feeds[source_id].entries}) < len(feeds[source_id].entries)
    ]
    assert repeated == ["coinpedia"]


def test_regulation_asia_carries_a_syndicated_copy_of_a_fintechnews_article(
    sources: dict[str, Source],
    feeds: dict[str, feedparser.FeedParserDict],
    served: dict[str, httpx.Response],
) -> None:
    originals = {
        tuple(body_paragraphs(page(served, link), sources["fintechnews-hk"])): link
        for link in item_links("fintechnews-hk", feeds)
    }
    copies = []
    for link in item_links("regulation-asia", feeds):
        tree = page(served, link)
        text = tuple(body_paragraphs(tree, sources["regulation-asia"]))
        # The original's last paragraph is its image credit, which cleaning drops.
        match = [orig for body, orig in originals.items() if body[:-1] == text]
        if match:
            canonical = tree.css_first("link[rel=canonical]")
            assert canonical is not None and canonical.attributes["href"] == link
            copies.append((link, match[0]))
    assert len(copies) == 1, copies
    assert copies[0][0] != copies[0][1]


def test_seed_stories_are_covered_by_other_outlets(
    feeds: dict[str, feedparser.FeedParserDict], served: dict[str, httpx.Response]
) -> None:
    tech = [
        text_of(page(served, link).css_first("section[data-qa='ContentBody']"))
        for link in item_links("scmp-tech", feeds)
    ]
    assert any("Ant Group" in t and "Fintech Week" in t and "Eric Jing" in t for t in tech)
    coinpedia = [
        text_of(page(served, link).css_first(".entry-content"))
        for link in item_links("coinpedia", feeds)
    ]
    assert any("Cyberport" in t and "ASPIRe" in t and "393,500" in t for t in coinpedia)
