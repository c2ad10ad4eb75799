"""Wiring for one ingestion run: configuration, database, HTTP client, tagger, then the stages.

The Prefect flow, the CLI's checks and the benchmarks all go through here; only the stage
callables differ. A configuration that does not load fails the run before any request: the run
is recorded as failed with the reason, and ``ConfigError`` is raised, so a flow run ends Failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.alerts import DeliveryReport, send_alerts
from pipeline.alerts.config import AlertsConfig
from pipeline.config import select_sources
from pipeline.configuration import check_configuration
from pipeline.dates import local_time
from pipeline.errors import ConfigError
from pipeline.fetch import Fetcher, FetchPolicy, ReplayTransport, build_client
from pipeline.fetch.guard import AddressGuard
from pipeline.ingest.records import RunResult, SourceReport
from pipeline.ingest.run import Stages, run_ingest
from pipeline.models import Source
from pipeline.settings import ConfigFiles, find_config_files, user_agent
from pipeline.store import db, repo
from pipeline.tag import Tagger

# How the enabled sources split between runs on several workers: the sources with
# ``regulator = true``, and every other one. Together they are every enabled source, once.
PARTITIONS = ("regulators", "news")


@dataclass(frozen=True)
class IngestOptions:
    """What a run reads and where it writes; unset files are found as ``pipeline.settings``
    describes."""

    db_url: str
    config_dir: Path | None = None
    sources_path: Path | None = None
    taxonomy_path: Path | None = None
    alerts_path: Path | None = None
    replay: Path | None = None
    source_ids: list[str] = field(default_factory=list)
    # Only the sources with ``regulator = true`` (the half-hourly regulators deployment): the
    # same as ``partition="regulators"``, kept for the deployments that already pass it.
    regulators_only: bool = False
    # One of ``PARTITIONS``: only that share of the sources, so workers can split a run.
    partition: str | None = None
    since: datetime | None = None
    # The wall clock unless given: a replay or test passes the time its answers were recorded.
    now: datetime | None = None

    def chosen_partition(self) -> str | None:
        """The partition the run reads (``regulators_only`` is the regulators one), or None
        for every source; ``ConfigError`` for an unknown name or a contradiction."""
        if self.partition is not None and self.partition not in PARTITIONS:
            raise ConfigError(
                f"partition {self.partition!r} is not one of: {', '.join(PARTITIONS)}"
            )
        if self.regulators_only and self.partition not in (None, "regulators"):
            raise ConfigError(
                f"regulators_only and partition {self.partition!r} ask for different sources"
            )
        return "regulators" if self.regulators_only else self.partition

    def config_files(self) -> ConfigFiles:
        """The configuration files this run reads."""
        return find_config_files(
            self.config_dir,
            sources=self.sources_path,
            taxonomy=self.taxonomy_path,
            alerts=self.alerts_path,
        )

    def record(self, files: ConfigFiles | None = None) -> dict[str, Any]:
        """The options as kept on the run record."""
        return {
            "sources_path": str(files.sources.path if files else self.sources_path),
            "taxonomy_path": str(files.taxonomy.path if files else self.taxonomy_path),
            "alerts_path": str(files.alerts.path if files else self.alerts_path),
            "replay": str(self.replay) if self.replay else None,
            "source_ids": self.source_ids,
            "regulators_only": self.regulators_only or self.partition == "regulators",
            # As asked, unchecked: a run refused for an unknown partition is recorded too.
            "partition": self.partition or ("regulators" if self.regulators_only else None),
            "since": self.since.isoformat() if self.since else None,
            "now": self.now.isoformat() if self.now else None,
        }


@dataclass(frozen=True)
class RunConfig:
    """A run's configuration, loaded and checked across files."""

    files: ConfigFiles
    sources: list[Source]
    tagger: Tagger
    alerts: AlertsConfig


def in_partition(source: Source, partition: str) -> bool:
    """Whether ``source`` belongs to ``partition`` (one of ``PARTITIONS``)."""
    return source.regulator if partition == "regulators" else not source.regulator


def load_run_config(options: IngestOptions) -> RunConfig:
    """Load every configuration file the run needs; ``ConfigError`` lists every problem."""
    files = options.config_files()
    partition = options.chosen_partition()
    sources, taxonomy, alerts = check_configuration(files).require()
    selected = select_sources(sources, options.source_ids)
    if partition is not None:
        selected = [source for source in selected if in_partition(source, partition)]
        if not selected:
            # A partition with nothing to read would pass unnoticed on every schedule.
            raise ConfigError(_empty_partition(files, partition))
    return RunConfig(files, selected, Tagger(taxonomy), alerts)


def _empty_partition(files: ConfigFiles, partition: str) -> str:
    if partition == "regulators":
        return (
            f"{files.sources.path}: no enabled source has regulator = true,"
            " so a regulators-only run has nothing to read"
        )
    return (
        f"{files.sources.path}: every enabled source has regulator = true,"
        " so a news partition run has nothing to read"
    )


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
            "alerts": (self.delivery or DeliveryReport()).as_dict(),
            "sources": {sid: _source_summary(r) for sid, r in self.reports.items()},
        }


def _source_summary(report: SourceReport) -> dict[str, Any]:
    return {
        "status": report.status,
        "found": report.found,
        "new": report.new,
        "duplicates": report.duplicates,
        "updated": report.updated,
        "notes": report.notes,
        "errors": report.errors + (1 if report.error else 0),
        "error": report.error,
        # Why the run skipped the source, and when it is tried next (Hong Kong time).
        "skipped": report.held,
        "next_attempt_at": _hong_kong_iso(report.next_attempt_at),
    }


def _hong_kong_iso(moment: datetime | None) -> str | None:
    local = local_time(moment)
    return local.isoformat() if local is not None else None


def _record_failed_run(
    engine: Engine, options: IngestOptions, error: str, flow_run_id: str | None
) -> None:
    with Session(engine) as session, session.begin():
        run_id = repo.start_run(session, flow_run_id=flow_run_id, options=options.record())
        repo.finish_run(session, run_id, "failed", error=error)


async def run_once(
    options: IngestOptions,
    *,
    stages: Stages | None = None,
    deliver: Callable[..., DeliveryReport] = send_alerts,
    flow_run_id: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    fetch_policy: FetchPolicy | None = None,
) -> RunOutcome:
    """Load configuration, run the stages, deliver the alerts.

    A new, empty database gets its schema first; one at an older schema is refused untouched.
    ``fetch_policy`` replaces the fetch layer's limits and retry waits (tests shorten them).
    """
    db.prepare_schema(options.db_url)
    engine = db.open_engine(options.db_url)
    try:
        try:
            config = load_run_config(options)
        except ConfigError as exc:
            _record_failed_run(engine, options, f"configuration: {exc}", flow_run_id)
            raise
        if transport is None and options.replay is not None:
            transport = ReplayTransport(options.replay)
        result = await _run(options, config, engine, stages, flow_run_id, transport, fetch_policy)
        delivery = deliver(engine, config.alerts)
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


async def _run(
    options: IngestOptions,
    config: RunConfig,
    engine: Engine,
    stages: Stages | None,
    flow_run_id: str | None,
    transport: httpx.AsyncBaseTransport | None,
    fetch_policy: FetchPolicy | None,
) -> RunResult:
    # A live run checks every request against the network boundary; a replay sends none.
    guard = AddressGuard.from_env() if transport is None else None
    async with build_client(
        transport, user_agent=user_agent(), policy=fetch_policy, guard=guard
    ) as client:
        fetcher = Fetcher(
            client,
            policy=fetch_policy,
            polite=options.replay is None,
            validators=repo.DbValidatorStore(engine),
            guard=guard,
        )
        return await run_ingest(
            engine=engine,
            sources=config.sources,
            fetcher=fetcher,
            tagger=config.tagger,
            alerts=config.alerts,
            since=options.since,
            now=options.now,
            flow_run_id=flow_run_id,
            options=options.record(config.files),
            stages=stages,
            replayed=options.replay is not None,
            # Sources an operator named are read even when paused or backing off.
            named=bool(options.source_ids),
        )
