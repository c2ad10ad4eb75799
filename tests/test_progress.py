"""Progress of the long commands: a Rich bar on a terminal, a few plain lines elsewhere, fed by
the library's ``progress(done, total)`` callbacks (retag, stories rebuild, export)."""

from __future__ import annotations

import asyncio
import io
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from support import REPO

from pipeline import export as export_module
from pipeline.cli.progress import PlainProgress, progress_reporter
from pipeline.export import export_file
from pipeline.ingest import IngestOptions, run_once
from pipeline.regroup import rebuild_stories
from pipeline.retag import retag_articles
from pipeline.store import db
from pipeline.store.export_reads import export_rows
from pipeline.tag import Tagger

FIXTURES = REPO / "fixtures" / "http"
Calls = list[tuple[int, int | None]]


class Clock:
    """A clock the test moves: the plain reporter's pace without waiting for it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def plain_console() -> tuple[Console, io.StringIO]:
    """A console writing to a buffer, as to a log file: no terminal."""
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=False, width=100), buffer


def test_without_a_terminal_a_long_job_prints_a_few_lines_and_a_last_one() -> None:
    console, buffer = plain_console()
    clock = Clock()
    reporter = PlainProgress("retag: articles", console, every=5.0, clock=clock)
    for done in range(0, 1001, 10):
        clock.now = done / 50  # 20 s in all
        reporter(done, 1000)
    reporter.finish()

    lines = buffer.getvalue().splitlines()
    # One every 5 s of the 20, and the last: not one per call.
    assert len(lines) == 5
    assert lines[0] == "retag: articles: 250/1,000 (25%), 5 s"
    assert lines[-1] == "retag: articles: 1,000/1,000 (100%), 20 s"


def test_without_a_terminal_a_quick_job_prints_nothing() -> None:
    console, buffer = plain_console()
    with progress_reporter("export: rows", console=console) as progress:
        for done in range(0, 5000, 1000):
            progress(done, None)
    assert buffer.getvalue() == ""


def test_on_a_terminal_a_bar_shows_the_counts() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with progress_reporter("stories rebuild: steps", console=console) as progress:
        progress(0, 40)
        progress(17, 40)
    shown = buffer.getvalue()
    assert "stories rebuild: steps" in shown
    assert "17/40" in shown
    # Drawn in place on the terminal, with cursor moves that a log file would not want.
    assert "\x1b[" in shown


def test_a_disabled_reporter_draws_nothing_even_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with progress_reporter("export: rows", console=console, enabled=False) as progress:
        progress(10, None)
    assert buffer.getvalue() == ""


@pytest.fixture(scope="module")
def stored(
    module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The recorded fixtures ingested (without Prefect) into a database of the module's own."""
    alerts = tmp_path_factory.mktemp("alerts") / "alerts.toml"
    alerts.write_text("", encoding="utf-8")
    options = IngestOptions(
        db_url=module_migrated_db_url,
        sources_path=REPO / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts,
        replay=FIXTURES,
    )
    outcome = asyncio.run(run_once(options))
    assert outcome.status == "completed", outcome.as_dict()
    engine = db.make_engine(module_migrated_db_url)
    yield engine
    engine.dispose()


def growing(calls: Calls) -> bool:
    """Whether the counts never go back and the total never changes."""
    done = [d for d, _ in calls]
    return done == sorted(done) and len({t for _, t in calls}) == 1


def test_retag_reports_each_batch(stored: Engine) -> None:
    calls: Calls = []
    tagger = Tagger.from_path(REPO / "taxonomy.toml")
    report = retag_articles(
        stored,
        tagger,
        all_articles=True,
        batch_size=40,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert report.considered > 80
    assert calls[0] == (0, report.considered)
    assert calls[-1] == (report.considered, report.considered)
    # One call before the batches and one after each.
    assert len(calls) == 1 + -(-report.considered // 40)
    assert growing(calls)


def test_rebuild_reports_both_passes(stored: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipeline.regroup.REBUILD_BATCH", 50)
    calls: Calls = []
    report = rebuild_stories(stored, progress=lambda done, total: calls.append((done, total)))

    steps = 2 * report.articles
    assert calls[0] == (0, steps)
    assert calls[-1] == (steps, steps)
    # Halfway once every fingerprint is refiled; then the replay's batches.
    assert (report.articles, steps) in calls
    assert len(calls) > 4
    assert growing(calls)


def test_export_reports_rows_as_they_are_written(
    stored: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "PROGRESS_EVERY", 25)
    calls: Calls = []
    with Session(stored) as session:
        count = export_file(
            export_rows(session, None),
            tmp_path / "out.csv",
            "csv",
            progress=lambda done, total: calls.append((done, total)),
        )

    assert count > 50
    assert calls[0] == (0, None)
    assert calls[-1] == (count, None)
    assert (25, None) in calls and (50, None) in calls
    assert growing(calls)


def test_export_on_a_terminal_draws_a_bar(stored: Engine, tmp_path: Path) -> None:
    """The real command with its stderr on a pseudo-terminal, its stdout on a file."""
    url = stored.url.render_as_string(hide_password=False)
    out = tmp_path / "out.jsonl"
    main, terminal = os.openpty()
    command = [sys.executable, "-m", "pipeline.cli", "export", "--out", str(out), "--db", url]
    try:
        process = subprocess.Popen(command, stderr=terminal, stdout=subprocess.DEVNULL)
        os.close(terminal)
        seen = b""
        while True:
            ready, _, _ = select.select([main], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal closes when the command ends
                break
            if not chunk:
                break
            seen += chunk
        assert process.wait(timeout=60) == 0, seen
    finally:
        os.close(main)
    shown = seen.decode("utf-8", "replace")
    assert "export: rows" in shown
    assert "rows written to" in shown
    assert out.read_text(encoding="utf-8").count("\n") > 50
