"""The daily ingestion as a real Prefect flow run (a local temporary Prefect server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support import REPO
from support.local_site import Answer, LocalSite, json_answer

from pipeline.store import db, repo, schema

FIXTURES = REPO / "fixtures" / "http"
# The shipped files, named by absolute path: tests run in a temporary working directory.
SHIPPED_SOURCES = ["--sources", str(REPO / "sources.toml")]
SHIPPED_TAXONOMY = ["--taxonomy", str(REPO / "taxonomy.toml")]

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
    # One rule and one channel: each queued row is one message.
    assert first["new_articles"] > 0 and first["alerts"]["sent"] == first["alerts_queued"] > 0
    assert first["alerts"]["failed"] == 0 and first["alerts"]["errors"] == []

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
    common = [
        *SHIPPED_SOURCES,
        *SHIPPED_TAXONOMY,
        *["--replay", str(FIXTURES), "--db", url, "--alerts", str(alerts), "--format", "json"],
    ]
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


def hkma_backfill_sources(directory: Path, site: LocalSite) -> Path:
    """A sources file naming the HKMA API of ``site``, paged 100 at a time."""
    sources = directory / "sources.toml"
    sources.write_text(
        '[[source]]\nid = "hkma-press"\nname = "HKMA press releases"\nkind = "hkma_api"\n'
        f'urls = ["{site.url}/public/press-releases"]\nregulator = true\n'
        "id_pattern = '/(\\d{8}-\\d+)/?$'\n[source.options]\npagesize = 100\n"
        '[source.selectors]\ntitle = "#content h1"\nbody = "#content .body"\n',
        encoding="utf-8",
    )
    return sources


def hkma_backfill_site(site: LocalSite, count: int) -> None:
    """An HKMA API answering a date window in pages of 100, and a page per release."""
    day = date(2025, 11, 20)
    records = []
    for number in range(count):
        when = day - timedelta(days=number // 3)
        path = f"/eng/news-and-media/press-releases/{when:%Y/%m}/{when:%Y%m%d}-{number % 3 + 1}/"
        title = f"Release {number}: HKMA notice on payment systems"
        records.append({"title": title, "link": site.url + path, "date": when.isoformat()})
        text = (
            f"{title}. The Hong Kong Monetary Authority announced today that banks will take "
            "part in the next phase of the programme for faster payment systems in Hong Kong."
        )
        site.set(
            path,
            Answer(
                f"<html><head><title>{title}</title></head><body><div id='content'>"
                f"<h1>{title}</h1><div class='body'><p>{text}</p><p>{text}</p></div>"
                "</div></body></html>".encode()
            ),
        )
    window = "choose=date&from=2024-01-01&to=2025-11-20"
    for offset in range(0, count, 100):
        site.set(
            f"/public/press-releases?lang=en&pagesize=100&offset={offset}&{window}",
            json_answer(
                {
                    "header": {"success": True, "err_code": "0000", "err_msg": "No error found"},
                    "result": {"datasize": count, "records": records[offset : offset + 100]},
                }
            ),
        )


def test_ingest_since_runs_the_backfill_flow_paging_the_api(
    prefect_harness: None, tmp_path: Path, local_site: LocalSite
) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    hkma_backfill_site(local_site, 250)
    sources = hkma_backfill_sources(tmp_path, local_site)
    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    db.upgrade(url)
    alerts = tmp_path / "alerts.toml"
    alerts.write_text('[[channel]]\nid = "console"\nkind = "console"\n', encoding="utf-8")
    args = ["ingest", "--since", "2024-01-01", "--source", "hkma-press", "--now", "2025-11-20"]
    common = ["--sources", str(sources), "--db", url, "--alerts", str(alerts), "--format", "json"]
    result = CliRunner().invoke(app, [*args, *common, *SHIPPED_TAXONOMY])
    assert result.exit_code == 0, result.output
    # A live run warns on stderr that sites see the default contact; the summary is stdout.
    summary = json.loads(result.stdout)
    assert summary["status"] == "completed", summary
    assert summary["sources"]["hkma-press"]["found"] == 250
    assert summary["sources"]["hkma-press"]["new"] == 250
    assert [
        path.split("offset=")[1].split("&")[0]
        for path in local_site.asked(prefix="/public/press-releases")
    ] == ["0", "100", "200"]

    engine = db.make_engine(url)
    with Session(engine) as session:
        (run,) = repo.latest_runs(session, limit=5)
    engine.dispose()
    assert run.flow_run_id


def test_ingest_since_replays_the_recorded_backfill_window(
    prefect_harness: None, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    url = f"sqlite:///{tmp_path / 'replay.db'}"
    db.upgrade(url)
    alerts = tmp_path / "alerts.toml"
    alerts.write_text('[[channel]]\nid = "console"\nkind = "console"\n', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--since",
            "2025-11-01",
            "--source",
            "hkma-press",
            "--now",
            "2025-11-20",
            "--replay",
            str(FIXTURES),
            "--db",
            url,
            "--alerts",
            str(alerts),
            "--format",
            "json",
            *SHIPPED_SOURCES,
            *SHIPPED_TAXONOMY,
        ],
    )
    assert result.exit_code == 0, result.output
    press = json.loads(result.output)["sources"]["hkma-press"]
    # The November releases of the recorded window, none of October's.
    assert press["error"] is None and press["notes"] == []
    assert press["found"] == press["new"] == 10


def test_a_fallback_note_survives_the_flow_tasks(
    prefect_harness: None, tmp_path: Path, local_site: LocalSite
) -> None:
    from flows.daily_ingest import daily_ingest

    path = "/eng/news-and-media/press-releases/2025/11/20251120-3/"
    text = "The Hong Kong Monetary Authority warns the public of fraudulent bank messages. " * 3
    local_site.set(
        path,
        Answer(
            f"<html><body><div id='content'><h1>Scam alert related to banks</h1>"
            f"<div class='body'><p>{text}</p><p>{text}</p></div></div></body></html>".encode()
        ),
    )
    local_site.set(
        "/feed.xml",
        Answer(
            (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>HKMA</title>'
                f"<item><title>Scam alert related to banks</title><link>{local_site.url}{path}"
                "</link><pubDate>Thu, 20 Nov 2025 00:00:00 +0800</pubDate></item>"
                "</channel></rss>"
            ).encode(),
            content_type="application/xml",
        ),
    )
    local_site.set(
        "/public/press-releases?lang=en&pagesize=100&offset=0", Answer(b"Bad Gateway", 502)
    )
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nid = "hkma-press"\nname = "HKMA press releases"\nkind = "hkma_api"\n'
        f'urls = ["{local_site.url}/public/press-releases"]\nregulator = true\n'
        "id_pattern = '/(\\d{8}-\\d+)/?$'\n[source.options]\n"
        f'fallback_urls = ["{local_site.url}/feed.xml"]\n'
        '[source.selectors]\ntitle = "#content h1"\nbody = "#content .body"\n',
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'fallback.db'}"
    db.upgrade(url)
    alerts = tmp_path / "alerts.toml"
    alerts.write_text('[[channel]]\nid = "console"\nkind = "console"\n', encoding="utf-8")
    summary = asyncio.run(
        daily_ingest(
            db_url=url,
            sources_path=str(sources),
            taxonomy_path=str(REPO / "taxonomy.toml"),
            alerts_path=str(alerts),
        )
    )
    press = summary["sources"]["hkma-press"]
    assert press["new"] == 1 and press["error"] is None
    assert len(press["notes"]) == 1 and "502" in press["notes"][0]
    assert summary["status"] == "completed_with_errors"


def test_deployments_declare_the_daily_and_the_backfill_flow() -> None:
    from flows.deployments import build_deployments

    deployments = {d.name: d for d in build_deployments("sqlite:///x.db")}
    assert {"daily", "backfill"} <= set(deployments)
    assert deployments["daily"].schedules and not deployments["backfill"].schedules
    assert deployments["backfill"].flow_name == "backfill"
    assert deployments["backfill"].parameters == {
        "db_url": "sqlite:///x.db",
        "config_dir": None,
        "replay": None,
    }
    assert deployments["retag"].parameters == {"db_url": "sqlite:///x.db", "config_dir": None}
    # Both ingestion deployments run the one flow body, under their own names.
    from flows.daily_ingest import backfill, daily_ingest

    assert backfill.fn is daily_ingest.fn
    # The daily run is at 07:00 Hong Kong time, whatever the server's zone.
    [daily] = deployments["daily"].schedules
    assert (daily.schedule.cron, daily.schedule.timezone) == ("0 7 * * *", "Asia/Hong_Kong")


def test_a_backfill_flow_reports_its_progress_to_the_process_watching_it(
    prefect_harness: None, tmp_path: Path, local_site: LocalSite
) -> None:
    from datetime import UTC, datetime

    from flows.daily_ingest import backfill
    from pipeline.ingest.progress import STEPS_PER_ITEM, watch_progress

    hkma_backfill_site(local_site, 120)
    sources = hkma_backfill_sources(tmp_path, local_site)
    alerts = tmp_path / "alerts.toml"
    alerts.write_text("", encoding="utf-8")
    seen: list[tuple[int, int | None]] = []
    with watch_progress(lambda done, total: seen.append((done, total))):
        result = asyncio.run(
            backfill(
                db_url=f"sqlite:///{tmp_path / 'progress.db'}",
                sources_path=str(sources),
                taxonomy_path=str(REPO / "taxonomy.toml"),
                alerts_path=str(alerts),
                since=datetime(2024, 1, 1, tzinfo=UTC),
                now=datetime(2025, 11, 20, tzinfo=UTC),
            )
        )
    assert result["sources"]["hkma-press"]["new"] == 120
    # Two steps an item (fetched, then stored in its batch), counted up to the end.
    done = [step for step, _ in seen]
    assert done == sorted(done) and done[0] == 0
    assert seen[-1] == (120 * STEPS_PER_ITEM, 120 * STEPS_PER_ITEM)
    assert {total for _, total in seen[1:]} == {120 * STEPS_PER_ITEM}
