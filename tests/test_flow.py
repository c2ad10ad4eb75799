"""The daily ingestion as a real Prefect flow run (a local temporary Prefect server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.store import db, repo, schema

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures" / "http"

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_daily_flow_runs_end_to_end_and_is_idempotent(
    prefect_harness: None, tmp_path: Path
) -> None:
    from flows.daily_ingest import daily_ingest

    url = f"sqlite:///{tmp_path / 'flow.db'}"
    db.upgrade(url)
    alerts = tmp_path / "alerts.toml"
    alerts.write_text(
        '[[rule]]\nid = "regulator-new-item"\nregulator = true\nchannels = ["jsonl"]\n'
        f'[[channel]]\nid = "jsonl"\nkind = "jsonl"\npath = "{tmp_path / "alerts.jsonl"}"\n',
        encoding="utf-8",
    )
    kwargs = {
        "db_url": url,
        "sources_path": str(REPO / "sources.toml"),
        "taxonomy_path": str(REPO / "taxonomy.toml"),
        "alerts_path": str(alerts),
        "replay": str(FIXTURES),
    }
    first = asyncio.run(daily_ingest(**kwargs))
    assert first["status"] == "completed", first
    assert first["new_articles"] > 0 and first["alerts_sent"] == first["alerts_queued"] > 0

    second = asyncio.run(daily_ingest(**kwargs))
    assert second["new_articles"] == 0 and second["alerts_queued"] == 0

    engine = db.make_engine(url)
    with Session(engine) as session:
        runs = repo.latest_runs(session, limit=5)
        # Syndicated copies are kept as rows marked duplicate_of; they are not new articles.
        articles = session.scalar(
            select(func.count())
            .select_from(schema.Article)
            .where(schema.Article.duplicate_of.is_(None))
        )
    engine.dispose()
    assert len(runs) == 2
    assert all(run.flow_run_id for run in runs), "runs must point at their Prefect flow run"
    assert articles == first["new_articles"]
    lines = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == first["alerts_queued"]


def test_ingest_command_runs_the_flow_and_reports_per_source(
    prefect_harness: None, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db.upgrade(url)
    alerts = tmp_path / "alerts.toml"
    alerts.write_text('[[channel]]\nid = "console"\nkind = "console"\n', encoding="utf-8")
    common = ["--replay", str(FIXTURES), "--db", url, "--alerts", str(alerts), "--format", "json"]
    sources = ["--source", "hkma-press", "--source", "hkma-rss-press"]
    result = CliRunner().invoke(app, ["ingest", *sources, *common])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert set(summary["sources"]) == {"hkma-press", "hkma-rss-press"}
    press, rss = summary["sources"]["hkma-press"], summary["sources"]["hkma-rss-press"]
    assert press["new"] == press["found"] >= 8
    assert rss["new"] == 0 and rss["duplicates"] == rss["found"]

    failed = CliRunner().invoke(app, ["ingest", "--source", "no-such-source", *common])
    assert failed.exit_code == 1
    assert "no-such-source" in failed.output
