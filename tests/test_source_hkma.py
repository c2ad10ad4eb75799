"""The HKMA Open API adapter: query, paging, date window, failures, stable ids."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from support import REPO
from support.recorded import recorded_json
from support.shared import shared_path

from pipeline.config import load_sources
from pipeline.errors import ApiError, FetchError, PayloadError
from pipeline.fetch import Fetcher, FetchPolicy, build_client
from pipeline.sources import discover
from pipeline.sources.hkma_api import MAX_PAGES

# Handler answers stand for one endpoint each (robots.txt is the fetch tests' subject), and
# retried faults wait milliseconds.
NO_ROBOTS = FetchPolicy(respect_robots=False, backoff_base=0.001, backoff_cap=0.01)
HONG_KONG = ZoneInfo("Asia/Hong_Kong")
SOURCES = {source.id: source for source in load_sources(REPO / "sources.toml")}
# The adapter alone: the shipped source's RSS fallback is tested in test_hkma_ingest.py.
SOURCE = dataclasses.replace(
    SOURCES["hkma-press"],
    options={k: v for k, v in SOURCES["hkma-press"].options.items() if k != "fallback_urls"},
)
API = "https://api.hkma.gov.hk/public/press-releases"
RELEASES = "https://www.hkma.gov.hk/eng/news-and-media/press-releases"

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


def record(day: int, number: int, title: str | None = None) -> dict[str, str]:
    stamp = f"2025-09-{day:02d}"
    return {
        "title": title or f"Release {day}-{number}",
        "link": f"{RELEASES}/2025/09/202509{day:02d}-{number}/",
        "date": stamp,
    }


def envelope(records: list[Any], datasize: int | None = None, **header: Any) -> dict[str, Any]:
    return {
        "header": {"success": True, "err_code": "0000", "err_msg": "No error found", **header},
        "result": {"datasize": len(records) if datasize is None else datasize, "records": records},
    }


def json_answer(payload: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=payload)


def with_pagesize(pagesize: int) -> Any:
    return dataclasses.replace(SOURCE, options={**SOURCE.options, "pagesize": pagesize})


async def test_recorded_answer_becomes_leads_with_stable_ids(
    serve: Callable[[Handler], Fetcher],
) -> None:
    url = f"{API}?lang=en&pagesize=100&offset=0"
    sample = recorded_json("GET", url)
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return json_answer(sample)

    leads = await discover(SOURCE, serve(handler))
    assert requested == [url]
    assert [lead.item_id for lead in leads] == [
        "20251120-3",
        "20251118-4",
        "20251118-3",
        "20251118-2",
        "20251114-3",
        "20251112-5",
        "20251110-2",
        "20251107-1",
        "20251105-3",
        "20251103-4",
        "20251031-1",
        "20251030-3",
        "20251028-4",
        "20251021-3",
    ]
    first = leads[0]
    assert first.title == "Scam alert related to banks"
    assert first.url == f"{RELEASES}/2025/11/20251120-3/"
    assert first.published_at == datetime(2025, 11, 20, tzinfo=HONG_KONG)
    assert first.published_at.utcoffset() == timedelta(hours=8)
    assert (first.source_id, first.doc_type, first.lang) == ("hkma-press", "press_release", "en")
    assert first.body_html is None


@pytest.mark.shared
async def test_real_reference_payload_becomes_leads_with_stable_ids(
    serve: Callable[[Handler], Fetcher],
) -> None:
    # The recorded answers are modelled on this reference; the adapter must read the real one.
    path = shared_path("reference", "payloads", "hkma_press_releases_api_shape.json")
    sample = json.loads(path.read_text(encoding="utf-8"))["response"]
    leads = await discover(SOURCE, serve(lambda request: json_answer(sample)))
    assert [lead.item_id for lead in leads] == ["20250926-6", "20250926-5"]
    first = leads[0]
    assert first.title == "Scam alert related to banks"
    assert first.url == f"{RELEASES}/2025/09/20250926-6/"
    assert first.published_at == datetime(2025, 9, 26, tzinfo=HONG_KONG)
    assert (first.source_id, first.doc_type, first.lang) == ("hkma-press", "press_release", "en")


@pytest.mark.parametrize("first_datasize", [2, 5], ids=["datasize-per-page", "datasize-total"])
async def test_pages_while_a_page_is_full(
    serve: Callable[[Handler], Fetcher], first_datasize: int
) -> None:
    pages = {
        "0": envelope([record(26, 6), record(26, 5)], first_datasize),
        "2": envelope([record(25, 3)], 1 if first_datasize == 2 else 5),
    }
    offsets: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = request.url.params["offset"]
        offsets.append(offset)
        return json_answer(pages[offset])

    leads = await discover(with_pagesize(2), serve(handler))
    assert offsets == ["0", "2"]
    assert [lead.item_id for lead in leads] == ["20250926-6", "20250926-5", "20250925-3"]


async def test_a_short_page_ends_the_listing(serve: Callable[[Handler], Fetcher]) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return json_answer(envelope([record(26, 6)], 5000))

    assert len(await discover(with_pagesize(2), serve(handler))) == 1
    assert len(calls) == 1


async def test_paging_is_bounded(serve: Callable[[Handler], Fetcher]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        calls.append(offset)
        return json_answer(envelope([record(1 + offset % 28, offset + 1)], 10**6))

    leads = await discover(with_pagesize(1), serve(handler))
    assert len(calls) == MAX_PAGES
    assert calls == list(range(MAX_PAGES))
    assert len(leads) == MAX_PAGES


@pytest.mark.parametrize(
    "since",
    [
        datetime(2025, 9, 1, tzinfo=HONG_KONG),
        datetime(2025, 9, 1, 9, 30),  # naive: Hong Kong time
        datetime(2025, 8, 31, 17, 0, tzinfo=UTC),  # 01:00 on 1 September in Hong Kong
    ],
)
async def test_since_asks_for_a_date_window_up_to_today_in_hong_kong(
    serve: Callable[[Handler], Fetcher], since: datetime
) -> None:
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return json_answer(envelope([record(26, 6)]))

    # 20 November 17:00 UTC is already 21 November in Hong Kong.
    now = datetime(2025, 11, 20, 17, 0, tzinfo=UTC)
    await discover(SOURCE, serve(handler), since=since, now=now)
    assert requested == [
        f"{API}?lang=en&pagesize=100&offset=0&choose=date&from=2025-09-01&to=2025-11-21"
    ]


async def test_without_now_the_window_ends_today_in_hong_kong(
    serve: Callable[[Handler], Fetcher],
) -> None:
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return json_answer(envelope([record(26, 6)]))

    before = datetime.now(HONG_KONG).date()
    await discover(SOURCE, serve(handler), since=datetime(2025, 9, 1, tzinfo=HONG_KONG))
    after = datetime.now(HONG_KONG).date()
    (url,) = requested
    assert url.rsplit("&to=", 1)[1] in {before.isoformat(), after.isoformat()}


async def test_api_language_comes_from_the_options(serve: Callable[[Handler], Fetcher]) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params["lang"])
        return json_answer(envelope([]))

    source = dataclasses.replace(SOURCE, options={"api_lang": "tc"})
    assert await discover(source, serve(handler)) == []
    assert seen == ["tc"]


async def test_success_false_is_an_api_error_even_with_http_200(
    serve: Callable[[Handler], Fetcher],
) -> None:
    failure = {
        "header": {"success": False, "err_code": "1002", "err_msg": "Invalid parameter(s)"},
        "result": {"datasize": 0, "records": []},
    }
    with pytest.raises(ApiError) as caught:
        await discover(SOURCE, serve(lambda request: json_answer(failure)))
    message = str(caught.value)
    assert message.startswith("hkma-press: ")
    assert "'1002'" in message and "Invalid parameter(s)" in message


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"header": {"success": true}, "result": {"records": [', "not JSON"),
        (b"<html><body>502 Bad Gateway</body></html>", "not JSON"),
        (b"[]", "not an object"),
        (b'{"result": {"datasize": 0, "records": []}}', "'header'"),
        (b'{"header": {"success": true}}', "'result'"),
        (b'{"header": {"success": true}, "result": {"datasize": 0}}', "'result.records'"),
        (b'{"header": {"success": true}, "result": {"datasize": "x", "records": []}}', "datasize"),
        (b'{"header": {"success": true}, "result": {"records": ["a"]}}', r"records\[0\]"),
        (
            b'{"header": {"success": true}, "result": {"records": '
            b'[{"title": "t", "date": "2025-09-26"}]}}',
            r"records\[0\]: 'link' missing",
        ),
        (
            b'{"header": {"success": true}, "result": {"records": '
            b'[{"title": 5, "link": "https://x/20250926-1/", "date": "2025-09-26"}]}}',
            "'title' missing or not a string",
        ),
    ],
)
async def test_malformed_answers_are_payload_errors_naming_what_is_wrong(
    serve: Callable[[Handler], Fetcher], body: bytes, named: str
) -> None:
    fetcher = serve(lambda request: httpx.Response(200, content=body))
    with pytest.raises(PayloadError, match=rf"^hkma-press: {API}\?lang=en.*{named}"):
        await discover(SOURCE, fetcher)


async def test_outage_is_a_fetch_error_naming_the_source(
    serve: Callable[[Handler], Fetcher],
) -> None:
    with pytest.raises(FetchError, match=r"^hkma-press: .*HTTP 502"):
        await discover(SOURCE, serve(lambda request: httpx.Response(502)))


async def test_api_and_rss_give_the_same_release_the_same_key(
    serve: Callable[[Handler], Fetcher],
) -> None:
    rss_source = SOURCES["hkma-rss-press"]
    link = f"{RELEASES}/2025/09/20250926-6/"
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>HKMA: Press Releases</title>'
        f"<item><title>Scam alert related to banks</title><link>{link}</link>"
        "<pubDate>Fri, 26 Sep 2025 00:00:00 +0800</pubDate></item></channel></rss>"
    )
    (from_api,) = await discover(
        SOURCE, serve(lambda request: json_answer(envelope([record(26, 6)])))
    )
    (from_rss,) = await discover(
        rss_source, serve(lambda request: httpx.Response(200, content=feed.encode()))
    )
    assert SOURCE.namespace == rss_source.namespace == "hkma-press"
    assert from_api.item_id == from_rss.item_id == "20250926-6"
    assert from_api.published_at == from_rss.published_at
