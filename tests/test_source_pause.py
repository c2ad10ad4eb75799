"""An operator pauses and resumes a source: ``newswatch sources pause ID [--reason]`` records it in
the database (every scheduler and machine sees it), runs skip the source and record why,
``ingest --source ID`` still reads it, ``sources list`` and ``check`` show it, ``resume`` clears
the pause and any backoff. An unknown id is an error naming the closest known ones. Real CLI,
real runs against a real HTTP server on 127.0.0.1, a real database (SQLite and Postgres)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from support import REPO
from support.feeds import feed, page, runner
from support.local_site import LocalSite
from support.store import run_record
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import RunOutcome
from pipeline.store import db, repo
from pipeline.store.source_state import hong_kong_time

Runner = Callable[..., RunOutcome]
Cli = Callable[..., Result]


@pytest.fixture
def sources(local_site: LocalSite, tmp_path: Path) -> Path:
    """Two sources on ``local_site``, ``hkma-press`` and ``calm``, each with new items."""
    for name in ("hkma-press", "calm"):
        links = [f"{local_site.url}/{name}/{n}.html" for n in (1, 2)]
        local_site.set(f"/{name}.xml", feed(links))
        for n in (1, 2):
            local_site.set(f"/{name}/{n}.html", page(f"{name} item {n}"))
    path = tmp_path / "sources.toml"
    path.write_text(
        "".join(
            f'[[source]]\nid = "{name}"\nname = "{name}"\nkind = "rss"\n'
            f'urls = ["{local_site.url}/{name}.xml"]\n'
            for name in ("hkma-press", "calm")
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def run(migrated_db_url: str, sources: Path, tmp_path: Path) -> Runner:
    return runner(migrated_db_url, sources, tmp_path)


@pytest.fixture
def cli(migrated_db_url: str, sources: Path) -> Cli:
    """``newswatch ARGS --db URL --sources FILE`` (and for ``sources check`` the shipped
    taxonomy and alerts)."""

    def invoke(*args: str) -> Result:
        extra = ["--taxonomy", str(REPO / "taxonomy.toml"), "--alerts", str(REPO / "alerts.toml")]
        every = [*args, "--db", migrated_db_url, "--sources", str(sources)]
        return CliRunner().invoke(app, every + (extra if args[:2] == ("sources", "check") else []))

    return invoke


@pytest.fixture
def store(migrated_db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def state(engine: Engine, source_id: str = "hkma-press") -> repo.SourceState:
    with Session(engine) as session:
        return repo.source_states(session)[source_id]


def flat(result: Result) -> str:
    """The output with rich's wrapping undone."""
    return " ".join(result.output.split())


def test_a_paused_source_is_skipped_recorded_and_read_only_when_named(
    cli: Cli, run: Runner, local_site: LocalSite, store: Engine
) -> None:
    before = datetime.now(UTC)
    paused = cli("sources", "pause", "hkma-press", "--reason", "site redesign, selectors broken")
    after = datetime.now(UTC)
    assert paused.exit_code == 0, paused.output
    stored = state(store)
    assert stored.paused_at is not None and before <= stored.paused_at <= after
    assert stored.paused_reason == "site redesign, selectors broken"
    reason = (
        f"paused by an operator since {hong_kong_time(stored.paused_at)}: site redesign,"
        " selectors broken; tried again after `newswatch sources resume hkma-press`"
    )
    assert f"hkma-press: {reason}" in flat(paused)
    assert "`newswatch ingest --source hkma-press` still reads it" in flat(paused)

    outcome = run()
    assert not local_site.asked(prefix="/hkma-press"), "a paused source must not be requested"
    assert (outcome.reports["hkma-press"].status, outcome.reports["hkma-press"].held) == (
        "skipped",
        reason,
    )
    assert outcome.reports["calm"].new == 2
    # Pausing is the operator's decision, not trouble: the run completed.
    assert outcome.status == "completed"
    assert outcome.as_dict()["sources"]["hkma-press"]["next_attempt_at"] is None
    with Session(store) as session:
        recorded = {s.source_id: s for s in run_record(session, outcome.run_id or 0).sources}
    assert (recorded["hkma-press"].status, recorded["hkma-press"].error) == ("skipped", reason)

    named = run("hkma-press")
    assert named.reports["hkma-press"].status == "ok" and named.reports["hkma-press"].new == 2
    # Read once on the operator's word, the source stays paused for the schedule.
    assert state(store).paused
    assert run().reports["hkma-press"].status == "skipped"


def test_list_and_check_show_the_pause_and_resume_clears_it(
    cli: Cli, run: Runner, local_site: LocalSite, store: Engine
) -> None:
    assert cli("sources", "pause", "hkma-press", "--reason", "legal review").exit_code == 0
    listed = cli("sources", "list")
    assert listed.exit_code == 0, listed.output
    assert "paused by an operator since" in flat(listed) and "legal review" in flat(listed)
    check = cli("sources", "check")
    assert check.exit_code == 0, check.output
    assert "⏸ hkma-press: paused by an operator since" in flat(check)
    assert "calm:" not in flat(check), "a healthy source is not listed as troubled"

    resumed = cli("sources", "resume", "hkma-press")
    assert resumed.exit_code == 0, resumed.output
    assert "hkma-press: resumed; the next run reads it (it was paused by an operator" in flat(
        resumed
    )
    cleared = state(store)
    assert (cleared.paused_at, cleared.paused_reason) == (None, None)
    assert run().reports["hkma-press"].new == 2
    again = cli("sources", "resume", "hkma-press")
    assert again.exit_code == 0
    assert "hkma-press was neither paused nor failing: nothing to resume" in flat(again)


def test_resume_clears_a_backoff_that_list_and_check_show(
    cli: Cli, run: Runner, local_site: LocalSite, store: Engine
) -> None:
    at = datetime.now(UTC) - timedelta(minutes=5)
    run()  # mirrors both sources into the database
    with Session(store) as session, session.begin():
        for _ in range(3):
            repo.record_attempts(session, {"hkma-press": "HTTP 503 from the HKMA"}, at=at)
    next_attempt = hong_kong_time(at + timedelta(hours=1))
    listed = flat(cli("sources", "list"))
    assert "backing off after 3 failed run(s) in a row; next attempt after" in listed
    assert next_attempt in listed
    check = flat(cli("sources", "check"))
    backing_off = f"backing off after 3 failed run(s) in a row; next attempt after {next_attempt}"
    assert f"↻ hkma-press: {backing_off}" in check
    assert f"last failure {hong_kong_time(at)}: HTTP 503 from the HKMA" in check
    asked = len(local_site.asked(prefix="/hkma-press.xml"))
    assert run().reports["hkma-press"].status == "skipped"

    resumed = flat(cli("sources", "resume", "hkma-press"))
    assert "resumed; the next run reads it (it was backing off after 3 failed run(s)" in resumed
    cleared = state(store)
    assert (cleared.consecutive_failures, cleared.next_attempt_at) == (0, None)
    assert run().reports["hkma-press"].status == "ok"
    assert len(local_site.asked(prefix="/hkma-press.xml")) == asked + 1


def test_pausing_again_keeps_the_time_and_replaces_the_reason(cli: Cli, store: Engine) -> None:
    assert cli("sources", "pause", "hkma-press", "--reason", "first").exit_code == 0
    first = state(store)
    assert cli("sources", "pause", "hkma-press").exit_code == 0
    assert state(store) == first, "no new reason: the first stays"
    assert cli("sources", "pause", "hkma-press", "--reason", "second").exit_code == 0
    second = state(store)
    assert (second.paused_at, second.paused_reason) == (first.paused_at, "second")


def test_an_unknown_id_names_the_closest_known_ones(tmp_path: Path) -> None:
    database = tmp_path / "never.db"
    shipped = str(REPO / "sources.toml")
    # The file is named as read: the repository's copy is a link to the shipped default.
    read = (REPO / "sources.toml").resolve()
    for command in ("pause", "resume"):
        result = CliRunner().invoke(
            app, ["sources", command, "hkma-pres", "--db", str(database), "--sources", shipped]
        )
        assert result.exit_code == 1
        assert (
            f"error: unknown source id 'hkma-pres' in {read}; the closest known: hkma-press,"
            in flat(result)
        )
    # Refused before the database is opened: no file appears where a path was given.
    assert not database.exists()


def test_pausing_before_the_first_run_creates_the_schema(
    sources: Path, local_site: LocalSite, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(
        app,
        ["sources", "pause", "calm", "--reason", "not yet", "--db", url, "--sources", str(sources)],
    )
    assert result.exit_code == 0, result.output
    engine = db.make_engine(url)
    try:
        assert state(engine, "calm").paused_reason == "not yet"
    finally:
        engine.dispose()


def test_list_and_check_without_a_database_still_work(tmp_path: Path) -> None:
    shipped = [
        "--sources",
        str(REPO / "sources.toml"),
        "--taxonomy",
        str(REPO / "taxonomy.toml"),
        "--alerts",
        str(REPO / "alerts.toml"),
    ]
    check = CliRunner().invoke(app, ["sources", "check", *shipped])
    assert check.exit_code == 0, check.output
    assert "taxonomy and alerts are valid" in check.stdout
    assert "source states not shown: database sqlite:///newswatch.db is not migrated" in " ".join(
        check.stderr.split()
    )
    listed = CliRunner().invoke(app, ["sources", "list", *shipped[:2]])
    assert listed.exit_code == 0, listed.output
    assert "hkma-press" in listed.stdout
    # Reading the state never creates the default database file.
    assert not (tmp_path / "newswatch.db").exists()
