"""The whole ingestion on the recorded fixtures, on SQLite and Postgres, without Prefect.

The flow test (test_flow.py) runs the same stages as a real Prefect flow run; these tests cover
what a run stores, what a second run does not, and how a broken source is recorded.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support import REPO
from support.store import run_record

from pipeline.config import load_sources
from pipeline.errors import ConfigError
from pipeline.fetch import ReplayTransport
from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.store import db, repo, schema
from pipeline.store.search import search_articles

FIXTURES = REPO / "fixtures" / "http"
HONG_KONG = ZoneInfo("Asia/Hong_Kong")
SEED_000_FIRST = "Eric Jing, Chairman of Ant Group, reaffirmed the company’s commitment"
SEED_000_LAST = "In October, Hong Kong launched the GoGlobal Task Force"
SEED_002_TITLE = "Hong Kong's Emerging AI-Crypto Ecosystem"


def options(db_url: str, replay: Path = FIXTURES, **overrides: object) -> IngestOptions:
    values: dict[str, object] = {
        "db_url": db_url,
        "sources_path": REPO / "sources.toml",
        "taxonomy_path": REPO / "taxonomy.toml",
        "alerts_path": overrides.pop("alerts_path", None) or REPO / "alerts.toml",
        "replay": replay,
    }
    values.update(overrides)
    return IngestOptions(**values)  # type: ignore[arg-type]


@pytest.fixture
def alerts_file(tmp_path: Path) -> Path:
    """An alerts.toml writing its JSONL file inside the test's directory."""
    path = tmp_path / "alerts.toml"
    path.write_text(
        '[[rule]]\nid = "regulator-new-item"\nregulator = true\nchannels = ["jsonl"]\n'
        f'[[channel]]\nid = "jsonl"\nkind = "jsonl"\npath = "{tmp_path / "alerts.jsonl"}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def first_run(migrated_db_url: str, alerts_file: Path) -> tuple[str, RunOutcome]:
    import asyncio

    outcome = asyncio.run(run_once(options(migrated_db_url, alerts_path=alerts_file)))
    return migrated_db_url, outcome


def count(db_url: str, table: type[schema.Base]) -> int:
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)
    finally:
        engine.dispose()


def test_first_run_reads_every_source(first_run: tuple[str, RunOutcome]) -> None:
    _, outcome = first_run
    assert outcome.status == "completed", outcome.as_dict()
    enabled = [s.id for s in load_sources(REPO / "sources.toml") if s.enabled]
    assert sorted(outcome.reports) == sorted(enabled)
    for source_id, report in outcome.reports.items():
        assert report.error is None, (source_id, report.error)
        assert report.errors == 0, (source_id, report.item_errors)
        assert report.found >= 8, source_id
        assert report.new + report.duplicates == report.found, source_id
    assert sum(r.duplicates for r in outcome.reports.values()) >= 5
    assert outcome.alerts_queued > 0
    assert outcome.delivery is not None and outcome.delivery.sent == outcome.alerts_queued


def test_seed_000_is_stored_clean_dated_and_tagged(first_run: tuple[str, RunOutcome]) -> None:
    db_url, _ = first_run
    engine = db.make_engine(db_url)
    with Session(engine) as session:
        hits = search_articles(session, entity="Ant Group", limit=100)
    engine.dispose()
    seed = [hit for hit in hits if hit.text.startswith(SEED_000_FIRST)]
    assert len(seed) == 1, [hit.title for hit in hits]
    article = seed[0]
    assert article.source_id == "fintechnews-hk"
    assert SEED_000_LAST in article.text
    for chrome in ("Featured image credit", "Share", "Related", "Comment", "Subscribe"):
        assert chrome not in article.text, chrome
    assert article.published_at is not None
    assert article.published_at.astimezone(HONG_KONG).date() == date(2025, 11, 3)
    names = {tag[1] for tag in article.tags}
    ids = {tag[0] for tag in article.tags}
    for expected in ("Ant Group", "Eric Jing", "Hong Kong Fintech Week"):
        assert expected in names, (expected, sorted(names))
    assert "hkma" in ids, sorted(ids)


def test_seed_002_carries_regulators_and_topics(first_run: tuple[str, RunOutcome]) -> None:
    db_url, _ = first_run
    engine = db.make_engine(db_url)
    with Session(engine) as session:
        hits = search_articles(session, source="ainvest", limit=100)
    engine.dispose()
    [seed] = [hit for hit in hits if hit.title.startswith(SEED_002_TITLE)]
    ids = {tag[0] for tag in seed.tags}
    for expected in ("sfc", "hkma", "stablecoins", "tokenisation"):
        assert expected in ids, (expected, sorted(ids))
    assert "BTC--" not in seed.text and "Comentarios" not in seed.text


def test_api_and_rss_release_is_one_article(first_run: tuple[str, RunOutcome]) -> None:
    db_url, _ = first_run
    engine = db.make_engine(db_url)
    with Session(engine) as session:
        rows = session.execute(
            select(schema.Sighting.article_id, func.count(func.distinct(schema.Sighting.source_id)))
            .join(schema.Article, schema.Article.id == schema.Sighting.article_id)
            .where(schema.Article.item_key.like("hkma-press:%"))
            .group_by(schema.Sighting.article_id)
        ).all()
    engine.dispose()
    assert rows, "no HKMA press release stored"
    assert sum(1 for _, sources in rows if sources >= 2) >= 8


def test_second_run_adds_nothing_and_alerts_nothing(
    first_run: tuple[str, RunOutcome], alerts_file: Path
) -> None:
    import asyncio

    db_url, first = first_run
    articles, alerts = count(db_url, schema.Article), count(db_url, schema.AlertRow)
    lines = (alerts_file.parent / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == first.alerts_queued
    assert all(json.loads(line)["source"].startswith(("hkma", "sfc")) for line in lines)

    second = asyncio.run(run_once(options(db_url, alerts_path=alerts_file)))
    assert second.status == "completed"
    assert second.new_article_ids == [] and second.alerts_queued == 0
    assert all(r.new == 0 for r in second.reports.values())
    assert count(db_url, schema.Article) == articles
    assert count(db_url, schema.AlertRow) == alerts
    again = (alerts_file.parent / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert again == lines


def broken_copy(tmp_path: Path, url: str, body: bytes, status: int | None = None) -> Path:
    """A copy of the fixtures where the exchange for ``url`` answers ``body`` instead."""
    root = tmp_path / "http"
    shutil.copytree(FIXTURES, root)
    path, record = ReplayTransport(root).lookup("GET", url)
    (path.parent / record["response"]["body_file"]).write_bytes(body)
    if status is not None:
        record["response"]["status"] = status
        path.write_text(json.dumps(record), encoding="utf-8")
    return root


def stored_run(db_url: str, run_id: int) -> repo.RunRecord:
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            return run_record(session, run_id)
    finally:
        engine.dispose()


def test_feed_that_is_not_xml_fails_only_its_source(
    first_run: tuple[str, RunOutcome], tmp_path: Path, alerts_file: Path
) -> None:
    import asyncio

    db_url, _ = first_run
    articles = count(db_url, schema.Article)
    feed = "https://fintechnews.hk/feed/"
    replay = broken_copy(tmp_path, feed, b"<html><head><title>Maintenance</title></head></html>")
    outcome = asyncio.run(run_once(options(db_url, replay=replay, alerts_path=alerts_file)))
    assert outcome.status == "completed_with_errors"
    failed = outcome.reports["fintechnews-hk"]
    assert failed.error is not None and "fintechnews-hk" in failed.error
    assert "FeedError" in failed.error
    assert all(r.error is None for sid, r in outcome.reports.items() if sid != "fintechnews-hk")
    record = stored_run(db_url, outcome.run_id or 0)
    rows = {row.source_id: row for row in record.sources}
    assert rows["fintechnews-hk"].status == "failed"
    assert "FeedError" in (rows["fintechnews-hk"].error or "")
    assert count(db_url, schema.Article) == articles


def test_api_header_success_false_falls_back_to_the_feed_and_says_so(
    first_run: tuple[str, RunOutcome], tmp_path: Path, alerts_file: Path
) -> None:
    import asyncio

    db_url, _ = first_run
    articles = count(db_url, schema.Article)
    api = "https://api.hkma.gov.hk/public/press-releases?lang=en&pagesize=100&offset=0"
    body = json.dumps(
        {"header": {"success": False, "err_code": "9999", "err_msg": "System busy"}}
    ).encode()
    replay = broken_copy(tmp_path, api, body)
    outcome = asyncio.run(run_once(options(db_url, replay=replay, alerts_path=alerts_file)))
    press = outcome.reports["hkma-press"]
    # The items still arrive, through the feed the source names as its fallback.
    assert press.error is None and press.found == 10
    [note] = press.notes
    assert "API failed" in note and "9999" in note and "rss_press-release.xml" in note
    assert outcome.status == "completed_with_errors"
    record = stored_run(db_url, outcome.run_id or 0)
    rows = {row.source_id: row for row in record.sources}
    assert rows["hkma-press"].status == "ok"
    assert "used the RSS fallback" in (rows["hkma-press"].error or "")
    assert outcome.reports["hkma-rss-press"].error is None
    assert count(db_url, schema.Article) == articles


def test_malformed_sources_file_fails_the_run_and_keeps_the_data(
    first_run: tuple[str, RunOutcome], tmp_path: Path, alerts_file: Path
) -> None:
    import asyncio

    db_url, _ = first_run
    articles = count(db_url, schema.Article)
    bad = tmp_path / "sources.toml"
    bad.write_text(
        (REPO / "sources.toml")
        .read_text(encoding="utf-8")
        .replace('kind = "rss"', 'kind = "rs"', 1),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        asyncio.run(run_once(options(db_url, sources_path=bad, alerts_path=alerts_file)))
    assert str(bad) in str(caught.value) and "field 'kind'" in str(caught.value)
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            [record, _first] = repo.latest_runs(session, limit=2)
    finally:
        engine.dispose()
    assert record.status == "failed"
    assert record.error is not None and record.error.startswith("configuration: ")
    assert "field 'kind'" in record.error
    assert count(db_url, schema.Article) == articles
