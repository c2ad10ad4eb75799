"""The html_index adapter: listing selectors, relative links, dates, next pages, empty listings."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from support import REPO
from support.local_site import Answer, LocalSite

from pipeline.config import load_sources
from pipeline.errors import SourceError
from pipeline.fetch import Fetcher, FetchPolicy, build_client
from pipeline.models import Source
from pipeline.sources import discover

# Handler answers stand for one endpoint each (robots.txt is the fetch tests' subject), and
# retried faults wait milliseconds.
NO_ROBOTS = FetchPolicy(respect_robots=False, backoff_base=0.001, backoff_cap=0.01)
HONG_KONG = ZoneInfo("Asia/Hong_Kong")
SOURCES = {source.id: source for source in load_sources(REPO / "sources.toml")}
SOURCE = SOURCES["ainvest"]
LISTING = "https://www.ainvest.com/news/"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Fetcher]]:
    """A fetcher whose answers come from a handler (no network, no politeness waits)."""
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler) -> Fetcher:
        client = build_client(transport=httpx.MockTransport(handler))
        clients.append(client)
        return Fetcher(client, policy=NO_ROBOTS, polite=False)

    yield make
    for client in clients:
        await client.aclose()


def card(href: str, title: str, when: str = "2025-11-03T09:15:00+08:00", summary: str = "") -> str:
    return (
        '<article class="news-card">'
        f'<a class="news-card__link" href="{href}"><h3 class="news-card__title">{title}</h3></a>'
        f'<time datetime="{when}">3 Nov 2025</time>'
        f'<p class="news-card__summary">{summary}</p></article>'
    )


def listing(cards: str, next_href: str | None = None, title: str = "News") -> str:
    pager = f'<a class="pagination__next" href="{next_href}">Next</a>' if next_href else ""
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f'<div class="ticker-widget">BTC 1</div><main>{cards}</main>'
        f'<nav class="pagination">{pager}</nav></body></html>'
    )


class Site:
    """Serves listing pages by URL and records what was asked for."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.requested: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requested.append(url)
        if url not in self.pages:
            return httpx.Response(404, text="missing")
        return httpx.Response(
            200, text=self.pages[url], headers={"content-type": "text/html; charset=utf-8"}
        )


async def test_two_pages_with_relative_links(serve: Callable[[Handler], Fetcher]) -> None:
    site = Site(
        {
            LISTING: listing(
                card(
                    "/news/hk-stablecoin-2511",
                    "Hong Kong's  Emerging AI-Crypto Ecosystem",
                    summary="HKMA   licences <b>first</b> issuers.",
                )
                + card("../news/ant-group-hk", "Ant Group expands"),
                next_href="?page=2",
            ),
            f"{LISTING}?page=2": listing(
                card("https://www.ainvest.com/news/older-item", "Older item", "2025-11-01"),
                next_href="?page=3",
            ),
            f"{LISTING}?page=3": listing(card("/news/too-old", "Beyond max_pages")),
        }
    )
    leads = await discover(SOURCE, serve(site))

    # sources.toml gives ainvest max_pages = 2: page 3 is never asked for.
    assert site.requested == [LISTING, f"{LISTING}?page=2"]
    assert [lead.url for lead in leads] == [
        "https://www.ainvest.com/news/hk-stablecoin-2511",
        "https://www.ainvest.com/news/ant-group-hk",
        "https://www.ainvest.com/news/older-item",
    ]
    first = leads[0]
    assert first.title == "Hong Kong's Emerging AI-Crypto Ecosystem"
    assert first.summary == "HKMA licences first issuers."
    assert first.published_at == datetime(2025, 11, 3, 9, 15, tzinfo=HONG_KONG)
    assert leads[2].published_at == datetime(2025, 11, 1, tzinfo=HONG_KONG)
    assert (first.source_id, first.doc_type, first.lang, first.item_id) == (
        "ainvest",
        "news",
        "en",
        None,
    )


async def test_a_next_link_back_to_a_read_page_is_not_followed(
    serve: Callable[[Handler], Fetcher],
) -> None:
    source = dataclasses.replace(SOURCE, options={"max_pages": 10})
    site = Site(
        {
            LISTING: listing(card("/news/a", "A"), next_href="/news/?page=2"),
            f"{LISTING}?page=2": listing(card("/news/b", "B"), next_href="/news/#top"),
        }
    )
    leads = await discover(source, serve(site))
    assert site.requested == [LISTING, f"{LISTING}?page=2"]
    assert [lead.title for lead in leads] == ["A", "B"]


async def test_one_page_by_default(serve: Callable[[Handler], Fetcher]) -> None:
    source = dataclasses.replace(SOURCE, options={})
    site = Site({LISTING: listing(card("/news/a", "A"), next_href="?page=2")})
    assert len(await discover(source, serve(site))) == 1
    assert site.requested == [LISTING]


async def test_a_later_page_without_items_ends_the_listing(
    serve: Callable[[Handler], Fetcher],
) -> None:
    site = Site(
        {
            LISTING: listing(card("/news/a", "A"), next_href="?page=2"),
            f"{LISTING}?page=2": listing("<p>No more news</p>"),
        }
    )
    assert [lead.title for lead in await discover(SOURCE, serve(site))] == ["A"]


async def test_listing_with_no_items_is_a_source_error(serve: Callable[[Handler], Fetcher]) -> None:
    site = Site({LISTING: listing('<div class="card-v2"><a href="/news/a">A</a></div>')})
    with pytest.raises(SourceError) as caught:
        await discover(SOURCE, serve(site))
    message = str(caught.value)
    assert message.startswith(f"ainvest: {LISTING}: ")
    assert "listing matched no items with selector 'article.news-card'" in message


async def test_fallbacks_title_from_link_date_from_text_items_without_link_skipped(
    serve: Callable[[Handler], Fetcher],
) -> None:
    source: Source = dataclasses.replace(
        SOURCE,
        selectors=dataclasses.replace(SOURCE.selectors, item_title=".missing", item_summary=None),
    )
    cards = (
        '<article class="news-card"><a class="news-card__link" href="/news/x">'
        "  Link  text title </a><time>3 November 2025</time></article>"
        '<article class="news-card"><span>no link here</span></article>'
    )
    site = Site({LISTING: listing(cards)})
    (lead,) = await discover(source, serve(site))
    assert lead.title == "Link text title"
    assert lead.url == "https://www.ainvest.com/news/x"
    assert lead.published_at == datetime(2025, 11, 3, tzinfo=HONG_KONG)
    assert lead.summary == ""


async def test_base_href_and_declared_charset_are_honoured(
    serve: Callable[[Handler], Fetcher],
) -> None:
    html = (
        '<html><head><base href="https://cdn.ainvest.com/archive/"></head><body>'
        + card("item-1", "Caf\u00e9 fintech in Central")
        + "</body></html>"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=html.encode("iso-8859-1"),
            headers={"content-type": "text/html; charset=iso-8859-1"},
        )

    (lead,) = await discover(SOURCE, serve(handler))
    assert lead.url == "https://cdn.ainvest.com/archive/item-1"
    assert lead.title == "Café fintech in Central"


@pytest.mark.parametrize(("max_pages", "pages_read"), [(3, 3), (2, 2), (5, 3)])
async def test_three_listing_pages_from_a_real_server(
    local_site: LocalSite, max_pages: int, pages_read: int
) -> None:
    # Page 1 links page 2 relatively, page 2 links page 3 absolutely, page 3 has no next link.
    local_site.set(
        "/news/",
        Answer(listing(card("/news/a1", "A1") + card("/news/a2", "A2"), "?page=2").encode()),
    )
    local_site.set(
        "/news/?page=2",
        Answer(
            listing(
                card("a3", "A3", "2025-11-02T10:00:00+08:00"), f"{local_site.url}/news/?page=3"
            ).encode()
        ),
    )
    local_site.set(
        "/news/?page=3",
        Answer(listing(card(f"{local_site.url}/news/a4", "A4", "2025-11-01")).encode()),
    )
    source = dataclasses.replace(
        SOURCE, urls=(f"{local_site.url}/news/",), options={"max_pages": max_pages}
    )
    async with build_client() as client:
        leads = await discover(source, Fetcher(client, polite=False))
    expected = ["a1", "a2", "a3", "a4"][: {3: 4, 2: 3}[pages_read]]
    assert [lead.url for lead in leads] == [f"{local_site.url}/news/{name}" for name in expected]
    assert [lead.title for lead in leads] == [name.upper() for name in expected]
    # robots.txt is read first (a 404 here: everything allowed), then the listing pages.
    assert local_site.asked()[0] == "/robots.txt"
    assert (
        local_site.asked(prefix="/news/")
        == ["/news/", "/news/?page=2", "/news/?page=3"][:pages_read]
    )
    if pages_read == 3:
        assert leads[-1].published_at == datetime(2025, 11, 1, tzinfo=HONG_KONG)
