"""``newswatch runs`` and ``runs show``: every run with its sources' counts, durations and
errors, in Hong Kong time, as a table, JSON or CSV; a run whose process died (SIGKILL), or that
went silent on another machine, is shown ``crashed`` with why, marked by ``runs`` itself or by
the next run. Real runs against a real HTTP server on 127.0.0.1, real processes, a real database
(SQLite and Postgres)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from support import REPO
from support.fault_site import FaultSite, silent
from support.feeds import NOT_A_FEED, feed, page
from support.local_site import LocalSite
from support.store import downgrade, run_record
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.runs import CSV_COLUMNS
from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.settings import RUN_STALE_AFTER
from pipeline.store import db, repo, schema

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
# Long enough for Prefect's start and a run's first request.
RUN_TIMEOUT = 240

Runner = Callable[..., RunOutcome]


def source_entry(ident: str, url: str) -> str:
    return f'[[source]]\nid = "{ident}"\nname = "{ident}"\nkind = "rss"\nurls = ["{url}"]\n'


@pytest.fixture
def sources(local_site: LocalSite, tmp_path: Path) -> Path:
    """``calm`` (two items) and ``broken`` (a page where its feed should be)."""
    links = [f"{local_site.url}/calm/{n}.html" for n in (1, 2)]
    local_site.set("/calm.xml", feed(links))
    for n, link in enumerate(links, 1):
        local_site.set(link, page(f"calm item {n}"))
    local_site.set("/broken.xml", NOT_A_FEED)
    path = tmp_path / "sources.toml"
    path.write_text(
        source_entry("calm", f"{local_site.url}/calm.xml")
        + source_entry("broken", f"{local_site.url}/broken.xml"),
        encoding="utf-8",
    )
    return path


def runner(db_url: str, sources_path: Path, directory: Path) -> Runner:
    alerts = directory / "alerts.toml"
    alerts.write_text("", encoding="utf-8")

    def run_it() -> RunOutcome:
        options = IngestOptions(
            db_url=db_url,
            sources_path=sources_path,
            taxonomy_path=REPO / "taxonomy.toml",
            alerts_path=alerts,
        )
        return asyncio.run(run_once(options))

    return run_it


@pytest.fixture
def run(migrated_db_url: str, sources: Path, tmp_path: Path) -> Runner:
    return runner(migrated_db_url, sources, tmp_path)


@pytest.fixture
def store(migrated_db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def flat(result: Result) -> str:
    """The output with rich's wrapping undone."""
    return " ".join(result.output.split())


def stored(engine: Engine, run_id: int) -> repo.RunRecord:
    with Session(engine) as session:
        return run_record(session, run_id)


def test_runs_lists_each_run_with_its_sources_in_hong_kong_time(
    run: Runner, migrated_db_url: str, store: Engine
) -> None:
    first, second = run(), run()
    assert (first.status, second.status) == ("completed_with_errors", "completed_with_errors")
    table = cli("runs", "--db", migrated_db_url)
    assert table.exit_code == 0, table.output
    started = stored(store, second.run_id or 0).started_at
    local = started.astimezone(HONG_KONG).strftime("%m-%d %H:%M")
    # Sources ok/failed/skipped, articles found/new/duplicates: the first run stored both items,
    # the second found them again (counted as duplicates).
    assert re.search(rf"{second.run_id} completed_with_errors {local} \S+ 1/1/0 2/0/2", flat(table))
    assert re.search(
        rf"{first.run_id} completed_with_errors [-\d]+ [:\d]+ \S+ 1/1/0 2/2/0", flat(table)
    )
    assert f"run {second.run_id}: failed: broken" in flat(table)
    assert f"run {first.run_id}: failed: broken" in flat(table)

    as_json = cli("runs", "--format", "json", "--db", migrated_db_url)
    assert as_json.exit_code == 0, as_json.output
    newest, oldest = json.loads(as_json.stdout)
    assert (newest["id"], oldest["id"]) == (second.run_id, first.run_id)
    assert newest["started_at"].endswith("+08:00")
    assert datetime.fromisoformat(newest["started_at"]) == started
    assert newest["duration"] >= 0 and newest["pid"] == os.getpid()
    assert newest["host"] == socket.gethostname()
    by_source = {s["source_id"]: s for s in oldest["sources"]}
    assert (by_source["calm"]["status"], by_source["calm"]["new"]) == ("ok", 2)
    assert by_source["broken"]["status"] == "failed"
    assert "broken" in (by_source["broken"]["error"] or "")
    assert by_source["broken"]["finished_at"].endswith("+08:00")
    assert oldest["totals"] == {
        "ok": 1,
        "partial": 0,
        "failed": 1,
        "skipped": 0,
        "found": 2,
        "new": 2,
        "duplicates": 0,
        "errors": 1,
    }

    as_csv = cli("runs", "--format", "csv", "--db", migrated_db_url)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(rows[0]) == CSV_COLUMNS
    assert [(r["run_id"], r["source_id"], r["status"]) for r in rows] == [
        (str(second.run_id), "broken", "failed"),
        (str(second.run_id), "calm", "ok"),
        (str(first.run_id), "broken", "failed"),
        (str(first.run_id), "calm", "ok"),
    ]
    assert all(r["started_at"].endswith("+08:00") for r in rows)

    limited = cli("runs", "--limit", "1", "--format", "json", "--db", migrated_db_url)
    assert [r["id"] for r in json.loads(limited.stdout)] == [second.run_id]
    assert "1 more run(s), not shown (--limit 2 shows all)" in limited.output


def test_runs_show_gives_every_source_outcome(
    run: Runner, migrated_db_url: str, store: Engine
) -> None:
    outcome = run()
    shown = cli("runs", "show", str(outcome.run_id), "--db", migrated_db_url)
    assert shown.exit_code == 0, shown.output
    record = stored(store, outcome.run_id or 0)
    local = record.started_at.astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M:%S")
    assert f"run {outcome.run_id} completed_with_errors: started {local} HKT" in flat(shown)
    assert "calm ok 2 2 0 0" in flat(shown)
    assert "broken failed 0 0 0 1" in flat(shown)
    error = next(s.error for s in record.sources if s.source_id == "broken")
    assert f"broken: {error}" in shown.output

    as_json = json.loads(
        cli("runs", "show", str(outcome.run_id), "--format", "json", "--db", migrated_db_url).stdout
    )
    assert as_json["id"] == outcome.run_id and as_json["status"] == "completed_with_errors"
    assert [s["source_id"] for s in as_json["sources"]] == ["broken", "calm"]

    missing = cli("runs", "show", "999", "--db", migrated_db_url)
    assert missing.exit_code == 1
    assert "no run 999" in missing.output


def test_a_source_result_keeps_its_duration_and_moves_the_heartbeat(
    store: Engine, migrated_db_url: str
) -> None:
    with Session(store) as session, session.begin():
        session.add(schema.SourceRow(id="calm", name="Calm", kind="rss", lang="en", doc_type="x"))
        run_id = repo.start_run(session, flow_run_id=None, options={})
    started = stored(store, run_id)
    assert (started.pid, started.host) == (os.getpid(), socket.gethostname())
    assert started.heartbeat_at == started.started_at
    time.sleep(0.01)
    with Session(store) as session, session.begin():
        repo.record_source_result(
            session, run_id, "calm", status="ok", found=3, new=2, duplicates=1, errors=0,
            duration=1.5,
        )  # fmt: skip
    record = stored(store, run_id)
    assert record.heartbeat_at is not None and record.heartbeat_at > started.started_at
    assert record.sources[0].duration == 1.5
    shown = cli("runs", "show", str(run_id), "--db", migrated_db_url)
    assert "calm ok 3 2 1 0 1.5s" in flat(shown)
    assert "running for" in flat(shown)


def _ingest_process(db_url: str, sources_path: Path, directory: Path) -> subprocess.Popen[bytes]:
    alerts = directory / "alerts.toml"
    alerts.write_text("", encoding="utf-8")
    command = [sys.executable, "-m", "pipeline.cli", "ingest", "--db", db_url]
    command += ["--sources", str(sources_path), "--taxonomy", str(REPO / "taxonomy.toml")]
    command += ["--alerts", str(alerts)]
    # A session of its own: the kill takes the run's Prefect server with it, as a crash would.
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def _kill_once_reading(process: subprocess.Popen[bytes], fault_site: FaultSite) -> None:
    """SIGKILL the run (its process group) once it asks for its feed, which never answers."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if fault_site.asked("/feed.xml"):
            break
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(RUN_TIMEOUT)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize("noticed_by", ["runs", "next-run"])
def test_a_killed_run_is_shown_crashed(
    noticed_by: str,
    migrated_db_url: str,
    fault_site: FaultSite,
    local_site: LocalSite,
    sources: Path,
    store: Engine,
    tmp_path: Path,
) -> None:
    fault_site.set("/feed.xml", silent(RUN_TIMEOUT))
    stalling = tmp_path / "stalling.toml"
    stalling.write_text(source_entry("stalled", f"{fault_site.url}/feed.xml"), encoding="utf-8")
    _kill_once_reading(_ingest_process(migrated_db_url, stalling, tmp_path), fault_site)
    with Session(store) as session:
        [killed] = repo.latest_runs(session, limit=5)
    assert killed.status == "running" and killed.pid is not None
    assert killed.host == socket.gethostname()

    if noticed_by == "runs":
        listed = cli("runs", "--format", "json", "--db", migrated_db_url)
        assert listed.exit_code == 0, listed.output
        [shown] = json.loads(listed.stdout)
        assert shown["status"] == "crashed"
        assert f"its process {killed.pid} on {killed.host} is gone" in shown["error"]
        table = cli("runs", "show", str(killed.id), "--db", migrated_db_url)
        assert f"run {killed.id} crashed" in flat(table)
    else:
        after = runner(migrated_db_url, sources, tmp_path)()
        assert after.status == "completed_with_errors"
    record = stored(store, killed.id)
    assert record.status == "crashed"
    assert record.error and f"process {killed.pid} on {killed.host} is gone" in record.error
    # It ends at its last sign of life, not when it was found.
    assert record.finished_at == killed.heartbeat_at


def _set_run(engine: Engine, run_id: int, **values: object) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(schema.Run).where(schema.Run.id == run_id).values(**values))


def _start(engine: Engine) -> int:
    with Session(engine) as session, session.begin():
        return repo.start_run(session, flow_run_id=None, options={})


def test_a_run_silent_on_another_machine_is_crashed_after_the_stale_limit(
    store: Engine, migrated_db_url: str
) -> None:
    now = datetime.now(UTC)
    silent_run, recent_run = _start(store), _start(store)
    _set_run(store, silent_run, host="another-machine", heartbeat_at=now - timedelta(hours=3))
    # Silent for less than the limit: it may be fetching still.
    recent = now - RUN_STALE_AFTER + timedelta(minutes=10)
    _set_run(store, recent_run, host="another-machine", heartbeat_at=recent)
    listed = cli("runs", "--format", "json", "--db", migrated_db_url)
    statuses = {r["id"]: (r["status"], r["error"]) for r in json.loads(listed.stdout)}
    assert statuses[recent_run] == ("running", None)
    status, error = statuses[silent_run]
    assert status == "crashed"
    assert "no heartbeat for 3h00m" in error
    assert f"process {os.getpid()} on another-machine" in error
    assert "more than the 2h00m after which a silent run is taken for dead" in error
    # It was alive after all: finishing gives it its real status.
    with Session(store) as session, session.begin():
        repo.finish_run(session, silent_run, "completed")
    finished = stored(store, silent_run)
    assert (finished.status, finished.error) == ("completed", None)


def test_a_pid_taken_by_a_later_process_is_not_the_run(store: Engine, migrated_db_url: str) -> None:
    reused, alive = _start(store), _start(store)
    # The run began an hour before this process did: the pid now names someone else.
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        _set_run(store, reused, pid=later.pid, started_at=hour_ago, heartbeat_at=hour_ago)
        listed = cli("runs", "--format", "json", "--db", migrated_db_url)
    finally:
        later.kill()
        later.wait()
    statuses = {r["id"]: (r["status"], r["error"]) for r in json.loads(listed.stdout)}
    assert statuses[alive] == ("running", None)  # this test's own process: alive
    assert statuses[reused][0] == "crashed"
    assert f"its process {later.pid} on {socket.gethostname()} is gone" in statuses[reused][1]


def test_the_migration_keeps_every_run_and_allows_crashed(db_url: str) -> None:
    db.upgrade(db_url, "0009")
    engine = db.make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO sources (id, name, kind, lang, regulator, doc_type, enabled, urls)"
                    " VALUES ('calm', 'Calm', 'rss', 'en', false, 'news', true, '[]')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO runs (id, started_at, status, options)"
                    " VALUES (7, CURRENT_TIMESTAMP, 'running', '{}')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO run_sources (run_id, source_id, status, found, new, duplicates,"
                    " errors, finished_at) VALUES (7, 'calm', 'ok', 1, 1, 0, 0, CURRENT_TIMESTAMP)"
                )
            )
        db.upgrade(db_url)
        with Session(engine) as session, session.begin():
            # The rows referring to the run are kept (rebuilding runs would have deleted them).
            assert session.scalar(select(func.count()).select_from(schema.RunSource)) == 1
            session.execute(
                update(schema.Run)
                .where(schema.Run.id == 7)
                .values(status="crashed", error="crashed: its process 1 on h is gone")
            )
        with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
            session.execute(update(schema.Run).values(status="lost"))
        downgrade(db_url, "0009")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT status, error FROM runs")).all() == [
                ("failed", "crashed: its process 1 on h is gone")
            ]
            assert connection.execute(text("SELECT COUNT(*) FROM run_sources")).scalar() == 1
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE runs SET status = 'crashed'"))
    finally:
        engine.dispose()
