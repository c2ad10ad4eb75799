"""A source that fails several runs in a row is tried less often, never switched off: from the
third failure on it waits 1 h, 2 h, 4 h … (at most 24 h) before its next attempt; a run skips it
meanwhile and records that it did, why and until when; an operator naming it reads it anyway;
a success resets it. Real runs against a real HTTP server on 127.0.0.1, a real database (SQLite
and Postgres)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, inspect, text, update
from sqlalchemy.orm import Session
from support import REPO
from support.feeds import NOT_A_FEED, feed, page, runner
from support.local_site import LocalSite
from support.store import downgrade, run_record
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import RunOutcome
from pipeline.settings import BACKOFF_AFTER_FAILURES, BACKOFF_FIRST_WAIT, BACKOFF_MAX_WAIT
from pipeline.store import db, repo, schema
from pipeline.store.source_state import backoff_wait, hong_kong_time

HONG_KONG = ZoneInfo("Asia/Hong_Kong")

Runner = Callable[..., RunOutcome]


def write_sources(site: LocalSite, directory: Path) -> Path:
    """``flaky`` (its feed broken until a test mends it) and ``calm`` (always fine)."""
    site.set("/flaky.xml", NOT_A_FEED)
    site.set("/calm.xml", feed([f"{site.url}/calm/1.html"]))
    site.set("/calm/1.html", page("calm item"))
    path = directory / "sources.toml"
    path.write_text(
        f'[[source]]\nid = "flaky"\nname = "Flaky"\nkind = "rss"\nurls = ["{site.url}/flaky.xml"]\n'
        f'[[source]]\nid = "calm"\nname = "Calm"\nkind = "rss"\nurls = ["{site.url}/calm.xml"]\n',
        encoding="utf-8",
    )
    return path


def mend(site: LocalSite) -> None:
    site.set("/flaky.xml", feed([f"{site.url}/flaky/1.html"]))
    site.set("/flaky/1.html", page("flaky item"))


@pytest.fixture
def run(migrated_db_url: str, local_site: LocalSite, tmp_path: Path) -> Runner:
    """One run over ``flaky`` and ``calm`` (or the sources ``named``, as ``--source`` does)."""
    return runner(migrated_db_url, write_sources(local_site, tmp_path), tmp_path)


@pytest.fixture
def store(migrated_db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def state(engine: Engine, source_id: str = "flaky") -> repo.SourceState:
    with Session(engine) as session:
        return repo.source_states(session)[source_id]


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def flaky_asked(site: LocalSite) -> int:
    return len(site.asked(prefix="/flaky.xml"))


def test_the_wait_doubles_from_the_third_failure_up_to_a_day() -> None:
    # The numbers operations.md gives.
    assert BACKOFF_AFTER_FAILURES == 3
    assert (BACKOFF_FIRST_WAIT.total_seconds(), BACKOFF_MAX_WAIT.total_seconds()) == (3600, 86400)
    waits = {failures: backoff_wait(failures) for failures in (0, 1, 2, 3, 4, 5, 7, 8, 9, 500)}
    assert waits == {
        0: None,
        1: None,
        2: None,
        3: timedelta(hours=1),
        4: timedelta(hours=2),
        5: timedelta(hours=4),
        7: timedelta(hours=16),
        8: timedelta(hours=24),
        9: timedelta(hours=24),
        500: timedelta(hours=24),
    }


def test_three_failed_runs_back_a_source_off_and_the_next_run_records_the_skip(
    run: Runner, local_site: LocalSite, store: Engine
) -> None:
    for attempt in (1, 2):
        outcome = run()
        assert outcome.reports["flaky"].status == "failed"
        assert (state(store).consecutive_failures, state(store).next_attempt_at) == (attempt, None)
        assert flaky_asked(local_site) == attempt
    before = datetime.now(UTC)
    third = run()
    after = datetime.now(UTC)
    backed_off = state(store)
    assert backed_off.consecutive_failures == 3
    assert backed_off.last_error is not None and "flaky" in backed_off.last_error
    assert backed_off.next_attempt_at is not None
    # An hour after the run, to the minute: the run scheduled at that minute reads it.
    earliest, latest = (minute(moment + timedelta(hours=1)) for moment in (before, after))
    assert earliest <= backed_off.next_attempt_at <= latest
    assert backed_off.next_attempt_at.second == backed_off.next_attempt_at.microsecond == 0
    assert third.reports["calm"].status == "ok"

    fourth = run()
    assert flaky_asked(local_site) == 3, "a source backing off must not be requested"
    expected = (
        "backing off after 3 failed run(s) in a row; next attempt after"
        f" {hong_kong_time(backed_off.next_attempt_at)}"
    )
    assert fourth.reports["flaky"].status == "skipped"
    assert fourth.reports["flaky"].held == expected
    assert fourth.reports["calm"].status == "ok"
    # A source skipped for failing is trouble the run's status shows.
    assert fourth.status == "completed_with_errors"
    summary = fourth.as_dict()["sources"]["flaky"]
    assert summary["skipped"] == expected
    local = backed_off.next_attempt_at.astimezone(HONG_KONG)
    assert summary["next_attempt_at"] == local.isoformat()
    assert summary["next_attempt_at"].endswith("+08:00")
    with Session(store) as session:
        record = run_record(session, fourth.run_id or 0)
    recorded = {source.source_id: source for source in record.sources}
    assert (recorded["flaky"].status, recorded["flaky"].error) == ("skipped", expected)
    assert recorded["flaky"].errors == 0
    # Skipping is not failing: the count and the wait stay as they were.
    assert state(store) == backed_off


def test_a_named_source_is_read_while_backing_off_and_a_success_resets_it(
    run: Runner, local_site: LocalSite, store: Engine
) -> None:
    for _ in range(3):
        run()
    before = datetime.now(UTC)
    named = run("flaky")
    assert flaky_asked(local_site) == 4, "an operator's --source reads it whatever its state"
    assert named.reports["flaky"].status == "failed"
    fourth = state(store)
    assert fourth.consecutive_failures == 4
    assert fourth.next_attempt_at is not None
    assert fourth.next_attempt_at >= minute(before + timedelta(hours=2))

    mend(local_site)
    assert run().reports["flaky"].status == "skipped"
    assert flaky_asked(local_site) == 4
    # The wait ends (moved back rather than waited for), and the next run reads the source.
    with Session(store) as session, session.begin():
        session.execute(
            update(schema.SourceRow)
            .where(schema.SourceRow.id == "flaky")
            .values(next_attempt_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    recovered = run()
    assert recovered.reports["flaky"].status == "ok" and recovered.reports["flaky"].new == 1
    assert recovered.status == "completed"
    reset = state(store)
    assert (reset.consecutive_failures, reset.next_attempt_at) == (0, None)
    # The last failure stays on record; it no longer holds the source back.
    assert reset.last_failure_at == fourth.last_failure_at
    assert reset.describe(datetime.now(UTC)) is None


def test_a_run_whose_every_read_source_failed_is_failed(run: Runner, local_site: LocalSite) -> None:
    outcome = run("flaky")
    assert outcome.status == "failed"
    local_site.set("/calm.xml", NOT_A_FEED)
    for _ in range(2):
        run()
    # flaky now backs off; calm, the one source read, failed: the run failed.
    last = run()
    assert (last.reports["flaky"].status, last.reports["calm"].status) == ("skipped", "failed")
    assert last.status == "failed"


def test_the_migration_adds_the_state_to_stored_sources_and_removes_it(db_url: str) -> None:
    db.upgrade(db_url, "0008")
    engine = db.make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO sources (id, name, kind, lang, regulator, doc_type, enabled, urls)"
                    " VALUES ('old', 'Old', 'rss', 'en', false, 'news', true, '[]')"
                )
            )
        db.upgrade(db_url)
        with Session(engine) as session, session.begin():
            assert repo.source_states(session)["old"] == repo.SourceState("old")
            at = datetime(2026, 1, 5, 1, 0, 42, 5, tzinfo=UTC)
            for _ in range(3):
                repo.record_attempts(session, {"old": "boom"}, at=at)
        moved = state(engine, "old")
        assert (moved.consecutive_failures, moved.next_attempt_at) == (
            3,
            datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
        )
        assert moved.last_failure_at == at
        assert moved.describe(at) == (
            "backing off after 3 failed run(s) in a row; next attempt after 2026-01-05 10:00 HKT"
        )
        downgrade(db_url, "0008")
        columns = {column["name"] for column in inspect(engine).get_columns("sources")}
        assert "next_attempt_at" not in columns and "paused_at" not in columns
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id FROM sources")).scalars().all() == ["old"]
        db.upgrade(db_url)
        assert state(engine, "old") == repo.SourceState("old")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.mark.flow
def test_ingest_prints_a_skipped_source_with_its_reason_and_next_attempt(
    prefect_harness: None, local_site: LocalSite, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db.upgrade(url)
    sources = write_sources(local_site, tmp_path)
    alerts = tmp_path / "alerts.toml"
    alerts.write_text("", encoding="utf-8")
    common = ["--db", url, "--sources", str(sources), "--alerts", str(alerts)]
    common += ["--taxonomy", str(REPO / "taxonomy.toml")]
    for _ in range(BACKOFF_AFTER_FAILURES):
        failing = CliRunner().invoke(app, ["ingest", *common])
        assert failing.exit_code == 0, failing.output  # calm was read: the run did not fail
    engine = db.make_engine(url)
    try:
        next_attempt = state(engine).next_attempt_at
    finally:
        engine.dispose()
    assert next_attempt is not None
    shown = next_attempt.astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M HKT")
    result = CliRunner().invoke(app, ["ingest", *common])
    assert result.exit_code == 0, result.output
    assert (
        "flaky: skipped, backing off after 3 failed run(s) in a row; next attempt after"
        f" {shown}" in " ".join(result.output.split())
    )
    assert flaky_asked(local_site) == BACKOFF_AFTER_FAILURES
    as_json = CliRunner().invoke(app, ["ingest", *common, "--format", "json"])
    flaky = json.loads(as_json.stdout)["sources"]["flaky"]
    assert flaky["status"] == "skipped"
    assert flaky["next_attempt_at"] == next_attempt.astimezone(HONG_KONG).isoformat()
