"""SFC items through the whole ingestion against a real local server: only new items are read in
full, and an item whose ``modificationTime`` moves is read again and updated in place."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support import REPO, prose
from support.local_site import Answer, LocalSite, json_answer

from pipeline.ingest import IngestOptions, RunOutcome, changed_since, run_once
from pipeline.store import db, repo, schema

SEARCH = "/edistributionWeb/api/news/search"
PARAGRAPHS = (
    "The Securities and Futures Commission has reprimanded and fined {firm} for failures in "
    "its anti-money laundering controls over client deposits received through third parties.",
    "The SFC found that between 2022 and 2024 the firm did not verify the source of funds of "
    "clients who deposited virtual assets and did not keep adequate records of its reviews.",
    "In deciding the disciplinary sanction, the SFC took into account that the firm cooperated "
    "in resolving the concerns and has engaged an independent reviewer to assess its controls.",
)


def sources_toml(site: LocalSite) -> str:
    return f"""
[[source]]
id = "sfc-news"
name = "SFC news (local)"
kind = "sfc_api"
urls = ["{site.url}{SEARCH}"]
regulator = true
doc_type = "press_release"
[source.options]
endpoint = "news"
api_lang = "EN"
page_size = 20
min_delay = 0.001
"""


def item(ref: str, issued: str, modified: str, firm: str, **extra: Any) -> dict[str, Any]:
    return {
        "newsRefNo": ref,
        "title": f"SFC reprimands and fines {firm}",
        "newsType": "EF",
        "issueDate": issued,
        "modificationTime": modified,
        "targetCeList": [
            {"ceName": firm, "lang": "EN", "masked": False},
            {"ceName": "(name withheld)", "lang": "EN", "masked": True},
        ],
        **extra,
    }


def content(firm: str, extra: str = "") -> Answer:
    # Prose of its own per firm: releases alike but for a name would be near-duplicates here,
    # where the local URLs carry no SFC reference number to tell them apart.
    own = "".join(f"<p>{paragraph}</p>" for paragraph in prose.paragraphs(firm))
    paragraphs = "".join(f"<p>{p.format(firm=firm)}</p>" for p in PARAGRAPHS)
    html = paragraphs + own + extra + "<p>End</p>"
    return json_answer({"html": html, "lang": "EN"})


def content_path(ref: str) -> str:
    return f"/edistributionWeb/api/news/content?refNo={ref}&lang=EN"


@pytest.fixture
def setup(
    local_site: LocalSite, migrated_db_url: str, tmp_path: Path
) -> tuple[LocalSite, IngestOptions]:
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(local_site), encoding="utf-8")
    alerts = tmp_path / "alerts.toml"
    alerts.write_text(
        '[[rule]]\nid = "regulator-new-item"\nregulator = true\nchannels = ["jsonl"]\n'
        f'[[channel]]\nid = "jsonl"\nkind = "jsonl"\npath = "{tmp_path / "alerts.jsonl"}"\n'
        # Items of 2025 on a first run today: alert them all rather than baseline them.
        '[delivery]\ninitial_window = "0h"\n',
        encoding="utf-8",
    )
    options = IngestOptions(
        db_url=migrated_db_url,
        sources_path=sources,
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts,
    )
    return local_site, options


def publish(site: LocalSite, items: list[dict[str, Any]]) -> None:
    site.set(SEARCH, json_answer({"items": items, "total": len(items)}), method="POST")


def rows(db_url: str) -> dict[str, schema.Article]:
    engine = db.make_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return {a.item_id or "": a for a in session.scalars(select(schema.Article))}
    finally:
        engine.dispose()


def alert_count(db_url: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(schema.AlertRow)) or 0)
    finally:
        engine.dispose()


def versions(db_url: str) -> list[tuple[int, str, str]]:
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            stmt = select(
                schema.ArticleVersion.article_id,
                schema.ArticleVersion.title,
                schema.ArticleVersion.text,
            ).order_by(schema.ArticleVersion.id)
            return [tuple(row) for row in session.execute(stmt)]
    finally:
        engine.dispose()


def run(options: IngestOptions) -> RunOutcome:
    return asyncio.run(run_once(options))


def test_new_items_are_read_known_ones_skipped_changed_ones_updated(
    setup: tuple[LocalSite, IngestOptions],
) -> None:
    site, options = setup
    first = item("25PR120", "2025-11-18T16:53:29.346", "2025-11-18T16:53:29", "Vantorix Exchange")
    second = item("25PR119", "2025-11-17T10:05:00.000", "2025-11-17T10:05:00", "Redcliff Ltd")
    publish(site, [first, second])
    site.set(content_path("25PR120"), content("Vantorix Exchange"))
    site.set(content_path("25PR119"), content("Redcliff Ltd"))

    outcome = run(options)
    report = outcome.reports["sfc-news"]
    assert outcome.status == "completed", outcome.as_dict()
    assert (report.found, report.new, report.updated) == (2, 2, 0)
    # Each new item's body once; the two are fetched concurrently, so in either order.
    assert sorted(site.asked(prefix="/edistributionWeb/api/news/content")) == sorted(
        [content_path("25PR120"), content_path("25PR119")]
    )
    stored = rows(options.db_url)
    assert set(stored) == {"25PR120", "25PR119"}
    article = stored["25PR120"]
    # targetCeList names are the item's entities; masked ones are not names.
    assert article.entities == ["Vantorix Exchange"]
    assert article.doc_type == "enforcement"
    assert article.source_modified == "2025-11-18T16:53:29"
    # A naive issueDate is Hong Kong time: 16:53:29 HKT is 08:53:29 UTC.
    assert article.published_at == datetime(2025, 11, 18, 8, 53, 29, 346000, tzinfo=UTC)
    assert "anti-money laundering" in article.text
    alerts_after_first = alert_count(options.db_url)
    # One alert per story: here, with no SFC reference in the local URLs, the two releases
    # alike but for the firm are one story.
    assert alerts_after_first == len({a.story_id for a in stored.values()})

    # Nothing changed: one search call, no body downloaded again.
    site.requests.clear()
    again = run(options).reports["sfc-news"]
    assert (again.new, again.updated, again.duplicates) == (0, 0, 2)
    assert site.asked(prefix="/edistributionWeb/api/news/content") == []
    assert site.asked("POST") == [SEARCH]

    # The SFC edits 25PR120: a newer modificationTime and a corrected text.
    site.requests.clear()
    edited = {**first, "modificationTime": "2025-11-19T09:00:00", "title": "SFC fines Vantorix"}
    publish(site, [edited, second])
    correction = "<p>This release was amended on 19 November 2025 to correct the fine.</p>"
    site.set(content_path("25PR120"), content("Vantorix Exchange", correction))
    third = run(options).reports["sfc-news"]
    assert (third.new, third.updated, third.duplicates) == (0, 1, 1)
    assert site.asked(prefix="/edistributionWeb/api/news/content") == [content_path("25PR120")]
    stored = rows(options.db_url)
    assert len(stored) == 2
    updated = stored["25PR120"]
    assert updated.id == article.id and updated.first_seen_at == article.first_seen_at
    # Still the same item in the same story: an edit starts no story of its own.
    assert updated.story_id == article.story_id is not None
    assert updated.title == "SFC fines Vantorix"
    assert "amended on 19 November 2025" in updated.text
    assert updated.source_modified == "2025-11-19T09:00:00"
    assert updated.content_hash != article.content_hash
    # An edit is not a new item: no second alert.
    assert alert_count(options.db_url) == alerts_after_first
    # The version the edit replaced is kept.
    assert versions(options.db_url) == [(article.id, article.title, article.text)]

    # The same marker again: not read a fourth time.
    site.requests.clear()
    fourth = run(options).reports["sfc-news"]
    assert (fourth.new, fourth.updated) == (0, 0)
    assert site.asked(prefix="/edistributionWeb/api/news/content") == []


def test_a_body_answer_without_html_is_an_item_error_and_retried_next_run(
    setup: tuple[LocalSite, IngestOptions],
) -> None:
    site, options = setup
    fine = item("25PR118", "2025-11-12T18:00:00", "2025-11-12T18:00:00", "Kaiwan Digital Hub")
    old = item("25PR117", "2025-11-11T18:00:00", "2025-11-11T18:00:00", "Northgate Crypto Ltd")
    publish(site, [fine, old])
    site.set(content_path("25PR118"), content("Kaiwan Digital Hub"))
    site.set(content_path("25PR117"), json_answer({"html": None, "lang": "EN"}))

    report = run(options).reports["sfc-news"]
    assert (report.new, report.errors) == (1, 1)
    assert "holds no 'html' body" in report.item_errors[0]
    assert content_path("25PR117") in report.item_errors[0]
    assert set(rows(options.db_url)) == {"25PR118"}

    site.set(content_path("25PR117"), content("Northgate Crypto Ltd"))
    report = run(options).reports["sfc-news"]
    assert (report.new, report.errors) == (1, 0)
    assert set(rows(options.db_url)) == {"25PR118", "25PR117"}
    assert json.loads(json.dumps(rows(options.db_url)["25PR117"].entities)) == [
        "Northgate Crypto Ltd"
    ]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Answer(b"", content_type="application/json"), "empty body"),
        (json_answer({"html": "", "lang": "EN"}), "holds no 'html' body"),
        (json_answer({"html": "<p></p><div> </div>", "lang": "EN"}), "has no body"),
        (
            json_answer({"html": "<p>This release was withdrawn.</p>", "lang": "EN"}),
            "under a third of the stored",
        ),
    ],
    ids=["empty-answer", "empty-html", "no-text", "much-shorter"],
)
def test_an_update_that_would_destroy_the_stored_version_is_refused(
    setup: tuple[LocalSite, IngestOptions], answer: Answer, reason: str
) -> None:
    site, options = setup
    first = item("25PR121", "2025-11-20T10:00:00", "2025-11-20T10:00:00", "Harbour Gate Ltd")
    other = item("25PR122", "2025-11-20T11:00:00", "2025-11-20T11:00:00", "Lotus Peak Ltd")
    publish(site, [other, first])
    site.set(content_path("25PR121"), content("Harbour Gate Ltd"))
    site.set(content_path("25PR122"), content("Lotus Peak Ltd"))
    run(options)
    before = rows(options.db_url)["25PR121"]
    tags_before = tag_ids(options.db_url, before.id)
    assert len(before.text) > 300 and tags_before

    edited = {**first, "modificationTime": "2025-11-21T09:00:00"}
    publish(site, [other, edited])
    site.set(content_path("25PR121"), answer)
    outcome = run(options)
    report = outcome.reports["sfc-news"]
    assert (report.updated, report.errors) == (0, 1)
    [error] = report.item_errors
    assert "update refused, the stored version is kept" in error and reason in error
    assert report.status == "failed"
    after = rows(options.db_url)["25PR121"]
    assert (after.text, after.title, after.content_hash) == (
        before.text,
        before.title,
        before.content_hash,
    )
    assert tag_ids(options.db_url, after.id) == tags_before
    assert versions(options.db_url) == []
    engine = db.make_engine(options.db_url)
    try:
        with Session(engine) as session:
            [record, *_] = repo.latest_runs(session, limit=1)
    finally:
        engine.dispose()
    [source] = record.sources
    assert source.status == "failed" and "update refused" in (source.error or "")


def tag_ids(db_url: str, article_id: int) -> set[str]:
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            stmt = select(schema.ArticleTag.tag_id).where(
                schema.ArticleTag.article_id == article_id
            )
            return set(session.scalars(stmt))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("marker", "stored", "changed"),
    [
        ("2025-11-19T09:00:00", "2025-11-18T16:53:29", True),
        ("2025-11-18T16:53:29", "2025-11-18T16:53:29", False),
        ("2025-11-17T10:00:00", "2025-11-18T16:53:29", False),
        # Stored before markers were kept (or by a feed without one): read once to keep it.
        ("2025-11-18T16:53:29", None, True),
        # No marker, or one that is not a time: nothing says the item changed.
        (None, "2025-11-18T16:53:29", False),
        ("...", "2025-11-18T16:53:29", False),
    ],
)
def test_changed_since(marker: str | None, stored: str | None, changed: bool) -> None:
    assert changed_since(marker, stored) is changed


def test_an_edit_alerts_once_through_a_rule_that_asks_for_updates(
    setup: tuple[LocalSite, IngestOptions], tmp_path: Path
) -> None:
    site, options = setup
    out = tmp_path / "updates.jsonl"
    alerts = tmp_path / "updates.toml"
    alerts.write_text(
        '[[rule]]\nid = "new-only"\nregulator = true\nchannels = ["jsonl"]\n'
        '[[rule]]\nid = "changes-too"\nregulator = true\nupdates = true\nchannels = ["jsonl"]\n'
        f'[[channel]]\nid = "jsonl"\nkind = "jsonl"\npath = "{out}"\n'
        '[delivery]\ninitial_window = "0h"\n',
        encoding="utf-8",
    )
    options = dataclasses.replace(options, alerts_path=alerts)
    first = item("25PR120", "2025-11-18T16:53:29.346", "2025-11-18T16:53:29", "Vantorix Exchange")
    publish(site, [first])
    site.set(content_path("25PR120"), content("Vantorix Exchange"))
    run(options)
    [new] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # Both rules fired for the new item: one message naming both.
    assert (new["event"], sorted(new["rules"])) == ("new", ["changes-too", "new-only"])

    edited = {**first, "modificationTime": "2025-11-19T09:00:00", "title": "SFC fines Vantorix"}
    publish(site, [edited])
    site.set(content_path("25PR120"), content("Vantorix Exchange", "<p>Amended.</p>"))
    assert run(options).reports["sfc-news"].updated == 1
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    update = lines[1]
    assert (update["event"], update["rules"]) == ("update", ["changes-too"])
    assert update["title"] == "SFC fines Vantorix" and update["story_id"] == new["story_id"]
    assert update["alert_id"] != new["alert_id"]
    # The same version seen again raises nothing more.
    run(options)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
