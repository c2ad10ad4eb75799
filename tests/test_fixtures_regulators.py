"""The recorded HKMA and SFC exchanges: complete, well-formed and matching sources.toml.

Everything is read back through ``ReplayTransport`` exactly as a replayed run reads it, so a
missing recording, a malformed body or a page the declared selectors cannot read fails here
rather than in the middle of an ingestion.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from support import REPO

from pipeline.config import load_sources
from pipeline.fetch.replay import ReplayTransport
from pipeline.models import Source

HTTP = REPO / "fixtures" / "http"
HOSTS = ("api.hkma.gov.hk", "www.hkma.gov.hk", "apps.sfc.hk", "www.sfc.hk")
HKT = ZoneInfo("Asia/Hong_Kong")
FIRST_DAY, LAST_DAY = date(2025, 10, 20), date(2025, 11, 20)
MIN_ITEMS = 8
HKMA_API_QUERY = "lang=en&pagesize=100&offset=0"
SFC_SEARCH_BODIES: dict[str, dict[str, Any]] = {
    "news": {
        "lang": "EN",
        "category": "all",
        "year": "all",
        "month": "all",
        "pageNo": 0,
        "pageSize": 20,
        "sort": {"field": "issueDate", "order": "desc"},
    },
    "circular": {
        "lang": "EN",
        "category": "all",
        "year": "all",
        "pageNo": 0,
        "pageSize": 20,
        "sort": {"field": "releasedDate", "order": "desc"},
    },
    "consultation": {
        "lang": "EN",
        "category": "",
        "year": "all",
        "pageNo": 0,
        "pageSize": 20,
        "sort": {"field": "cpIssueDate", "order": "desc"},
    },
}
# Per endpoint: the item's ref field, title field, date field and human-page path.
SFC_FIELDS = {
    "news": ("newsRefNo", "title", "issueDate", "news-and-announcements/news"),
    "circular": ("refNo", "title", "releasedDate", "circular"),
    "consultation": ("cpRefNo", "cpTitle", "cpIssueDate", "consultation"),
}
SFC_BASE = "https://apps.sfc.hk/edistributionWeb"

SOURCES = {s.id: s for s in load_sources(REPO / "sources.toml")}
REGULATOR_IDS = sorted(
    s.id for s in SOURCES.values() if s.id.startswith(("hkma-", "sfc-")) and s.regulator
)


@dataclass(frozen=True)
class Listed:
    """One item as a feed or API lists it, and the URL the ingestion fetches for its body."""

    link: str
    title: str
    when: datetime
    fetch_url: str
    ref: str | None = None


@pytest.fixture(scope="module")
def transport() -> ReplayTransport:
    return ReplayTransport(HTTP)


async def fetch(transport: ReplayTransport, url: str, *, json_body: Any = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport) as client:
        if json_body is None:
            response = await client.get(url)
        else:
            response = await client.post(url, json=json_body)
    assert response.status_code == 200, url
    return response


def parse_rss(response: httpx.Response) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(
        response.content, response_headers={"content-type": response.headers["content-type"]}
    )
    assert not parsed.bozo, (str(response.url), parsed.get("bozo_exception"))
    return parsed


def item_id(source: Source, link: str) -> str:
    assert source.id_pattern is not None, source.id
    match = re.search(source.id_pattern, link)
    assert match is not None, (source.id, link)
    return match.group(1)


async def listing(transport: ReplayTransport, source: Source) -> list[Listed]:
    """The items ``source`` lists, read the way its adapter reads them."""
    url = source.urls[0]
    if source.kind == "hkma_api":
        body = (await fetch(transport, f"{url}?{HKMA_API_QUERY}")).json()
        assert body["header"]["success"] is True
        records = body["result"]["records"]
        assert body["result"]["datasize"] == len(records)
        return [
            Listed(
                r["link"], r["title"], hk_midnight(r["date"]), r["link"], item_id(source, r["link"])
            )
            for r in records
        ]
    if source.kind == "sfc_api":
        endpoint = str(source.options["endpoint"])
        ref_key, title_key, date_key, _ = SFC_FIELDS[endpoint]
        answer = (await fetch(transport, url, json_body=SFC_SEARCH_BODIES[endpoint])).json()
        assert answer["total"] == len(answer["items"]), source.id
        return [
            Listed(
                human_url(endpoint, item[ref_key]),
                item[title_key],
                datetime.fromisoformat(item[date_key]).replace(tzinfo=HKT),
                f"{SFC_BASE}/api/{endpoint}/content?refNo={item[ref_key]}&lang=EN",
                item[ref_key],
            )
            for item in answer["items"]
        ]
    parsed = parse_rss(await fetch(transport, url))
    template = source.options.get("body_url")
    items = []
    for entry in parsed.entries:
        ref = item_id(source, entry.link)
        fetch_url = str(template).format(item_id=ref) if template else entry.link
        items.append(
            Listed(entry.link, entry.title, parsedate_to_datetime(entry.published), fetch_url, ref)
        )
    return items


def hk_midnight(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=HKT)


def human_url(endpoint: str, ref: str) -> str:
    return f"{SFC_BASE}/gateway/EN/{SFC_FIELDS[endpoint][3]}/doc?refNo={ref}"


def own_exchanges() -> list[Path]:
    return sorted(
        path for host in HOSTS for path in (HTTP / host).glob("*.json") if ".body" not in path.name
    )


def test_every_regulator_source_is_covered() -> None:
    assert len(REGULATOR_IDS) == 14, REGULATOR_IDS
    assert all((HTTP / host).is_dir() for host in HOSTS)


def test_every_exchange_loads_and_says_it_is_modelled(transport: ReplayTransport) -> None:
    paths = own_exchanges()
    assert len(paths) >= 13 * MIN_ITEMS
    for path in paths:
        record = json.loads(path.read_text(encoding="utf-8"))
        request, response = record["request"], record["response"]
        found, _ = transport.lookup(request["method"], request["url"], request.get("json"))
        assert found == path, f"{path} is shadowed by {found}"
        assert record.get("note", "").startswith("modelled: "), path
        assert (path.parent / response["body_file"]).stat().st_size > 0, path
        headers = response["headers"]
        assert "charset=" in headers["content-type"].lower(), path
        assert parsedate_to_datetime(headers["date"]).year == 2025, path


@pytest.mark.parametrize("source_id", REGULATOR_IDS)
async def test_listing_parses_newest_first_inside_the_window(
    transport: ReplayTransport, source_id: str
) -> None:
    items = await listing(transport, SOURCES[source_id])
    assert MIN_ITEMS <= len(items) <= 14, (source_id, len(items))
    stamps = [item.when for item in items]
    assert stamps == sorted(stamps, reverse=True), source_id
    for item in items:
        assert item.when.utcoffset() is not None and item.title.strip()
        assert FIRST_DAY <= item.when.astimezone(HKT).date() <= LAST_DAY, (source_id, item)
    refs = [item.ref for item in items]
    assert len(set(refs)) == len(refs), source_id


@pytest.mark.parametrize("source_id", REGULATOR_IDS)
async def test_every_item_body_is_recorded_and_readable(
    transport: ReplayTransport, source_id: str
) -> None:
    source = SOURCES[source_id]
    selectors = source.selectors
    for item in await listing(transport, source):
        response = await fetch(transport, item.fetch_url)
        if source.kind == "sfc_api":
            content = response.json()
            ref_key, title_key, _, _ = SFC_FIELDS[str(source.options["endpoint"])]
            assert content[ref_key] == item.ref and content[title_key] == item.title
            text = HTMLParser(content["html"]).text(separator=" ")
            assert len(text.split()) >= 120, item.ref
            await fetch(transport, item.link)  # the human page is recorded too
            continue
        tree = HTMLParser(response.text)
        for name in ("title", "body", "published"):
            selector = getattr(selectors, name)
            assert selector, (source_id, name)
            node = tree.css_first(selector)
            assert node is not None, (source_id, name, item.fetch_url)
            value = node.attributes.get("content") or node.text(strip=True)
            assert value, (source_id, name, item.fetch_url)
        assert tree.css_first(selectors.title).text(strip=True) == item.title
        assert len(tree.css_first(selectors.body).text(separator=" ").split()) >= 120
        published = tree.css_first(selectors.published)
        if source.kind == "rss" and source_id.startswith("sfc-"):
            stamp = datetime.fromisoformat(published.attributes["content"] or "")
            assert stamp == item.when, item.fetch_url
            await fetch(transport, item.link)  # the human page is recorded too
        else:
            day = item.when.astimezone(HKT).date()
            assert published.text(strip=True) == f"{day.day} {day:%b %Y}", item.fetch_url


async def test_hkma_pages_carry_the_site_chrome_outside_the_body(
    transport: ReplayTransport,
) -> None:
    source = SOURCES["hkma-press"]
    item = (await listing(transport, source))[0]
    tree = HTMLParser((await fetch(transport, item.link)).text)
    page_text = tree.body.text(separator=" ") if tree.body else ""
    body_text = tree.css_first(source.selectors.body or "").text(separator=" ")
    for chrome in ("Share", "Back to top", "Important Notices", "Privacy Policy", "Home"):
        assert chrome in page_text and chrome not in body_text, chrome
    assert tree.css_first("nav.breadcrumb") is not None


async def test_hkma_api_backfill_window_returns_the_november_subset(
    transport: ReplayTransport,
) -> None:
    full = await listing(transport, SOURCES["hkma-press"])
    window_query = "choose=date&from=2025-11-01&to=2025-11-20"
    url = f"{SOURCES['hkma-press'].urls[0]}?{HKMA_API_QUERY}&{window_query}"
    body = (await fetch(transport, url)).json()
    window = body["result"]["records"]
    assert body["header"]["success"] is True and body["result"]["datasize"] == len(window)
    assert len(window) >= MIN_ITEMS
    expected = [i.link for i in full if i.when.date() >= date(2025, 11, 1)]
    assert [r["link"] for r in window] == expected
    assert all(r["date"].startswith("2025-11-") for r in window)


async def test_hkma_press_feed_and_api_list_the_same_releases(transport: ReplayTransport) -> None:
    api = {i.ref: i for i in await listing(transport, SOURCES["hkma-press"])}
    rss = {i.ref: i for i in await listing(transport, SOURCES["hkma-rss-press"])}
    shared = set(api) & set(rss)
    assert len(shared) >= MIN_ITEMS
    for ref in shared:
        assert api[ref].link == rss[ref].link and api[ref].title == rss[ref].title
        assert api[ref].when == rss[ref].when


@pytest.mark.parametrize("source_id", [i for i in REGULATOR_IDS if i.startswith("hkma-rss-")])
async def test_hkma_feeds_have_date_only_pubdates_and_link_guids(
    transport: ReplayTransport, source_id: str
) -> None:
    parsed = parse_rss(await fetch(transport, SOURCES[source_id].urls[0]))
    assert parsed.feed.title.startswith("HKMA: ")
    for entry in parsed.entries:
        assert entry.published.endswith("00:00:00 +0800"), entry.published
        assert entry.id == entry.link
        assert not entry.get("summary", "")


async def test_sfc_feed_items_are_api_items_with_the_same_text(
    transport: ReplayTransport,
) -> None:
    pairs = {
        "sfc-rss-press": "sfc-news",
        "sfc-rss-circulars": "sfc-circulars",
        "sfc-rss-consultations": "sfc-consultations",
    }
    for rss_id, api_id in pairs.items():
        api = {i.ref: i for i in await listing(transport, SOURCES[api_id])}
        for item in await listing(transport, SOURCES[rss_id]):
            assert item.ref in api, (rss_id, item.ref)
            assert item.link == api[item.ref].link and item.title == api[item.ref].title
            assert item.when == api[item.ref].when.replace(microsecond=0)
            content = (await fetch(transport, api[item.ref].fetch_url)).json()
            page = HTMLParser((await fetch(transport, item.fetch_url)).text)
            newsc = page.css_first(".newsc")
            assert newsc is not None
            assert (
                newsc.text(separator=" ").split()
                == HTMLParser(content["html"]).text(separator=" ").split()
            )


async def test_sfc_answers_carry_enforcement_targets_and_vatp_circulars(
    transport: ReplayTransport,
) -> None:
    news = (
        await fetch(transport, SOURCES["sfc-news"].urls[0], json_body=SFC_SEARCH_BODIES["news"])
    ).json()
    enforcement = [i for i in news["items"] if i["newsType"] == "EF"]
    assert len(enforcement) >= 3
    for item in enforcement:
        assert item["targetCeList"], item["newsRefNo"]
        assert all({"ceName", "lang", "masked"} <= set(t) for t in item["targetCeList"])
    circulars = (
        await fetch(
            transport, SOURCES["sfc-circulars"].urls[0], json_body=SFC_SEARCH_BODIES["circular"]
        )
    ).json()
    assert sum(1 for i in circulars["items"] if i["postDocType"] == 200) >= 2
    for item in circulars["items"]:
        content = (
            await fetch(transport, f"{SFC_BASE}/api/circular/content?refNo={item['refNo']}&lang=EN")
        ).json()
        assert "<ol" in content["html"] and content["postDocType"] == item["postDocType"]


async def test_one_joint_announcement_is_listed_by_both_regulators(
    transport: ReplayTransport,
) -> None:
    hkma = {i.title for i in await listing(transport, SOURCES["hkma-press"])}
    sfc = {i.title for i in await listing(transport, SOURCES["sfc-news"])}
    joint = {t for t in hkma & sfc if t.startswith("SFC and HKMA")}
    assert joint, "no joint SFC/HKMA announcement in both answers"
