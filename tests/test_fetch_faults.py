"""The fault matrix: a real ingestion with three sources, one of them served by a misbehaving
server on 127.0.0.1. For each fault the run record names the source and the fault, the other
sources complete (each stores its new item), and nothing stored before changes.

Waits are short (``FAULT_POLICY``) so each case takes a second or two.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import REPO, prose
from support.fault_site import (
    FaultSite,
    Writer,
    answer,
    endless,
    gzip_bomb,
    redirect_loop,
    reset,
    silent,
    status,
    trickle,
    truncated,
)
from support.local_site import Answer, LocalSite
from support.store import run_record

from pipeline.fetch import FetchPolicy
from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.store import db, schema

FAULT_POLICY = FetchPolicy(
    max_attempts=2,
    backoff_base=0.01,
    backoff_cap=0.05,
    connect_timeout=1.0,
    read_timeout=0.5,
    total_timeout=1.0,
    max_retry_after=2.0,
    source_budget=20.0,
)
RSS = "application/rss+xml; charset=utf-8"
GOOD = ("good-a", "good-b")


def article_html(title: str) -> bytes:
    # Each title gets prose of its own: articles alike in all but their titles would be
    # near-duplicates of one another, and grouped as copies.
    paragraphs = "".join(f"<p>{title}: {paragraph}</p>" for paragraph in prose.paragraphs(title))
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"{paragraphs}</article></body></html>"
    ).encode()


def feed(base: str, items: list[tuple[str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        "<pubDate>Mon, 03 Nov 2025 09:00:00 +0800</pubDate></item>"
        for path, title in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>{base}/</link><description/>{entries}</channel></rss>"
    ).encode()


def hkma_json(base: str, items: list[tuple[str, str]], success: bool = True) -> bytes:
    records = [{"title": t, "link": base + p, "date": "2025-11-03"} for p, t in items]
    return json.dumps(
        {
            "header": {
                "success": success,
                "err_code": "0000" if success else "E0001",
                "err_msg": "No error found" if success else "Service temporarily unavailable",
            },
            "result": {"datasize": len(records), "records": records},
        }
    ).encode()


FAULTY_ITEMS = [("/rel/20251103-1/", "Faulty one"), ("/rel/20251103-2/", "Faulty two")]


@dataclass(frozen=True)
class Fault:
    """What the faulty source's listing does in the second run, and what the record says."""

    kind: str  # "rss" or "hkma_api"
    writer: Callable[[FaultSite], Writer]
    named: str  # a regex the source's error must match


FAULTS: dict[str, Fault] = {
    "http-500": Fault("rss", lambda s: status(500), r"HTTP 500 \(after 2 attempts\)"),
    "http-503-retry-after": Fault(
        "rss", lambda s: status(503, {"retry-after": "1"}), r"HTTP 503 \(after 2 attempts\)"
    ),
    "http-429": Fault(
        "rss", lambda s: status(429, {"retry-after": "0"}), r"HTTP 429 \(after 2 attempts\)"
    ),
    "connection-reset": Fault(
        "rss", lambda s: reset, r"(ReadError|RemoteProtocolError|ConnectError).*after 2 attempts"
    ),
    "read-timeout": Fault("rss", lambda s: silent(30), r"timed out \(ReadTimeout\)"),
    "trickling-body": Fault("rss", lambda s: trickle(), r"total time limit of 1 s"),
    "truncated-body": Fault(
        "rss", lambda s: truncated(b"<rss><channel>", 4000), r"RemoteProtocolError"
    ),
    "gzip-bomb": Fault("rss", lambda s: gzip_bomb(), r"decompression bomb refused"),
    "50mb-body": Fault("rss", lambda s: endless(50), r"body larger than 10485760 bytes"),
    "redirect-loop": Fault("rss", lambda s: redirect_loop("/feed.xml"), r"more than 5 redirects"),
    "html-for-xml": Fault(
        "rss",
        lambda s: answer(b"<html><head><title>Maintenance</title></head><body/></html>"),
        r"HTML page where a feed was expected .*Maintenance.*content-type text/html",
    ),
    "empty-200": Fault("rss", lambda s: answer(b"", RSS), r"empty body where a feed was expected"),
    "malformed-json": Fault(
        "hkma_api",
        lambda s: answer(b'{"header": {"success": tru', "application/json"),
        r"answer is not JSON",
    ),
    "api-success-false": Fault(
        "hkma_api",
        lambda s: answer(hkma_json(s.url, FAULTY_ITEMS, success=False), "application/json"),
        r"ApiError: .*Service temporarily unavailable",
    ),
}


def listing_path(kind: str) -> str:
    return "/feed.xml" if kind == "rss" else "/public/press-releases"


def sources_toml(good: LocalSite, faulty: FaultSite, kind: str) -> str:
    text = "".join(
        f"""
[[source]]
id = "{sid}"
name = "Good {sid}"
kind = "rss"
urls = ["{good.url}/{sid}/feed.xml"]
"""
        for sid in GOOD
    )
    return (
        text
        + f"""
[[source]]
id = "faulty"
name = "Faulty"
kind = "{kind}"
urls = ["{faulty.url}{listing_path(kind)}"]
id_pattern = '/(\\d{{8}}-\\d+)/?$'
"""
    )


def serve_good(site: LocalSite, items: int) -> None:
    for sid in GOOD:
        paths = [(f"/{sid}/{n}.html", f"{sid} story {n}") for n in range(1, items + 1)]
        for path, title in paths:
            site.set(path, Answer(article_html(title)))
        site.set(f"/{sid}/feed.xml", Answer(feed(site.url, paths), content_type=RSS))


def serve_faulty_healthy(site: FaultSite, kind: str) -> None:
    for path, title in FAULTY_ITEMS:
        site.set(path, answer(article_html(title)))
    body = feed(site.url, FAULTY_ITEMS) if kind == "rss" else hkma_json(site.url, FAULTY_ITEMS)
    site.set(listing_path(kind), answer(body, RSS if kind == "rss" else "application/json"))


def snapshot(db_url: str) -> dict[str, tuple[Any, ...]]:
    """Every stored article, column by column, keyed on its natural key."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            columns = schema.Article.__table__.columns
            rows = session.execute(select(*columns)).all()
            return {row.item_key: tuple(row) for row in rows}
    finally:
        engine.dispose()


def run(options: IngestOptions) -> RunOutcome:
    return asyncio.run(run_once(options, fetch_policy=FAULT_POLICY))


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_fault_fails_only_its_source_and_changes_nothing_stored(
    name: str,
    local_site: LocalSite,
    fault_site: FaultSite,
    migrated_db_url: str,
    tmp_path: Path,
) -> None:
    fault = FAULTS[name]
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(local_site, fault_site, fault.kind), encoding="utf-8")
    options = IngestOptions(
        db_url=migrated_db_url,
        sources_path=sources,
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=REPO / "alerts.toml",
    )
    serve_good(local_site, items=2)
    serve_faulty_healthy(fault_site, fault.kind)
    first = run(options)
    assert first.status == "completed", first.as_dict()
    assert {sid: r.new for sid, r in first.reports.items()} == {
        "good-a": 2,
        "good-b": 2,
        "faulty": 2,
    }
    before = snapshot(migrated_db_url)

    serve_good(local_site, items=3)
    fault_site.set(listing_path(fault.kind), fault.writer(fault_site))
    fault_site.server.requests.clear()
    started = time.monotonic()
    second = run(options)
    elapsed = time.monotonic() - started

    assert second.status == "completed_with_errors", second.as_dict()
    engine = db.make_engine(migrated_db_url)
    try:
        with Session(engine) as session:
            record = run_record(session, second.run_id or 0)
    finally:
        engine.dispose()
    by_source = {row.source_id: row for row in record.sources}
    failed = by_source["faulty"]
    assert failed.status == "failed"
    assert failed.error is not None and failed.error.startswith("source 'faulty': ")
    assert re.search(fault.named, failed.error), failed.error
    for sid in GOOD:
        assert by_source[sid].status == "ok", by_source[sid].error
        assert (by_source[sid].new, by_source[sid].errors) == (1, 0)

    after = snapshot(migrated_db_url)
    assert {key: after[key] for key in before} == before
    assert len(after) == len(before) + 2
    # None of the faulty source's pages was asked for again: its listing failed first.
    assert all(fault_site.asked(path) == 0 for path, _ in FAULTY_ITEMS)
    if name == "http-503-retry-after":
        assert fault_site.asked("/feed.xml") == 2
        assert elapsed >= 1.0  # the second attempt waited the second Retry-After asked for


def test_a_source_over_its_time_budget_fails_and_the_others_complete(
    local_site: LocalSite, fault_site: FaultSite, migrated_db_url: str, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.toml"
    text = sources_toml(local_site, fault_site, "rss") + "[source.options]\ntime_budget = 0.5\n"
    sources.write_text(text, encoding="utf-8")
    serve_good(local_site, items=2)
    # Each answer asks for a second's wait: the budget ends the retries before the first one.
    fault_site.set("/feed.xml", status(503, {"retry-after": "1"}))
    policy = dataclasses.replace(FAULT_POLICY, max_attempts=10)
    options = IngestOptions(
        db_url=migrated_db_url,
        sources_path=sources,
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=REPO / "alerts.toml",
    )
    started = time.monotonic()
    outcome = asyncio.run(run_once(options, fetch_policy=policy))
    assert time.monotonic() - started < 10
    error = outcome.reports["faulty"].error or ""
    assert error.startswith("source 'faulty': BudgetExceeded: faulty: ")
    assert "time budget of 0.5 s" in error and "HTTP 503" in error
    assert fault_site.asked("/feed.xml") == 1
    assert [outcome.reports[sid].new for sid in GOOD] == [2, 2]
