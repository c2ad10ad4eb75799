"""RSS/Atom/JSON Feed parsing over real and ill-formed feeds, and the rss source adapter."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import feedparser
import httpx
import pytest
from support import REPO
from support.shared import SHARED, shared_path

from pipeline.config import load_sources
from pipeline.errors import FeedError, FetchError, SourceError
from pipeline.fetch import Fetcher, FetchPolicy, build_client
from pipeline.models import Source
from pipeline.sources import discover
from pipeline.sources.feeds import SUMMARY_MAX_CHARS, parse_feed
from pipeline.sources.ids import stable_item_id

# Handler answers stand for one endpoint each (robots.txt is the fetch tests' subject), and
# retried faults wait milliseconds.
NO_ROBOTS = FetchPolicy(respect_robots=False, backoff_base=0.001, backoff_cap=0.01)
HONG_KONG = ZoneInfo("Asia/Hong_Kong")
SOURCES = {source.id: source for source in load_sources(REPO / "sources.toml")}
FEED_URL = "https://example.com/feeds/main.xml"

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


def answer(body: bytes | str, content_type: str = "application/rss+xml") -> Handler:
    data = body.encode() if isinstance(body, str) else body
    return lambda request: httpx.Response(200, content=data, headers={"content-type": content_type})


def rss(items: str, channel_title: str = "HKMA: Press Releases") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{channel_title}</title><link>https://www.hkma.gov.hk/</link>"
        f"<description>d</description>{items}</channel></rss>"
    )


def hkma_item(number: str, title: str, day: str = "26") -> str:
    link = (
        f"https://www.hkma.gov.hk/eng/news-and-media/press-releases/2025/09/202509{day}-{number}/"
    )
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Fri, {day} Sep 2025 00:00:00 +0800</pubDate></item>"
    )


# --- the eval corpus ------------------------------------------------------------------------


def corpus(*parts: str) -> Path:
    """A path in the eval feed corpus (``../shared/eval/feeds``); skips the test without it."""
    return shared_path("eval", "feeds", *parts)


def manifest() -> dict[str, dict[str, str]]:
    with corpus("MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle, delimiter="\t")}


def corpus_files() -> list[Path]:
    return sorted(path for path in corpus().rglob("*") if path.is_file())


@pytest.mark.shared
def test_every_eval_file_gives_leads_or_a_feed_error_with_a_reason() -> None:
    rows = manifest()
    files = corpus_files()
    assert len(files) > 300
    parsed = failed = 0
    for path in files:
        relative = path.relative_to(corpus()).as_posix()
        row = rows.get(relative)
        try:
            leads = parse_feed(path.read_bytes(), f"https://example.com/{relative}")
        except FeedError as exc:
            failed += 1
            assert str(exc).strip(), relative
            # A well-formed feed with items must never be refused.
            assert not (row and row["wellformed"] == "True" and int(row["n_items"] or 0)), (
                relative,
                str(exc),
            )
            continue
        parsed += 1
        if row and row["wellformed"] == "True" and row["n_items"]:
            assert len(leads) == int(row["n_items"]), relative
        for lead in leads:
            assert lead.source_id == ""
            assert lead.url == "" or urlsplit(lead.url).scheme in ("http", "https"), relative
            assert len(lead.summary) <= SUMMARY_MAX_CHARS, relative
            assert lead.published_at is None or lead.published_at.tzinfo is not None, relative
    assert parsed > 250 and failed > 60


@pytest.mark.shared
def test_ground_truth_models_are_json_but_not_json_feeds() -> None:
    models = sorted(corpus().rglob("*.serde.json"))
    assert len(models) > 50
    for path in models:
        with pytest.raises(FeedError, match="not a JSON Feed"):
            parse_feed(path.read_bytes(), "https://example.com/model.json")


@pytest.mark.shared
def test_html_files_in_the_corpus_are_named_as_html_pages() -> None:
    pages = sorted(corpus().rglob("*.html"))
    assert pages
    for path in pages:
        with pytest.raises(FeedError, match=r"HTML page where a feed was expected \(<title>"):
            parse_feed(path.read_bytes(), "https://example.com/page.html")


def model_pairs() -> list[tuple[Path, Path]]:
    """(feed, feed-rs model) pairs of the corpus; none when the corpus is absent."""
    pairs = []
    # Read while collecting, where a skip is not allowed: an absent corpus gives no pairs.
    feeds = SHARED / "eval" / "feeds"
    for model in sorted(feeds.glob("feed_rs_fixtures/*/*.serde.json")):
        stem = model.name.removesuffix(".serde.json")
        source = next(
            (
                p
                for p in (model.with_name(stem + ".xml"), model.with_name(stem + ".json"))
                if p.exists()
            ),
            None,
        )
        if source is not None:
            pairs.append((source, model))
    return pairs


def normal_link(link: str, base: str) -> str:
    """A link as both parsers should agree on it: absolute, host in lower case, path at least /."""
    parts = urlsplit(urljoin(base, link))
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path or '/'}?{parts.query}"


def model_pair_params() -> list[object]:
    """The parameters of ``test_feed_matches_the_feed_rs_model``: one per pair, or, without the
    corpus, a single one that skips naming the missing folder (an empty list would skip with
    pytest's own reason)."""
    params: list[object] = [*model_pairs()]
    return params or [pytest.param(None, None, id="corpus-absent")]


@pytest.mark.shared
@pytest.mark.parametrize(
    ("feed", "model"), model_pair_params(), ids=lambda p: p.name if isinstance(p, Path) else str(p)
)
def test_feed_matches_the_feed_rs_model(feed: Path | None, model: Path | None) -> None:
    corpus()  # without the corpus, the one "corpus-absent" case skips here
    assert feed is not None and model is not None
    expected = json.loads(model.read_text(encoding="utf-8"))["entries"]
    base = "https://example.com/feeds/fixture"
    leads = parse_feed(feed.read_bytes(), base)
    assert len(leads) == len(expected)
    for lead, entry in zip(leads, expected, strict=True):
        title = (entry.get("title") or {}).get("content")
        if title is not None:
            assert lead.title == " ".join(title.split())
        links = [link["href"] for link in entry.get("links") or []]
        if links:
            assert normal_link(lead.url, base) == normal_link(links[0], base)


@pytest.mark.shared
def test_model_pairs_cover_every_feed_format() -> None:
    corpus()  # skips, naming the folder, rather than failing on an absent corpus
    folders = {feed.parent.name for feed, _ in model_pairs()}
    assert {"rss0", "rss1", "rss2", "atom", "jsonfeed"} <= folders
    assert len(model_pairs()) >= 50


# --- parse_feed behaviour -------------------------------------------------------------------


@pytest.mark.shared
def test_json_feed_items_become_leads() -> None:
    body = corpus("feed_rs_fixtures/jsonfeed/jsonfeed_example_1.json").read_bytes()
    leads = parse_feed(body, "https://daringfireball.net/feeds/json")
    assert [lead.url for lead in leads] == [
        "https://daringfireball.net/linked/2020/01/24/bezos-iphone-x",
        "https://daringfireball.net/linked/2020/01/20/instagram-for-win95",
    ]
    first = leads[0]
    assert first.title == "How Jeff Bezos’s iPhone X Was Hacked"
    assert first.published_at == datetime.fromisoformat("2020-01-24T23:46:57+00:00")
    assert first.author == "John Gruber"
    assert first.guid == first.url
    assert first.summary.startswith("Good summary from The New York Times.")
    assert "<p>" not in first.summary


@pytest.mark.shared
def test_json_feed_1_1_tags_and_authors() -> None:
    body = corpus("feed_rs_fixtures/jsonfeed/jsonfeed_elastic_1.1.json").read_bytes()
    first = parse_feed(body, "https://www.influxdata.com/blog/feed/json")[0]
    assert first.categories == ("InfluxDB", "Community", "Elasticsearch", "Time Series Database")
    assert first.author == "Chris Churilo"
    assert first.published_at is not None
    assert first.published_at.utcoffset() == timedelta(hours=-7)


@pytest.mark.shared
def test_rss_date_keeps_the_offset_the_feed_gave() -> None:
    body = corpus("feed_rs_fixtures/rss2/rss_2.0_relurl_1.xml").read_bytes()
    first = parse_feed(body, "https://insanity.industries/index.xml")[0]
    assert first.published_at is not None
    assert first.published_at.utcoffset() == timedelta(hours=1)
    assert first.published_at.hour == 23
    # "jonas@insanity.industries (Jonas Große Sundrup)" names the author.
    assert first.author == "Jonas Große Sundrup"


def test_titles_are_unescaped_and_summaries_stripped_and_short() -> None:
    long_text = "word " * 300
    body = rss(
        "<item><title>Fintech&amp;#8217;s  big\n day &amp;amp; more</title>"
        "<link>/news/1</link><category>Fintech</category><category>HKMA</category>"
        "<category>Fintech</category>"
        f"<description><![CDATA[<p>First para.</p><p>Second <b>bold</b> {long_text}</p>"
        "<script>alert(1)</script>]]></description></item>"
    )
    (lead,) = parse_feed(body.encode(), "https://example.com/feeds/main.xml")
    assert lead.title == "Fintech’s big day & more"
    assert lead.url == "https://example.com/news/1"
    assert lead.summary.startswith("First para. Second bold word word")
    assert "<" not in lead.summary and "alert" not in lead.summary
    assert len(lead.summary) <= SUMMARY_MAX_CHARS and lead.summary.endswith("…")
    assert lead.categories == ("Fintech", "HKMA")


def test_guid_url_stands_in_for_a_missing_link() -> None:
    body = rss(
        '<item><title>a</title><guid isPermaLink="false">https://example.com/a</guid></item>'
        '<item><title>b</title><guid isPermaLink="false">tag:example.com,2025:b</guid></item>'
    )
    first, second = parse_feed(body.encode(), FEED_URL)
    assert first.url == "https://example.com/a"
    assert second.url == "" and second.guid == "tag:example.com,2025:b"


def test_an_enclosure_stands_in_for_a_missing_link_never_before_one() -> None:
    body = rss(
        "<item><title>a</title>"
        '<enclosure url="/files/report.pdf" length="1" type="application/pdf"/></item>'
        "<item><title>b</title><link>https://example.com/b</link>"
        '<enclosure url="https://cdn.example.com/b.mp3" length="1" type="audio/mpeg"/></item>'
    )
    first, second = parse_feed(body.encode(), FEED_URL)
    assert first.url == "https://example.com/files/report.pdf"
    assert second.url == "https://example.com/b"


def test_atom_enclosure_links_and_json_feed_attachments_give_a_url() -> None:
    atom = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        "<id>urn:feed</id><updated>2025-11-03T00:00:00Z</updated><entry><title>a</title>"
        "<id>urn:uuid:1</id><updated>2025-11-03T00:00:00Z</updated>"
        '<link rel="enclosure" href="https://example.com/a.pdf" type="application/pdf"/></entry>'
        "</feed>"
    )
    (entry,) = parse_feed(atom.encode(), FEED_URL)
    assert entry.url == "https://example.com/a.pdf"
    json_feed = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "1",'
        ' "title": "a", "attachments": [{"url": "/a.pdf", "mime_type": "application/pdf"}]}]}'
    )
    (item,) = parse_feed(json_feed.encode(), FEED_URL)
    assert item.url == "https://example.com/a.pdf"


@pytest.mark.shared
def test_every_item_of_the_eval_feeds_with_a_link_guid_or_enclosure_has_its_url() -> None:
    """Every entry feedparser finds is a lead, in order, and has a URL unless feedparser sees
    no link, no URL guid and no enclosure in it (such items exist: specification examples)."""
    checked = 0
    for path in corpus_files():
        if path.suffix in (".tsv", ".txt", ".json"):
            continue
        body = path.read_bytes()
        try:
            leads = parse_feed(body, FEED_URL)
        except FeedError:
            continue
        entries = feedparser.parse(io.BytesIO(body)).entries
        assert len(leads) == len(entries), path.name
        for entry, lead in zip(entries, leads, strict=True):
            link = str(entry.get("link") or "")
            has_one = bool(
                (link and urlsplit(link).scheme in ("", "http", "https"))
                or str(entry.get("id") or "").startswith(("http://", "https://"))
                or any(enclosure.get("href") for enclosure in entry.get("enclosures", []))
            )
            assert bool(lead.url) == has_one, (path.name, lead.title, lead.url)
            checked += 1
    assert checked > 700


@pytest.mark.shared
def test_atom_relative_links_resolve_against_the_feed_url() -> None:
    body = corpus("feed_rs_fixtures/atom/atom_relative.xml").read_bytes()
    (lead,) = parse_feed(body, "https://example.org/feeds/atom.xml")
    assert lead.url == "https://example.org/blog/2003/12/13/atom03"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"   \n\t ", "empty body"),
        (
            b"<!DOCTYPE html>\n<html><head><title>Page  Not Found | SFC</title></head>"
            b"<body><h1>404</h1></body></html>",
            r"HTML page where a feed was expected \(<title>Page Not Found \| SFC</title>\)",
        ),
        (b"<html><body>no title</body></html>", r"HTML page .*no <title>"),
        (b'{"items": [], "version": 2}', "JSON that is not a JSON Feed"),
        (b"[1, 2, 3]", "JSON that is not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', 'without an "items" list'),
        (b'{"version": "https://jsonfeed.org/version/1", "items": [', "does not parse"),
        (b"Service Unavailable", "neither XML nor JSON"),
        (b'<?xml version="1.0"?><catalog><book id="1"/></catalog>', r"root element <catalog>"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x', "malformed rss20 feed"),
    ],
)
def test_bodies_that_are_not_feeds_raise_feed_error_with_the_reason(
    body: bytes, reason: str
) -> None:
    with pytest.raises(FeedError, match=reason):
        parse_feed(body, FEED_URL)


def test_a_broken_feed_that_still_has_entries_gives_them() -> None:
    body = rss(hkma_item("6", "Scam alert related to banks") + hkma_item("5", "Launch & more"))
    # "Launch & more" is not well-formed XML (a bare ampersand); the entries still read.
    leads = parse_feed(body.encode(), FEED_URL)
    assert [lead.title for lead in leads] == ["Scam alert related to banks", "Launch & more"]


def test_an_empty_but_valid_feed_is_no_error() -> None:
    assert parse_feed(rss("").encode(), FEED_URL) == []


@pytest.mark.shared
def test_truncated_and_corrupted_feeds_never_raise_anything_but_feed_error() -> None:
    body = corpus("mediacloud_real/real-cnn.rss").read_bytes()
    results = {"leads": 0, "errors": 0}
    for cut in range(0, len(body), max(1, len(body) // 40)):
        for variant in (body[:cut], body[cut:], body[:cut] + b"\x00\xff<&" + body[cut:]):
            try:
                parse_feed(variant, FEED_URL)
                results["leads"] += 1
            except FeedError:
                results["errors"] += 1
    assert results["leads"] > 0 and results["errors"] > 0


# --- the rss adapter through pipeline.sources.discover --------------------------------------


async def test_hkma_rss_items_get_stable_ids_and_hong_kong_dates(
    serve: Callable[[Handler], Fetcher],
) -> None:
    source = SOURCES["hkma-rss-press"]
    body = rss(
        hkma_item("6", "Scam alert related to banks")
        + hkma_item("5", "Launch of cross-boundary bond repurchase business")
        + hkma_item("6", "Scam alert related to banks")  # the same guid twice: one lead
    )
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(200, content=body.encode(), headers={"content-type": "text/xml"})

    leads = await discover(source, serve(handler))
    assert requested == list(source.urls)
    assert [lead.item_id for lead in leads] == ["20250926-6", "20250926-5"]
    first = leads[0]
    assert first.source_id == "hkma-rss-press"
    assert first.doc_type == "press_release"
    assert first.lang == "en"
    assert first.published_at == datetime(2025, 9, 26, tzinfo=HONG_KONG)
    assert first.published_at.utcoffset() == timedelta(hours=8)


async def test_sfc_rss_ids_come_from_the_ref_number_in_the_link(
    serve: Callable[[Handler], Fetcher],
) -> None:
    source = SOURCES["sfc-rss-press"]
    link = "https://apps.sfc.hk/edistributionWeb/gateway/EN/news-and-announcements/news/doc?refNo=26PR27"
    body = rss(
        f"<item><title>Settlement with Sino Wealth</title><link>{link}</link>"
        "<guid>26PR27</guid><pubDate>Mon, 16 Feb 2026 16:53:29 +0800</pubDate>"
        "<description>The SFC has reached a settlement.</description></item>",
        channel_title="SFC press releases",
    )
    (lead,) = await discover(source, serve(answer(body)))
    assert lead.item_id == "26PR27"
    assert lead.guid == "26PR27"
    assert lead.summary == "The SFC has reached a settlement."


@pytest.mark.shared
async def test_feed_without_id_pattern_keeps_item_id_none(
    serve: Callable[[Handler], Fetcher],
) -> None:
    source = SOURCES["fintechnews-hk"]
    body = corpus("feed_rs_fixtures/rss2/rss_2.0_relurl_1.xml").read_bytes()
    leads = await discover(source, serve(answer(body)))
    assert len(leads) == 2
    assert all(lead.item_id is None for lead in leads)
    assert {lead.doc_type for lead in leads} == {"news"}


async def test_html_instead_of_a_feed_names_source_url_and_page(
    serve: Callable[[Handler], Fetcher],
) -> None:
    source = SOURCES["sfc-rss-circulars"]
    page = b"<!doctype html><html><head><title>404 - Page not found</title></head></html>"
    with pytest.raises(FeedError) as caught:
        await discover(source, serve(answer(page, "text/html; charset=utf-8")))
    message = str(caught.value)
    assert message.startswith("sfc-rss-circulars: https://www.sfc.hk/en/RSS-Feeds/Circulars: ")
    assert "HTML page where a feed was expected (<title>404 - Page not found</title>)" in message
    assert "content-type text/html" in message


async def test_empty_200_answer_is_a_feed_error(serve: Callable[[Handler], Fetcher]) -> None:
    with pytest.raises(FeedError, match=r"^coindesk: .*empty body"):
        await discover(SOURCES["coindesk"], serve(answer(b"")))


async def test_http_failure_is_a_fetch_error_naming_the_source(
    serve: Callable[[Handler], Fetcher],
) -> None:
    fetcher = serve(lambda request: httpx.Response(502))
    with pytest.raises(
        FetchError, match=r"^theblock: https://www\.theblock\.co/rss\.xml: HTTP 502"
    ):
        await discover(SOURCES["theblock"], fetcher)


async def test_unknown_kind_names_the_source_and_the_kind(
    serve: Callable[[Handler], Fetcher],
) -> None:
    source = Source(id="odd", name="Odd", kind="gopher", urls=("https://example.com/",))  # type: ignore[arg-type]
    with pytest.raises(SourceError, match=r"odd: .*'gopher'"):
        await discover(source, serve(answer(b"")))


# --- stable ids -----------------------------------------------------------------------------


def test_stable_item_id_tries_link_then_guid_then_own_id() -> None:
    source = SOURCES["sfc-rss-press"]
    assert stable_item_id(source, "https://x/doc?refNo=26PR27", "26PR99") == "26PR27"
    assert stable_item_id(source, "https://x/doc", "https://x/doc?refNo=26PR28") == "26PR28"
    assert stable_item_id(source, "https://x/doc", "guid", "OWN1") == "OWN1"
    assert stable_item_id(source, "https://x/doc", None) is None
    no_pattern = SOURCES["fintechnews-hk"]
    assert stable_item_id(no_pattern, "https://x/doc?refNo=26PR27", None, "REF") == "REF"
