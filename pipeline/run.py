"""Wiring for one ingestion run: configuration, database, HTTP client, tagger, then the stages.

The Prefect flow and the benchmark both call ``run_once``; only the stage callables differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from pipeline.alerts import DeliveryReport, deliver_pending
from pipeline.config import (
    AlertsConfig,
    Settings,
    load_alerts,
    load_sources,
    select_sources,
)
from pipeline.errors import NewswatchError
from pipeline.fetch import DbValidatorStore, Fetcher, FetchPolicy, ReplayTransport, build_client
from pipeline.ingest import Stages, run_ingest
from pipeline.ingest_records import RunResult, SourceReport
from pipeline.store import db, repo
from pipeline.tag import Tagger


@dataclass(frozen=True)
class IngestOptions:
    """What a run reads and where it writes."""

    db_url: str
    sources_path: Path = Path("sources.toml")
    taxonomy_path: Path = Path("taxonomy.toml")
    alerts_path: Path = Path("alerts.toml")
    replay: Path | None = None
    source_ids: list[str] = field(default_factory=list)
    since: datetime | None = None
    # The wall clock unless given: a replay or test passes the time its answers were recorded.
    now: datetime | None = None

    def record(self) -> dict[str, Any]:
        """The options as kept on the run record."""
        return {
            "sources_path": str(self.sources_path),
            "replay": str(self.replay) if self.replay else None,
            "source_ids": self.source_ids,
            "since": self.since.isoformat() if self.since else None,
            "now": self.now.isoformat() if self.now else None,
        }


@dataclass
class RunOutcome:
    """A finished run: its id and status, per-source reports, alerts queued and delivered."""

    run_id: int | None
    status: str
    reports: dict[str, SourceReport] = field(default_factory=dict)
    new_article_ids: list[int] = field(default_factory=list)
    alerts_queued: int = 0
    delivery: DeliveryReport | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able summary (the flow's return value)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "error": self.error,
            "new_articles": len(self.new_article_ids),
            "alerts_queued": self.alerts_queued,
            "alerts_sent": self.delivery.sent if self.delivery else 0,
            "sources": {
                sid: {
                    "status": r.status,
                    "found": r.found,
                    "new": r.new,
                    "duplicates": r.duplicates,
                    "updated": r.updated,
                    "notes": r.notes,
                    "errors": r.errors + (1 if r.error else 0),
                    "error": r.error,
                }
                for sid, r in self.reports.items()
            },
        }


def _record_failed_run(
    db_url: str, options: IngestOptions, error: str, flow_run_id: str | None
) -> int:
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            run_id = repo.start_run(session, flow_run_id=flow_run_id, options=options.record())
            repo.finish_run(session, run_id, "failed", error=error)
        return run_id
    finally:
        engine.dispose()


async def run_once(
    options: IngestOptions,
    *,
    stages: Stages | None = None,
    deliver: Callable[..., DeliveryReport] = deliver_pending,
    flow_run_id: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    fetch_policy: FetchPolicy | None = None,
) -> RunOutcome:
    """Load configuration, run the stages, deliver the alerts; configuration errors fail the run.

    ``fetch_policy`` replaces the fetch layer's limits and retry waits (tests shorten them).
    """
    engine = db.make_engine(options.db_url)
    try:
        db.check_schema(engine)
        try:
            sources = select_sources(load_sources(options.sources_path), options.source_ids)
            tagger = Tagger.from_path(options.taxonomy_path)
            alerts: AlertsConfig = load_alerts(options.alerts_path)
            if transport is None and options.replay is not None:
                transport = ReplayTransport(options.replay)
        except NewswatchError as exc:
            message = f"configuration: {exc}"
            run_id = _record_failed_run(options.db_url, options, message, flow_run_id)
            return RunOutcome(run_id=run_id, status="failed", error=message)
        settings = Settings.from_env()
        async with build_client(
            transport, user_agent=settings.user_agent, policy=fetch_policy
        ) as client:
            fetcher = Fetcher(
                client,
                policy=fetch_policy,
                polite=options.replay is None,
                validators=DbValidatorStore(engine),
            )
            result: RunResult = await run_ingest(
                engine=engine,
                sources=sources,
                fetcher=fetcher,
                tagger=tagger,
                alerts=alerts,
                since=options.since,
                now=options.now,
                flow_run_id=flow_run_id,
                options=options.record(),
                stages=stages,
            )
        delivery = deliver(engine, alerts)
        return RunOutcome(
            run_id=result.run_id,
            status=result.status,
            reports=result.reports,
            new_article_ids=result.new_article_ids,
            alerts_queued=result.alerts_queued,
            delivery=delivery,
        )
    finally:
        engine.dispose()
