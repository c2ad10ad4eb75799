"""Each source a run reads records the seconds it took (its discover and fetch, and its share of
processing), shown by ``newswatch runs`` and ``runs show`` as a table, JSON and CSV; a source
the run skipped records none. A real run against a real HTTP server on 127.0.0.1 whose feed
answers late, into a real database (SQLite and Postgres)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy.orm import Session
from support import REPO, prose
from support.fault_site import FaultHandler, FaultSite, answer
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.store import db, repo

# The slow source's feed answers this late: its recorded duration is at least this.
FEED_DELAY = 0.6


def _feed(links: list[str]) -> bytes:
    items = "".join(f"<item><title>{link}</title><link>{link}</link></item>" for link in links)
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    ).encode()


def _late(body: bytes) -> Callable[[FaultHandler], None]:
    def write(handler: FaultHandler) -> None:
        handler.stall(FEED_DELAY)
        handler.send(200, body, "application/rss+xml")

    return write


def _page(seed: str) -> bytes:
    body = "".join(f"<p>{sentence}</p>" for sentence in prose.sentences(seed, 4))
    return f"<html><head><title>{seed}</title></head><body>{body}</body></html>".encode()


@pytest.fixture
def run(fault_site: FaultSite, migrated_db_url: str, tmp_path: Path) -> Callable[[], RunOutcome]:
    """A run over ``slow`` (its feed answers late) and ``quick``, two items each."""
    entries = []
    for ident in ("slow", "quick"):
        links = [f"{fault_site.url}/{ident}/{n}.html" for n in (1, 2)]
        for n in (1, 2):
            fault_site.set(f"/{ident}/{n}.html", answer(_page(f"{ident} item {n}")))
        feed = _feed(links)
        fault_site.set(f"/{ident}.xml", _late(feed) if ident == "slow" else answer(feed))
        entries.append(
            f'[[source]]\nid = "{ident}"\nname = "{ident}"\nkind = "rss"\n'
            f'urls = ["{fault_site.url}/{ident}.xml"]\n'
        )
    sources = tmp_path / "sources.toml"
    sources.write_text("".join(entries), encoding="utf-8")
    alerts = tmp_path / "alerts.toml"
    alerts.write_text("", encoding="utf-8")
    options = IngestOptions(
        db_url=migrated_db_url,
        sources_path=sources,
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts,
    )
    return lambda: asyncio.run(run_once(options))


def _cli(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_each_read_source_records_its_duration(
    run: Callable[[], RunOutcome], migrated_db_url: str
) -> None:
    outcome = run()
    assert outcome.status == "completed", outcome.as_dict()

    listed = json.loads(_cli("runs", "--format", "json", "--db", migrated_db_url).stdout)
    durations = {s["source_id"]: s["duration"] for s in listed[0]["sources"]}
    assert durations["slow"] >= FEED_DELAY
    assert 0 < durations["quick"] < durations["slow"]
    # Sources are read at once: none took longer than the whole run.
    assert max(durations.values()) <= listed[0]["duration"]

    rows = csv.DictReader(
        io.StringIO(_cli("runs", "--format", "csv", "--db", migrated_db_url).stdout)
    )
    assert {r["source_id"]: float(r["duration"]) for r in rows} == durations

    shown = _cli("runs", "show", str(outcome.run_id), "--db", migrated_db_url)
    line = next(line for line in shown.output.splitlines() if line.startswith("slow "))
    assert line.split()[-1] == f"{durations['slow']:.1f}s"


def test_a_skipped_source_records_no_duration(
    run: Callable[[], RunOutcome], migrated_db_url: str
) -> None:
    run()  # the sources are known to the store from the first run on
    engine = db.make_engine(migrated_db_url)
    try:
        with Session(engine) as session, session.begin():
            repo.pause_source(session, "quick", reason="test", at=repo.utc_now())
    finally:
        engine.dispose()
    outcome = run()

    shown = json.loads(
        _cli(
            "runs", "show", str(outcome.run_id), "--format", "json", "--db", migrated_db_url
        ).stdout
    )
    by_source = {s["source_id"]: s for s in shown["sources"]}
    assert by_source["quick"]["status"] == "skipped"
    assert by_source["quick"]["duration"] is None
    assert by_source["slow"]["duration"] >= FEED_DELAY
