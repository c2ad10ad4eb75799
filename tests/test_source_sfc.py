"""The SFC e-Distribution API adapter: exact search bodies, item mapping, bodies, paging, errors."""

from __future__ import annotations

import copy
import dataclasses
import json
import time
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
from pipeline.errors import FetchError, PayloadError, SourceError
from pipeline.fetch import Fetcher, FetchPolicy, build_client
from pipeline.fetch.content import html_in_json
from pipeline.models import Page, Source
from pipeline.sources import discover
from pipeline.sources.sfc_api import CONTENT_FIELD

# Handler answers stand for one endpoint each (robots.txt is the fetch tests' subject), and
# retried faults wait milliseconds.
NO_ROBOTS = FetchPolicy(respect_robots=False, backoff_base=0.001, backoff_cap=0.01)
HONG_KONG = ZoneInfo("Asia/Hong_Kong")
SOURCES = {source.id: source for source in load_sources(REPO / "sources.toml")}
BASE = "https://apps.sfc.hk/edistributionWeb"
GATEWAY = f"{BASE}/gateway/EN"

# The recorded answers of fixtures/http (modelled on the real API's shapes).
NEWS_SEARCH = recorded_json("POST", f"{BASE}/api/news/search")
# An enforcement release naming a firm and a masked individual.
ENFORCEMENT_REF = "25PR116"
NEWS_CONTENT = recorded_json("GET", f"{BASE}/api/news/content?refNo={ENFORCEMENT_REF}&lang=EN")
CIRCULAR_SEARCH = recorded_json("POST", f"{BASE}/api/circular/search")
CIRCULAR_CONTENT = recorded_json("GET", f"{BASE}/api/circular/content?refNo=25EC66&lang=EN")
CONSULTATION_SEARCH = recorded_json("POST", f"{BASE}/api/consultation/search")
CONSULTATION_CONTENT = recorded_json("GET", f"{BASE}/api/consultation/content?refNo=25CP11&lang=EN")

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Fetcher]]:
    """A fetcher whose answers come from a handler; impolite unless asked, to keep tests fast."""
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler, *, polite: bool = False) -> Fetcher:
        client = build_client(transport=httpx.MockTransport(handler))
        clients.append(client)
        return Fetcher(client, policy=NO_ROBOTS, polite=polite)

    yield make
    for client in clients:
        await client.aclose()


class FakeSfc:
    """Answers search POSTs from pages of items and content GETs from a ref → html map."""

    def __init__(
        self,
        endpoint: str,
        pages: list[list[dict[str, Any]]],
        *,
        total: int | None = None,
        contents: dict[str, Any] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.pages = pages
        self.total = sum(len(page) for page in pages) if total is None else total
        self.contents = contents or {}
        self.searches: list[dict[str, Any]] = []
        self.content_requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith(f"/api/{self.endpoint}/search"):
            body = json.loads(request.content)
            self.searches.append(body)
            number = body["pageNo"]
            items = self.pages[number] if number < len(self.pages) else []
            return httpx.Response(200, json={"items": items, "total": self.total})
        if request.url.path.endswith(f"/api/{self.endpoint}/content"):
            self.content_requests.append(str(request.url))
            ref = request.url.params["refNo"]
            answer = self.contents.get(ref, 404)
            if isinstance(answer, int):
                return httpx.Response(answer, text="Not Found")
            return httpx.Response(200, json=answer)
        return httpx.Response(418)


def search_item(answer: dict[str, Any], key: str, ref: str) -> dict[str, Any]:
    """A copy of the item of a search answer whose ``key`` is ``ref``."""
    [item] = [item for item in answer["items"] if item[key] == ref]
    return copy.deepcopy(item)


def news_item(ref: str, issued: str, **fields: Any) -> dict[str, Any]:
    item = copy.deepcopy(NEWS_SEARCH["items"][0])
    item.update({"newsRefNo": ref, "title": f"Release {ref}", "issueDate": issued, **fields})
    return item


def content_for(ref: str, html: str | None) -> dict[str, Any]:
    return {**NEWS_CONTENT, "newsRefNo": ref, "html": html}


async def test_news_search_body_and_mapping(serve: Callable[..., Fetcher]) -> None:
    item = search_item(NEWS_SEARCH, "newsRefNo", ENFORCEMENT_REF)
    assert item["targetCeList"] == [
        {"ceName": "Northgate Crypto Limited", "lang": "EN", "masked": False},
        {"ceName": "(name withheld)", "lang": "EN", "masked": True},
    ]
    item["targetCeList"].append({"ceName": "Hidden Person", "lang": "EN", "masked": True})
    # A fictional firm, its name padded with stray spaces.
    item["targetCeList"].append(
        {"ceName": "  Lantau  Peak Holdings ", "lang": "EN", "masked": False}
    )
    api = FakeSfc(
        "news", [[item]], total=NEWS_SEARCH["total"], contents={ENFORCEMENT_REF: NEWS_CONTENT}
    )

    (lead,) = await discover(SOURCES["sfc-news"], serve(api))

    assert api.searches == [
        {
            "lang": "EN",
            "category": "all",
            "year": "all",
            "month": "all",
            "pageNo": 0,
            "pageSize": 20,
            "sort": {"field": "issueDate", "order": "desc"},
        }
    ]
    # The body is fetched by the ingest, for new items only: discovery makes no content call.
    assert api.content_requests == []
    assert lead.body_url == f"{BASE}/api/news/content?refNo=25PR116&lang=EN"
    assert lead.body_field == "html"
    assert lead.url == f"{GATEWAY}/news-and-announcements/news/doc?refNo=25PR116"
    assert lead.item_id == lead.guid == "25PR116"
    assert lead.title == (
        "SFC obtains interim injunction to freeze assets linked to unlicensed virtual asset "
        "trading platform"
    )
    # issueDate is Hong Kong time without a zone.
    assert lead.published_at == datetime(2025, 11, 10, 19, 2, 45, 930000, tzinfo=HONG_KONG)
    assert lead.published_at.utcoffset() == timedelta(hours=8)
    # Masked names are left out; the others are kept with their spaces tidied.
    assert lead.entities == ("Northgate Crypto Limited", "Lantau Peak Holdings")
    assert lead.modified == "2025-11-10T19:02:45"
    # newsType "EF"; a general release ("GN") is a press release (see the next test).
    assert lead.doc_type == "enforcement"
    assert lead.body_html is None
    assert (lead.source_id, lead.lang) == ("sfc-news", "en")


async def test_enforcement_news_is_typed_enforcement(serve: Callable[..., Fetcher]) -> None:
    items = [
        news_item("26PR30", "2026-02-18T10:00:00", newsType="EF"),
        news_item("26PR29", "2026-02-17T10:00:00", newsType="GN", targetCeList=None),
    ]
    contents = {ref: content_for(ref, f"<p>{ref}</p>") for ref in ("26PR30", "26PR29")}
    leads = await discover(SOURCES["sfc-news"], serve(FakeSfc("news", [items], contents=contents)))
    assert [(lead.item_id, lead.doc_type) for lead in leads] == [
        ("26PR30", "enforcement"),
        ("26PR29", "press_release"),
    ]
    assert leads[1].entities == ()


async def test_circulars_body_mapping_and_vatp(serve: Callable[..., Fetcher]) -> None:
    sample = CIRCULAR_SEARCH["items"][0]
    items = [
        {**sample, "refNo": "25EC68", "title": "To licensed VATPs", "postDocType": 200},
        {**sample, "refNo": "25EC67", "postDocType": 110},
    ]
    contents = {
        "25EC68": {**CIRCULAR_CONTENT, "html": "<ol><li>VATP duties</li></ol>"},
        "25EC67": {**CIRCULAR_CONTENT, "refNo": "25EC67"},
    }
    api = FakeSfc("circular", [items], contents=contents)

    leads = await discover(SOURCES["sfc-circulars"], serve(api))

    assert api.searches == [
        {
            "lang": "EN",
            "category": "all",
            "year": "all",
            "pageNo": 0,
            "pageSize": 20,
            "sort": {"field": "releasedDate", "order": "desc"},
        }
    ]
    assert [lead.item_id for lead in leads] == ["25EC68", "25EC67"]
    assert [lead.doc_type for lead in leads] == ["vatp_circular", "circular"]
    assert leads[0].url == f"{GATEWAY}/circular/doc?refNo=25EC68"
    assert leads[0].body_url == f"{BASE}/api/circular/content?refNo=25EC68&lang=EN"
    assert leads[1].published_at == datetime(2025, 11, 19, 17, 31, 8, 442000, tzinfo=HONG_KONG)
    assert api.content_requests == []


async def test_consultations_body_and_mapping(serve: Callable[..., Fetcher]) -> None:
    api = FakeSfc(
        "consultation",
        [[search_item(CONSULTATION_SEARCH, "cpRefNo", "25CP11")]],
        total=CONSULTATION_SEARCH["total"],
        contents={"25CP11": CONSULTATION_CONTENT},
    )
    (lead,) = await discover(SOURCES["sfc-consultations"], serve(api))
    assert api.searches == [
        {
            "lang": "EN",
            "category": "",
            "year": "all",
            "pageNo": 0,
            "pageSize": 20,
            "sort": {"field": "cpIssueDate", "order": "desc"},
        }
    ]
    assert lead.item_id == "25CP11"
    assert lead.title == (
        "Consultation Paper on the Regulation of Virtual Asset Lending and Borrowing Services"
    )
    assert lead.url == f"{GATEWAY}/consultation/doc?refNo=25CP11"
    assert lead.published_at == datetime(2025, 11, 7, 16, 11, 40, 712000, tzinfo=HONG_KONG)
    assert lead.doc_type == "consultation"
    assert lead.body_url == f"{BASE}/api/consultation/content?refNo=25CP11&lang=EN"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (json.dumps(content_for("26PR0", None)).encode(), "holds no 'html' body"),
        (json.dumps(content_for("26PR0", "  ")).encode(), "holds no 'html' body"),
        (b"<html>maintenance</html>", "not JSON"),
    ],
)
def test_content_answers_without_html_are_refused_with_the_reason(body: bytes, reason: str) -> None:
    url = f"{BASE}/api/news/content?refNo=26PR0&lang=EN"
    page = Page(url, url, 200, {"content-type": "application/json"}, body, datetime.now(UTC))
    with pytest.raises(PayloadError, match=reason) as caught:
        html_in_json(page, CONTENT_FIELD)
    assert url in str(caught.value)


def test_content_answer_html_is_the_body() -> None:
    url = f"{BASE}/api/news/content?refNo=25PR116&lang=EN"
    page = Page(url, url, 200, {}, json.dumps(NEWS_CONTENT).encode(), datetime.now(UTC))
    assert html_in_json(page, CONTENT_FIELD) == NEWS_CONTENT["html"]


def reference_payload(name: str) -> Any:
    """A real SFC API exchange from ``../shared/reference/payloads``."""
    path = shared_path("reference", "payloads", name)
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.shared
async def test_real_reference_payloads_map_as_the_recorded_ones_do(
    serve: Callable[..., Fetcher],
) -> None:
    # The recorded answers are modelled on these; the adapter must read the real ones too.
    news = reference_payload("sfc_news_search.json")["response"]
    content = reference_payload("sfc_news_content_and_notification.json")["content"]["response"]
    circulars = reference_payload("sfc_circular_search_and_content.json")["search"]["response"]
    consultations = reference_payload("sfc_consultation_search.json")["response"]

    (lead,) = await discover(SOURCES["sfc-news"], serve(FakeSfc("news", [news["items"]])))
    assert lead.item_id == "26PR27"
    assert lead.title == "Settlement with Sino Wealth International Limited..."
    assert lead.published_at == datetime(2026, 2, 16, 16, 53, 29, 346000, tzinfo=HONG_KONG)
    assert lead.entities == ("Entity Name",)
    assert lead.modified == "2026-02-16T16:53:29"
    assert lead.doc_type == "press_release"

    url = f"{BASE}/api/news/content?refNo=26PR27&lang=EN"
    page = Page(url, url, 200, {}, json.dumps(content).encode(), datetime.now(UTC))
    assert html_in_json(page, CONTENT_FIELD) == content["html"]

    (circular,) = await discover(
        SOURCES["sfc-circulars"], serve(FakeSfc("circular", [circulars["items"]]))
    )
    assert (circular.item_id, circular.doc_type) == ("26EC5", "circular")
    assert circular.published_at == datetime(2026, 2, 11, 16, 10, 41, 191000, tzinfo=HONG_KONG)

    (consultation,) = await discover(
        SOURCES["sfc-consultations"], serve(FakeSfc("consultation", [consultations["items"]]))
    )
    assert (consultation.item_id, consultation.title) == ("25CP11", "Consultation title...")
    assert consultation.published_at == datetime(2025, 11, 7, 16, 11, 40, 712000, tzinfo=HONG_KONG)


async def test_without_since_only_the_first_page_is_read(serve: Callable[..., Fetcher]) -> None:
    source = dataclasses.replace(
        SOURCES["sfc-news"], options={**SOURCES["sfc-news"].options, "page_size": 2}
    )
    pages = [
        [news_item("26PR9", "2026-02-18T10:00:00"), news_item("26PR8", "2026-02-17T10:00:00")],
        [news_item("26PR7", "2026-02-16T10:00:00"), news_item("26PR6", "2026-02-15T10:00:00")],
    ]
    api = FakeSfc("news", pages, total=100)
    leads = await discover(source, serve(api))
    assert [search["pageNo"] for search in api.searches] == [0]
    assert api.searches[0]["pageSize"] == 2
    assert [lead.item_id for lead in leads] == ["26PR9", "26PR8"]


async def test_since_pages_back_until_items_are_older(serve: Callable[..., Fetcher]) -> None:
    source = dataclasses.replace(
        SOURCES["sfc-news"], options={**SOURCES["sfc-news"].options, "page_size": 2}
    )
    pages = [
        [news_item("26PR9", "2026-02-18T10:00:00"), news_item("26PR8", "2026-02-17T10:00:00")],
        [news_item("26PR7", "2026-02-16T10:00:00"), news_item("26PR6", "2026-02-14T10:00:00")],
        [news_item("26PR5", "2026-02-13T10:00:00"), news_item("26PR4", "2026-02-12T10:00:00")],
    ]
    api = FakeSfc("news", pages, total=100)
    leads = await discover(source, serve(api), since=datetime(2026, 2, 15))
    # Page 1 already reaches back past 15 February: page 2 is not asked for.
    assert [search["pageNo"] for search in api.searches] == [0, 1]
    assert [lead.item_id for lead in leads] == ["26PR9", "26PR8", "26PR7", "26PR6"]


async def test_since_stops_when_total_is_read(serve: Callable[..., Fetcher]) -> None:
    source = dataclasses.replace(
        SOURCES["sfc-news"], options={**SOURCES["sfc-news"].options, "page_size": 2}
    )
    pages = [
        [news_item("26PR9", "2026-02-18T10:00:00"), news_item("26PR8", "2026-02-17T10:00:00")],
        [news_item("26PR7", "2026-02-16T10:00:00"), news_item("26PR6", "2026-02-15T10:00:00")],
    ]
    api = FakeSfc("news", pages, total=4)
    leads = await discover(source, serve(api), since=datetime(2020, 1, 1, tzinfo=HONG_KONG))
    assert [search["pageNo"] for search in api.searches] == [0, 1]
    assert len(leads) == 4


async def test_requests_are_spaced_by_min_delay(serve: Callable[..., Fetcher]) -> None:
    delay = 0.05
    source = dataclasses.replace(
        SOURCES["sfc-news"], options={**SOURCES["sfc-news"].options, "min_delay": delay}
    )
    source = dataclasses.replace(source, options={**source.options, "page_size": 1})
    pages = [[news_item(f"26PR{n}", f"2026-02-1{n}T10:00:00")] for n in (3, 2, 1)]
    api = FakeSfc("news", pages, total=3)
    start = time.monotonic()
    await discover(source, serve(api, polite=True), since=datetime(2026, 1, 1))
    assert [search["pageNo"] for search in api.searches] == [0, 1, 2]
    # Three search calls: at least two gaps between them.
    assert time.monotonic() - start >= 2 * delay * 0.95


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (httpx.Response(200, text="<html>maintenance</html>"), "not JSON"),
        (httpx.Response(200, json=[]), "not an object"),
        (httpx.Response(200, json={"total": 3}), "'items' missing"),
        (httpx.Response(200, json={"items": [], "total": "many"}), "'total' is not an integer"),
        (httpx.Response(200, json={"items": [{"title": "t"}], "total": 1}), "'newsRefNo' missing"),
        (
            httpx.Response(200, json={"items": [{"newsRefNo": "26PR1"}], "total": 1}),
            "'title' missing",
        ),
        (
            httpx.Response(
                200,
                json={"items": [{"newsRefNo": "1", "title": "t", "issueDate": 5}], "total": 1},
            ),
            "'issueDate' is not a string",
        ),
        (
            httpx.Response(
                200,
                json={"items": [{"newsRefNo": "1", "title": "t", "targetCeList": "x"}], "total": 1},
            ),
            "'targetCeList' is not a list",
        ),
    ],
)
async def test_malformed_search_answers_are_payload_errors(
    serve: Callable[..., Fetcher], answer: httpx.Response, named: str
) -> None:
    fetcher = serve(lambda request: answer)
    with pytest.raises(PayloadError, match=rf"^sfc-news: POST {BASE}/api/news/search.*{named}"):
        await discover(SOURCES["sfc-news"], fetcher)


async def test_search_failure_is_a_fetch_error_naming_the_source(
    serve: Callable[..., Fetcher],
) -> None:
    with pytest.raises(FetchError, match=r"^sfc-circulars: .*/api/circular/search: HTTP 500"):
        await discover(SOURCES["sfc-circulars"], serve(lambda request: httpx.Response(500)))


async def test_unknown_endpoint_is_a_source_error(serve: Callable[..., Fetcher]) -> None:
    source: Source = dataclasses.replace(SOURCES["sfc-news"], options={"endpoint": "guidelines"})
    with pytest.raises(SourceError, match=r"sfc-news: options\.endpoint .*'guidelines'"):
        await discover(source, serve(lambda request: httpx.Response(200, json={})))


async def test_an_item_repeated_on_the_next_page_is_read_once(
    serve: Callable[..., Fetcher],
) -> None:
    source = dataclasses.replace(
        SOURCES["sfc-news"], options={**SOURCES["sfc-news"].options, "page_size": 2}
    )
    pages = [
        [news_item("26PR9", "2026-02-18T10:00:00"), news_item("26PR8", "2026-02-17T10:00:00")],
        # A new release pushed 26PR8 down onto the second page.
        [news_item("26PR8", "2026-02-17T10:00:00"), news_item("26PR7", "2026-02-10T10:00:00")],
    ]
    api = FakeSfc("news", pages, total=50)
    leads = await discover(source, serve(api), since=datetime(2026, 2, 15, tzinfo=HONG_KONG))
    assert [lead.item_id for lead in leads] == ["26PR9", "26PR8", "26PR7"]
    assert api.content_requests == []


def test_the_sfc_host_is_never_asked_faster_than_every_half_second() -> None:
    from pipeline.sources.sfc_api import min_delay_for

    source = SOURCES["sfc-news"]
    hasty = dataclasses.replace(source, options={**source.options, "min_delay": 0.05})
    assert source.urls[0].startswith("https://apps.sfc.hk/")
    assert min_delay_for(hasty, source.urls[0]) == 0.5
    assert min_delay_for(source, source.urls[0]) >= 0.5
    # A local server or a mirror may be read at the pace the source asks for.
    assert min_delay_for(hasty, "http://127.0.0.1:8080/api/news/search") == 0.05
    slower = dataclasses.replace(source, options={**source.options, "min_delay": 2})
    assert min_delay_for(slower, source.urls[0]) == 2.0
