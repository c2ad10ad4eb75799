"""Reading runs: the recent ingestion runs with each source's counts and error.

The read side of ``runs`` (which records them): SQL text read through a
``pipeline.store.reader.Reader`` (or a caller's session), so ``newswatch runs`` starts without
SQLAlchemy. ``repo`` exports these for the library's callers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.store.reader import Reader, bind_list, json_value, reader_for, stored_time, utc

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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


def latest_runs(db: Session | Reader, limit: int = 10) -> list[RunRecord]:
    """The most recent runs, newest first."""
    reader = reader_for(db)
    runs = reader.rows(
        "SELECT id, flow_run_id, started_at, finished_at, status, options, error FROM runs"
        " ORDER BY id DESC LIMIT :limit",
        {"limit": limit},
    )
    per_run = _sources(reader, [run["id"] for run in runs])
    return [
        RunRecord(
            id=run["id"],
            flow_run_id=run["flow_run_id"],
            started_at=stored_time(run["started_at"]),
            finished_at=utc(run["finished_at"]),
            status=run["status"],
            options=dict(json_value(run["options"]) or {}),
            error=run["error"],
            sources=tuple(per_run.get(run["id"], ())),
        )
        for run in runs
    ]


def _sources(reader: Reader, run_ids: list[int]) -> dict[int, list[RunSourceRecord]]:
    """Each run's per-source outcomes, by source id."""
    if not run_ids:
        return {}
    params: dict[str, Any] = {}
    sql = (
        "SELECT run_id, source_id, status, found, new, duplicates, errors, error, finished_at"
        f" FROM run_sources WHERE run_id IN ({bind_list('run', run_ids, params)})"
        " ORDER BY source_id"
    )
    per_run: dict[int, list[RunSourceRecord]] = {}
    for row in reader.rows(sql, params):
        per_run.setdefault(row["run_id"], []).append(
            RunSourceRecord(
                source_id=row["source_id"],
                status=row["status"],
                found=row["found"],
                new=row["new"],
                duplicates=row["duplicates"],
                errors=row["errors"],
                error=row["error"],
                finished_at=stored_time(row["finished_at"]),
            )
        )
    return per_run


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
