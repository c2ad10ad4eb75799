"""HKMA releases through the whole ingestion against a real local server: one article per release
whether it came by API or RSS, and the RSS fallback when the API is down."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import REPO
from support.local_site import Answer, LocalSite, json_answer
from support.store import count_articles

from pipeline.fetch import FetchPolicy
from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.store import db, schema

API = "/public/press-releases"
API_QUERY = f"{API}?lang=en&pagesize=100&offset=0"
FEED = "/eng/other-information/rss/rss_press-release.xml"
RELEASES = [
    (date(2025, 11, 12), 5, "HKMA and SFC issue joint statement on tokenised products"),
    (date(2025, 11, 10), 2, "Stablecoin issuer licensing: first licences granted"),
    (date(2025, 11, 3), 1, "Hong Kong Fintech Week 2025 opens"),
]
SELECTORS = """[source.selectors]
title = "#content h1"
body = "#content .template-content-area"
published = "#content .content-date"
"""


def release_path(day: date, seq: int) -> str:
    return f"/eng/news-and-media/press-releases/{day:%Y/%m}/{day:%Y%m%d}-{seq}/"


def page(title: str, day: date) -> Answer:
    paragraphs = "".join(
        f"<p>{sentence} The Hong Kong Monetary Authority said the measure supports the "
        "development of a safe and sound digital asset ecosystem in Hong Kong.</p>"
        for sentence in (
            f"{title}.",
            "Banks were reminded of their obligations under the supervisory guidance.",
            "The HKMA will continue to work closely with the industry on implementation.",
        )
    )
    html = (
        f"<html><head><title>{title}</title></head><body><div id='content'><h1>{title}</h1>"
        f"<div class='content-date'>{day.day} Nov {day.year}</div>"
        f"<div class='template-content-area'>{paragraphs}</div></div></body></html>"
    )
    return Answer(html.encode())


def api_answer(site: LocalSite, releases: list[tuple[date, int, str]]) -> Answer:
    records = [
        {"title": t, "link": site.url + release_path(d, n), "date": d.isoformat()}
        for d, n, t in releases
    ]
    return json_answer(
        {
            "header": {"success": True, "err_code": "0000", "err_msg": "No error found"},
            "result": {"datasize": len(records), "records": records},
        }
    )


def feed_answer(site: LocalSite, releases: list[tuple[date, int, str]]) -> Answer:
    items = "".join(
        f"<item><title>{t}</title><link>{site.url}{release_path(d, n)}</link>"
        f"<guid>{site.url}{release_path(d, n)}</guid>"
        f"<pubDate>{d:%a, %d %b %Y} 00:00:00 +0800</pubDate></item>"
        for d, n, t in releases
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>HKMA: Press Releases</title><link>{site.url}/</link><description/>"
        f"{items}</channel></rss>"
    )
    return Answer(body.encode(), content_type="application/xml")


def sources_toml(site: LocalSite, *, with_rss_source: bool) -> str:
    text = f"""
[[source]]
id = "hkma-press"
name = "HKMA press releases (API)"
kind = "hkma_api"
urls = ["{site.url}{API}"]
regulator = true
doc_type = "press_release"
id_pattern = '/(\\d{{8}}-\\d+)/?$'
id_namespace = "hkma-press"
[source.options]
fallback_urls = ["{site.url}{FEED}"]
{SELECTORS}"""
    if with_rss_source:
        text += f"""
[[source]]
id = "hkma-rss-press"
name = "HKMA: Press Releases (RSS)"
kind = "rss"
urls = ["{site.url}{FEED}"]
regulator = true
doc_type = "press_release"
id_pattern = '/(\\d{{8}}-\\d+)/?$'
id_namespace = "hkma-press"
{SELECTORS}"""
    return text


@pytest.fixture
def site(local_site: LocalSite) -> LocalSite:
    for day, seq, title in RELEASES:
        local_site.set(release_path(day, seq), page(title, day))
    local_site.set(FEED, feed_answer(local_site, RELEASES))
    return local_site


def options_for(site: LocalSite, db_url: str, tmp_path: Path, *, rss: bool) -> IngestOptions:
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(site, with_rss_source=rss), encoding="utf-8")
    return IngestOptions(
        db_url=db_url,
        sources_path=sources,
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=REPO / "alerts.toml",
    )


def stored(db_url: str) -> dict[str, tuple[str, set[str]]]:
    """item id → (source that stored it, sources that sighted it)."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            articles = session.scalars(select(schema.Article)).all()
            sightings = session.execute(
                select(schema.Sighting.article_id, schema.Sighting.source_id)
            ).all()
            seen: dict[int, set[str]] = {}
            for article_id, source_id in sightings:
                seen.setdefault(article_id, set()).add(source_id)
            return {a.item_id or "": (a.source_id, seen.get(a.id, set())) for a in articles}
    finally:
        engine.dispose()


# A down API is retried a few times before the fallback is read; here the waits are milliseconds.
FAST_RETRIES = FetchPolicy(backoff_base=0.001, backoff_cap=0.01)


def run(options: IngestOptions) -> RunOutcome:
    return asyncio.run(run_once(options, fetch_policy=FAST_RETRIES))


def test_a_release_via_api_and_rss_is_one_article(
    site: LocalSite, migrated_db_url: str, tmp_path: Path
) -> None:
    site.set(API_QUERY, api_answer(site, RELEASES))
    outcome = run(options_for(site, migrated_db_url, tmp_path, rss=True))
    assert outcome.status == "completed", outcome.as_dict()
    api, rss = outcome.reports["hkma-press"], outcome.reports["hkma-rss-press"]
    assert (api.found, api.new) == (3, 3)
    assert (rss.found, rss.new, rss.duplicates) == (3, 0, 3)
    articles = stored(migrated_db_url)
    assert set(articles) == {"20251112-5", "20251110-2", "20251103-1"}
    for source_id, sighted_by in articles.values():
        assert source_id == "hkma-press"
        assert sighted_by == {"hkma-press", "hkma-rss-press"}
    # Each release page was downloaded once, whichever source listed it.
    for day, seq, _ in RELEASES:
        assert site.asked(prefix=release_path(day, seq)) == [release_path(day, seq)]


def test_api_down_the_feed_is_read_and_the_run_says_so(
    site: LocalSite, migrated_db_url: str, tmp_path: Path
) -> None:
    site.set(API_QUERY, Answer(b"<html>502 Bad Gateway</html>", 502))
    options = options_for(site, migrated_db_url, tmp_path, rss=False)
    outcome = run(options)
    report = outcome.reports["hkma-press"]
    assert report.error is None and report.status == "ok"
    assert (report.found, report.new) == (3, 3)
    [note] = report.notes
    assert "API failed" in note and "502" in note and FEED in note
    # The operator sees it: the run is not a clean one, and its record carries the note.
    assert outcome.status == "completed_with_errors"
    engine = db.make_engine(migrated_db_url)
    with Session(engine) as session:
        recorded = session.scalars(
            select(schema.RunSource.error).where(schema.RunSource.run_id == outcome.run_id)
        ).one()
    engine.dispose()
    assert recorded is not None and "used the RSS fallback" in recorded
    assert set(stored(migrated_db_url)) == {"20251112-5", "20251110-2", "20251103-1"}

    # The API is back with one more release: the three fallback items are not stored twice.
    newer = (date(2025, 11, 14), 3, "HKMA publishes the GenAI Sandbox cohort")
    site.set(release_path(newer[0], newer[1]), page(newer[2], newer[0]))
    site.set(API_QUERY, api_answer(site, [newer, *RELEASES]))
    back = run(options)
    report = back.reports["hkma-press"]
    assert back.status == "completed" and report.notes == []
    assert (report.found, report.new, report.duplicates) == (4, 1, 3)
    assert len(stored(migrated_db_url)) == 4


def test_api_and_fallback_both_down_is_one_source_error_naming_both(
    site: LocalSite, migrated_db_url: str, tmp_path: Path
) -> None:
    site.set(API_QUERY, Answer(b"down", 503, "text/plain"))
    site.set(FEED, Answer(b"<html><title>Maintenance</title></html>"))
    outcome = run(options_for(site, migrated_db_url, tmp_path, rss=False))
    error = outcome.reports["hkma-press"].error or ""
    assert "503" in error and "fallback feed" in error and "HTML page" in error
    assert outcome.status == "failed"
    engine = db.make_engine(migrated_db_url)
    with Session(engine) as session:
        assert count_articles(session) == 0
    engine.dispose()


def test_api_and_fallback_both_unreachable_is_a_fetch_error(
    site: LocalSite, migrated_db_url: str, tmp_path: Path
) -> None:
    # A network fault on both: the flow's retry condition (FetchError) applies.
    site.set(API_QUERY, Answer(b"down", 503, "text/plain"))
    site.set(FEED, Answer(b"down", 502, "text/plain"))
    outcome = run(options_for(site, migrated_db_url, tmp_path, rss=False))
    error = outcome.reports["hkma-press"].error or ""
    assert error.startswith("source 'hkma-press': FetchError: ")
    assert "503" in error and "502" in error and "fallback feed" in error
