"""A run whose configuration does not load ends its Prefect flow run Failed, recorded as failed
with every problem, before any request; ``newswatch ingest`` says so before Prefect starts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import REPO
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.store import db, repo

pytestmark = pytest.mark.flow

BROKEN_SOURCES = """
[[source]]
id = "hkma"
name = "HKMA"
kind = "hkma_api"
urls = ["https://api.hkma.gov.hk/public/press-releases"]
[source.options]
pagesze = 50
"""


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def broken(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(BROKEN_SOURCES, encoding="utf-8")
    return path


def test_flow_run_with_a_broken_configuration_ends_failed(
    prefect_harness: None, tmp_path: Path
) -> None:
    from sqlalchemy.orm import Session

    from flows.daily_ingest import daily_ingest

    url = f"sqlite:///{tmp_path / 'flow.db'}"
    state = asyncio.run(
        daily_ingest(
            db_url=url,
            sources_path=str(broken(tmp_path)),
            taxonomy_path=str(REPO / "taxonomy.toml"),
            alerts_path=str(REPO / "alerts.toml"),
            return_state=True,
        )
    )
    assert state.is_failed(), state
    assert "options.pagesze" in str(state.message)
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            [run] = repo.latest_runs(session, limit=5)
    finally:
        engine.dispose()
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith("configuration: ")
    assert "field 'options.pagesze' is not an option of this kind" in run.error


def test_ingest_reports_a_broken_configuration_before_prefect_starts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["ingest", "--db", str(tmp_path / "n.db"), "--sources", str(broken(tmp_path))],
    )
    assert result.exit_code == 1
    assert "field 'options.pagesze' is not an option of this kind" in result.output
    # Refused before the flow and before the database: a flow run would have recorded the
    # failed run in a database it created.
    assert not (tmp_path / "n.db").exists()
