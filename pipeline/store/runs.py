"""Runs: one record per ingestion run, with each source's counts and error in it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from pipeline.errors import StoreError
from pipeline.store.schema import RUN_STATUSES, SOURCE_RESULT_STATUSES, Article, Run, RunSource
from pipeline.store.sql import check_allowed, dialect_insert, utc_now


@dataclass(frozen=True)
class RunSourceRecord:
    """One source's outcome in one run."""

    source_id: str
    status: str
    found: int
    new: int
    duplicates: int
    errors: int
    error: str | None
    finished_at: datetime


@dataclass(frozen=True)
class RunRecord:
    """A run with its per-source outcomes."""

    id: int
    flow_run_id: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    options: dict[str, Any]
    error: str | None
    sources: tuple[RunSourceRecord, ...]


def start_run(session: Session, *, flow_run_id: str | None, options: dict[str, Any]) -> int:
    """Open a run record in state ``running``; returns its id."""
    stmt = (
        dialect_insert(session, Run)
        .values(flow_run_id=flow_run_id, started_at=utc_now(), status="running", options=options)
        .returning(Run.id)
    )
    return int(session.execute(stmt).scalar_one())


def holds_articles(session: Session) -> bool:
    """Whether any article is stored: a run on a store without one is the first run."""
    return bool(session.scalar(select(exists().select_from(Article))))


def record_source_result(
    session: Session,
    run_id: int,
    source_id: str,
    *,
    status: str,
    found: int,
    new: int,
    duplicates: int,
    errors: int,
    error: str | None = None,
) -> None:
    """Store (or replace) one source's counts and error for a run."""
    check_allowed(status, SOURCE_RESULT_STATUSES, f"run {run_id}, source {source_id!r}: status")
    values = {
        "status": status,
        "found": found,
        "new": new,
        "duplicates": duplicates,
        "errors": errors,
        "error": error,
        "finished_at": utc_now(),
    }
    stmt = dialect_insert(session, RunSource).values(run_id=run_id, source_id=source_id, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["run_id", "source_id"],
            set_={name: stmt.excluded[name] for name in values},
        )
    )


def finish_run(session: Session, run_id: int, status: str, error: str | None = None) -> None:
    """Close a run with its final status (and the error that failed it, if any)."""
    check_allowed(status, RUN_STATUSES, f"run {run_id}: status")
    result = session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status=status, finished_at=utc_now(), error=error)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise StoreError(f"run {run_id} does not exist")


def _run_records(session: Session, runs: list[Run]) -> list[RunRecord]:
    per_run: dict[int, list[RunSourceRecord]] = {run.id: [] for run in runs}
    if per_run:
        rows = session.scalars(
            select(RunSource)
            .where(RunSource.run_id.in_(list(per_run)))
            .order_by(RunSource.source_id)
        )
        for row in rows:
            per_run[row.run_id].append(
                RunSourceRecord(
                    source_id=row.source_id,
                    status=row.status,
                    found=row.found,
                    new=row.new,
                    duplicates=row.duplicates,
                    errors=row.errors,
                    error=row.error,
                    finished_at=row.finished_at,
                )
            )
    return [
        RunRecord(
            id=run.id,
            flow_run_id=run.flow_run_id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            status=run.status,
            options=dict(run.options or {}),
            error=run.error,
            sources=tuple(per_run[run.id]),
        )
        for run in runs
    ]


def latest_runs(session: Session, limit: int = 10) -> list[RunRecord]:
    """The most recent runs, newest first."""
    runs = list(session.scalars(select(Run).order_by(Run.id.desc()).limit(limit)))
    return _run_records(session, runs)


def run_record_dict(record: RunRecord) -> dict[str, Any]:
    """A JSON-able form of a run record (timestamps in ISO 8601)."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    result: dict[str, Any] = plain(asdict(record))
    return result
