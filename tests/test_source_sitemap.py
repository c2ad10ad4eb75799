"""The news-sitemap adapter against a real local server: urlsets, indexes (gzipped children),
language and date filters, malformed sitemaps, and a whole ingestion from a sitemap source."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import REPO
from support.local_site import Answer, LocalSite

from pipeline.config import load_sources
from pipeline.errors import PayloadError, SourceError
from pipeline.fetch import Fetcher, FetchPolicy, build_client
from pipeline.ingest import IngestOptions, run_once
from pipeline.models import Source
from pipeline.sources import discover
from pipeline.store import db, schema

# Handler answers stand for one endpoint each (robots.txt is the fetch tests' subject), and
# retried faults wait milliseconds.
NO_ROBOTS = FetchPolicy(respect_robots=False, backoff_base=0.001, backoff_cap=0.01)
XML = "application/xml"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
)


def entry(loc: str, title: str, published: str, lang: str = "en", keywords: str = "") -> str:
    return (
        f"<url><loc>{loc}</loc><news:news><news:publication><news:name>Example Daily"
        f"</news:name><news:language>{lang}</news:language></news:publication>"
        f"<news:publication_date>{published}</news:publication_date>"
        f"<news:title>{title}</news:title><news:keywords>{keywords}</news:keywords>"
        "</news:news></url>"
    )


def urlset(*entries: str) -> Answer:
    return Answer((HEAD + "".join(entries) + "</urlset>").encode(), content_type=XML)


def index(*children: tuple[str, str]) -> Answer:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<sitemap><loc>{u}</loc><lastmod>{m}</lastmod></sitemap>" for u, m in children)
        + "</sitemapindex>"
    )
    return Answer(body.encode(), content_type=XML)


def source(site: LocalSite, path: str = "/sitemap.xml", **options: object) -> Source:
    return Source(
        id="example-news",
        name="Example Daily",
        kind="sitemap",
        urls=(f"{site.url}{path}",),
        options=options,
    )


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with build_client() as client:
        yield Fetcher(client, policy=NO_ROBOTS, polite=False)


@pytest.fixture
def news_site(local_site: LocalSite) -> LocalSite:
    """An index of four daily sitemaps, the newest gzipped, one in Chinese."""
    site = local_site
    u = site.url
    site.set(
        "/sitemap.xml",
        index(
            (f"{u}/news-2025-11-18.xml", "2025-11-18T23:00:00+08:00"),
            (f"{u}/news-2025-11-20.xml.gz", "2025-11-20T21:00:00+08:00"),
            (f"{u}/news-2025-11-19.xml", "2025-11-19T22:00:00+08:00"),
            (f"{u}/news-2025-11-17.xml", "2025-11-17T22:00:00+08:00"),
        ),
    )
    newest = urlset(
        entry(
            f"{u}/a/stablecoin-licences",
            "HKMA grants first stablecoin licences",
            "2025-11-20T18:30:00+08:00",
            keywords="HKMA, stablecoins",
        ),
        entry(
            f"{u}/zh/a/stablecoin",
            "金管局發出首批穩定幣牌照",
            "2025-11-20T18:45:00+08:00",
            lang="zh-tw",
        ),
    )
    site.set("/news-2025-11-20.xml.gz", Answer(gzip.compress(newest.body), content_type=XML))
    site.set(
        "/news-2025-11-19.xml",
        urlset(
            entry(f"{u}/a/ensemble", "Project Ensemble moves to pilot", "2025-11-19T09:00:00Z"),
        ),
    )
    site.set(
        "/news-2025-11-18.xml",
        urlset(
            entry(f"{u}/a/fintech-week", "Fintech Week draws record crowd", "2025-11-18"),
        ),
    )
    site.set(
        "/news-2025-11-17.xml",
        urlset(
            entry(f"{u}/a/old", "An older story", "2025-11-17T10:00:00+08:00"),
        ),
    )
    return site


async def test_index_reads_its_newest_children_gzipped_or_not(
    news_site: LocalSite, fetcher: Fetcher
) -> None:
    leads = await discover(source(news_site), fetcher)
    u = news_site.url
    assert [lead.url for lead in leads] == [
        f"{u}/a/stablecoin-licences",
        f"{u}/zh/a/stablecoin",
        f"{u}/a/ensemble",
        f"{u}/a/fintech-week",
    ]
    first = leads[0]
    assert first.title == "HKMA grants first stablecoin licences"
    assert first.published_at == datetime(2025, 11, 20, 10, 30, tzinfo=UTC)
    assert first.categories == ("HKMA", "stablecoins")
    assert first.guid == first.url and first.source_id == "example-news"
    assert leads[2].published_at == datetime(2025, 11, 19, 9, 0, tzinfo=UTC)
    # A date-only publication date is Hong Kong midnight.
    assert leads[3].published_at is not None
    assert leads[3].published_at.astimezone(UTC) == datetime(2025, 11, 17, 16, 0, tzinfo=UTC)
    # Three children by default: the oldest one is not asked for.
    assert "/news-2025-11-17.xml" not in news_site.asked()


async def test_languages_and_since_filter(news_site: LocalSite, fetcher: Fetcher) -> None:
    chosen = source(news_site, languages=["en"])
    since = datetime(2025, 11, 19)
    leads = await discover(chosen, fetcher, since=since)
    assert [lead.title for lead in leads] == [
        "HKMA grants first stablecoin licences",
        "Project Ensemble moves to pilot",
    ]
    assert "/news-2025-11-18.xml" not in news_site.asked()


async def test_a_plain_urlset_is_read_directly(local_site: LocalSite, fetcher: Fetcher) -> None:
    local_site.set(
        "/news.xml",
        urlset(
            entry(f"{local_site.url}/a/1", "One", "2025-11-20T08:00:00+08:00"),
            "<url><loc></loc></url>",  # no location: skipped
            f"<url><loc>{local_site.url}/a/2</loc><lastmod>2025-11-19</lastmod></url>",
        ),
    )
    leads = await discover(source(local_site, "/news.xml"), fetcher)
    assert [(lead.url.rsplit("/", 1)[1], lead.title) for lead in leads] == [("1", "One"), ("2", "")]
    assert leads[1].published_at is not None


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            Answer(b"<html><body>Not here</body></html>"),
            "HTML page .* where an XML document was expected",
        ),
        (Answer(b"<urlset><url><loc>x</loc></urlset>", content_type=XML), "not well-formed"),
        (Answer(b"   ", content_type=XML), "empty body"),
        (Answer(b"\x1f\x8b\x08garbage", content_type=XML), "does not decompress"),
        (
            Answer(
                b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaa">]><urlset>&a;</urlset>',
                content_type=XML,
            ),
            "declares XML entities",
        ),
    ],
)
async def test_malformed_sitemaps_are_payload_errors_naming_source_and_url(
    local_site: LocalSite, fetcher: Fetcher, answer: Answer, reason: str
) -> None:
    local_site.set("/bad.xml", answer)
    with pytest.raises(PayloadError, match=reason) as caught:
        await discover(source(local_site, "/bad.xml"), fetcher)
    assert str(caught.value).startswith("example-news: ")
    assert f"{local_site.url}/bad.xml" in str(caught.value)


async def test_an_index_of_indexes_is_refused(local_site: LocalSite, fetcher: Fetcher) -> None:
    u = local_site.url
    local_site.set("/sitemap.xml", index((f"{u}/inner.xml", "2025-11-20")))
    local_site.set("/inner.xml", index((f"{u}/deeper.xml", "2025-11-20")))
    with pytest.raises(PayloadError, match="one level deep"):
        await discover(source(local_site), fetcher)
    assert "/deeper.xml" not in local_site.asked()


async def test_bad_options_are_source_errors(local_site: LocalSite, fetcher: Fetcher) -> None:
    with pytest.raises(SourceError, match="max_sitemaps"):
        await discover(source(local_site, max_sitemaps=0), fetcher)
    with pytest.raises(SourceError, match="languages"):
        await discover(source(local_site, languages="en"), fetcher)


def test_sitemap_sources_ingest_end_to_end(
    news_site: LocalSite, migrated_db_url: str, tmp_path: Path
) -> None:
    u = news_site.url
    for path, title in (
        ("/a/stablecoin-licences", "HKMA grants first stablecoin licences"),
        ("/a/ensemble", "Project Ensemble moves to pilot"),
        ("/a/fintech-week", "Fintech Week draws record crowd"),
    ):
        text = (
            f"{title}. The Hong Kong Monetary Authority said on Thursday that the measure "
            "supports a safe and sound digital asset market in Hong Kong and that banks "
            "will take part in the next phase of the programme."
        )
        news_site.set(
            path,
            Answer(
                (
                    f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
                    f"<div class='story'><p>{text}</p><p>{text}</p></div></article></body></html>"
                ).encode()
            ),
        )
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nid = "example-news"\nname = "Example Daily"\nkind = "sitemap"\n'
        f'urls = ["{u}/sitemap.xml"]\n[source.options]\nlanguages = ["en"]\n'
        '[source.selectors]\ntitle = "h1"\nbody = "div.story"\n',
        encoding="utf-8",
    )
    assert [s.kind for s in load_sources(sources)] == ["sitemap"]
    outcome = asyncio.run(
        run_once(
            IngestOptions(
                db_url=migrated_db_url,
                sources_path=sources,
                taxonomy_path=REPO / "taxonomy.toml",
                alerts_path=REPO / "alerts.toml",
            )
        )
    )
    report = outcome.reports["example-news"]
    assert outcome.status == "completed", outcome.as_dict()
    assert (report.found, report.new) == (3, 3)
    engine = db.make_engine(migrated_db_url)
    with Session(engine) as session:
        titles = set(session.scalars(select(schema.Article.title)))
    engine.dispose()
    assert titles == {
        "HKMA grants first stablecoin licences",
        "Project Ensemble moves to pilot",
        "Fintech Week draws record crowd",
    }
