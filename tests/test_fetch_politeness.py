"""Politeness through a real ingestion on 127.0.0.1: conditional GET with validators kept in the
database (SQLite and Postgres), the per-source ``conditional = false`` switch, robots.txt, the
User-Agent from settings, and pages in Big5 / GB18030 whatever their headers claim."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import REPO
from support.fault_site import FaultSite, answer, conditional, status
from support.store import run_record
from test_fetch_faults import FAULT_POLICY, article_html, feed

from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.store import db, repo, schema

RSS = "application/rss+xml; charset=utf-8"
ITEMS = [("/news/1.html", "First story"), ("/news/2.html", "Second story")]


@pytest.fixture
def site(fault_site: FaultSite) -> FaultSite:
    """A server whose feed honours If-None-Match; stopped after the test."""
    return fault_site


def options(site: FaultSite, db_url: str, tmp_path: Path, extra: str = "") -> IngestOptions:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f"""
[[source]]
id = "news"
name = "News"
kind = "rss"
urls = ["{site.url}/feed.xml"]
{extra}
""",
        encoding="utf-8",
    )
    return IngestOptions(
        db_url=db_url,
        sources_path=sources,
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=REPO / "alerts.toml",
    )


def serve(site: FaultSite, items: list[tuple[str, str]] = ITEMS) -> None:
    for path, title in items:
        site.set(path, answer(article_html(title)))
    site.set("/feed.xml", conditional(feed(site.url, items), '"v1"'))


def run(opts: IngestOptions) -> RunOutcome:
    return asyncio.run(run_once(opts, fetch_policy=FAULT_POLICY))


def validators(db_url: str, url: str) -> repo.Validators | None:
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            return repo.fetch_state_get(session, url)
    finally:
        engine.dispose()


def test_second_run_sends_the_stored_etag_and_downloads_nothing(
    site: FaultSite, migrated_db_url: str, tmp_path: Path
) -> None:
    serve(site)
    opts = options(site, migrated_db_url, tmp_path)
    first = run(opts)
    assert (first.status, first.reports["news"].new) == ("completed", 2)
    stored = validators(migrated_db_url, f"{site.url}/feed.xml")
    assert stored is not None
    assert (stored.etag, stored.last_modified, stored.last_status) == (
        '"v1"',
        "Mon, 03 Nov 2025 01:00:00 GMT",
        200,
    )

    site.server.requests.clear()
    second = run(opts)
    report = second.reports["news"]
    assert (second.status, report.found, report.new, report.error) == ("completed", 0, 0, None)
    [feed_request] = site.headers_of("/feed.xml")
    assert feed_request["if-none-match"] == '"v1"'
    assert feed_request["if-modified-since"] == "Mon, 03 Nov 2025 01:00:00 GMT"
    # robots.txt once per run (a 404: all allowed), a 304 for the feed, and no page again.
    assert [path for _, path, _ in site.server.requests] == ["/robots.txt", "/feed.xml"]


def test_conditional_false_reads_the_feed_in_full_every_time(
    site: FaultSite, migrated_db_url: str, tmp_path: Path
) -> None:
    serve(site)
    opts = options(site, migrated_db_url, tmp_path, "[source.options]\nconditional = false")
    assert run(opts).reports["news"].new == 2
    assert validators(migrated_db_url, f"{site.url}/feed.xml") is None
    site.server.requests.clear()
    report = run(opts).reports["news"]
    assert (report.found, report.new, report.duplicates) == (2, 0, 2)
    [feed_request] = site.headers_of("/feed.xml")
    assert "if-none-match" not in feed_request
    # Stored items are still not downloaded again.
    assert site.asked("/news/1.html") == 0


def test_validators_wait_until_every_item_of_the_source_is_stored(
    site: FaultSite, migrated_db_url: str, tmp_path: Path
) -> None:
    serve(site)
    site.set("/news/2.html", status(404))
    opts = options(site, migrated_db_url, tmp_path)
    first = run(opts)
    assert (first.reports["news"].new, first.reports["news"].errors) == (1, 1)
    # Kept now, a 304 next run would hide the item that failed.
    assert validators(migrated_db_url, f"{site.url}/feed.xml") is None

    site.set("/news/2.html", answer(article_html("Second story")))
    second = run(opts)
    assert (second.reports["news"].found, second.reports["news"].new) == (2, 1)
    assert validators(migrated_db_url, f"{site.url}/feed.xml") is not None


def test_robots_disallowed_pages_are_skipped_recorded_and_never_requested(
    site: FaultSite, migrated_db_url: str, tmp_path: Path
) -> None:
    items = [*ITEMS, ("/private/3.html", "Members only")]
    serve(site, items)
    site.set(
        "/robots.txt",
        answer(b"User-agent: *\nDisallow: /private/\n", "text/plain"),
    )
    outcome = run(options(site, migrated_db_url, tmp_path))
    report = outcome.reports["news"]
    assert (report.found, report.new, report.errors, report.error) == (3, 2, 0, None)
    assert report.skipped and "/private/3.html" in report.skipped[0]
    assert site.asked("/private/3.html") == 0
    assert site.asked("/robots.txt") == 1
    engine = db.make_engine(migrated_db_url)
    try:
        with Session(engine) as session:
            [row] = run_record(session, outcome.run_id or 0).sources
    finally:
        engine.dispose()
    assert row.error is not None
    assert "1 URL(s) skipped, disallowed by robots.txt" in row.error
    assert "/private/3.html" in row.error


def test_a_disallowed_feed_fails_its_source_without_a_request(
    site: FaultSite, migrated_db_url: str, tmp_path: Path
) -> None:
    serve(site)
    site.set("/robots.txt", answer(b"User-agent: newswatch\nDisallow: /\n", "text/plain"))
    outcome = run(options(site, migrated_db_url, tmp_path))
    error = outcome.reports["news"].error or ""
    assert "RobotsDisallowed" in error and "/feed.xml" in error and "not fetched" in error
    assert site.asked("/feed.xml") == 0


def test_user_agent_names_the_contact_from_settings(
    site: FaultSite, migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSWATCH_USER_AGENT", raising=False)
    monkeypatch.setenv("NEWSWATCH_CONTACT", "desk@example.hk")
    serve(site)
    run(options(site, migrated_db_url, tmp_path))
    agents = {headers["user-agent"] for _, _, headers in site.server.requests}
    assert len(agents) == 1
    assert "desk@example.hk" in agents.pop()


BIG5_TEXT = "香港金融管理局今日宣布，穩定幣發行人發牌制度正式實施。" * 6
GB_TEXT = "香港金融管理局今日宣布，稳定币发行人发牌制度正式实施。" * 6


@pytest.mark.parametrize(
    ("encoded", "content_type", "meta", "expected"),
    [
        # The header says UTF-8; the bytes are Big5: the detector decides.
        (BIG5_TEXT.encode("big5"), "text/html; charset=utf-8", "", BIG5_TEXT),
        # Declared right in the header, Big5-HKSCS superset.
        (BIG5_TEXT.encode("big5hkscs"), "text/html; charset=big5", "", BIG5_TEXT),
        # No header charset; <meta> says GB2312, read as its superset GB18030.
        (GB_TEXT.encode("gb18030"), "text/html", '<meta charset="gb2312">', GB_TEXT),
    ],
    ids=["wrong-header-big5", "big5-header", "gb2312-meta"],
)
def test_chinese_pages_are_stored_as_written_whatever_they_declare(
    site: FaultSite,
    migrated_db_url: str,
    tmp_path: Path,
    encoded: bytes,
    content_type: str,
    meta: str,
    expected: str,
) -> None:
    head = f"<html><head>{meta}<title>".encode()
    paragraphs = b"".join(b"<p>" + encoded + b"</p>" for _ in range(3))
    page = head + b"x</title></head><body><article><h1>x</h1>" + paragraphs + b"</article>"
    site.set("/news/1.html", answer(page + b"</body></html>", content_type))
    site.set("/feed.xml", answer(feed(site.url, ITEMS[:1]), RSS))
    outcome = run(options(site, migrated_db_url, tmp_path))
    assert outcome.reports["news"].new == 1, outcome.as_dict()
    engine = db.make_engine(migrated_db_url)
    try:
        with Session(engine) as session:
            text = session.scalar(select(schema.Article.text))
    finally:
        engine.dispose()
    # Cleaning folds full-width punctuation; the characters themselves must be intact.
    assert text is not None and expected[:11] in text and expected[12:26] in text
    assert "\ufffd" not in text


def listing_for(kind: str, base: str) -> tuple[str, bytes, str, str]:
    """(path, body, content type, sources.toml lines) of a listing of ITEMS for ``kind``."""
    links = [(base + path, title) for path, title in ITEMS]
    if kind == "hkma_api":
        records = [{"title": t, "link": u, "date": "2025-11-03"} for u, t in links]
        body = json.dumps(
            {
                "header": {"success": True, "err_code": "0000", "err_msg": "No error found"},
                "result": {"datasize": len(records), "records": records},
            }
        )
        return "/api/press-releases", body.encode(), "application/json", ""
    if kind == "sitemap":
        entries = "".join(
            f"<url><loc>{u}</loc><news:news><news:publication><news:name>Daily</news:name>"
            "<news:language>en</news:language></news:publication>"
            "<news:publication_date>2025-11-03T09:00:00+08:00</news:publication_date>"
            f"<news:title>{t}</news:title></news:news></url>"
            for u, t in links
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"{entries}</urlset>"
        )
        return "/sitemap_news.xml", body.encode(), "application/xml", ""
    cards = "".join(f'<div class="card"><a href="{u}">{t}</a></div>' for u, t in links)
    body = f"<!doctype html><html><head><title>News</title></head><body>{cards}</body></html>"
    selectors = '[source.selectors]\nitem = "div.card"\nlink = "a"'
    return "/news/", body.encode(), "text/html; charset=utf-8", selectors


@pytest.mark.parametrize("kind", ["hkma_api", "sitemap", "html_index"])
def test_an_unchanged_listing_of_any_kind_costs_a_304(
    kind: str, site: FaultSite, migrated_db_url: str, tmp_path: Path
) -> None:
    path, body, content_type, selectors = listing_for(kind, site.url)
    for page_path, title in ITEMS:
        site.set(page_path, answer(article_html(title)))
    site.set(path, conditional(body, '"list-1"', content_type))
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nid = "listing"\nname = "Listing"\nkind = "{kind}"\n'
        f'urls = ["{site.url}{path}"]\n{selectors}\n',
        encoding="utf-8",
    )
    opts = IngestOptions(
        db_url=migrated_db_url,
        sources_path=sources,
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=REPO / "alerts.toml",
    )
    first = run(opts)
    assert (first.status, first.reports["listing"].new) == ("completed", 2), first.as_dict()
    site.server.requests.clear()
    second = run(opts)
    report = second.reports["listing"]
    assert (second.status, report.found, report.new, report.error) == ("completed", 0, 0, None)
    [asked] = [headers for _, p, headers in site.server.requests if p.startswith(path)]
    assert asked["if-none-match"] == '"list-1"'
    assert all(site.asked(page_path) == 0 for page_path, _ in ITEMS)
