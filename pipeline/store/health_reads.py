"""Reading what ``newswatch health`` judges: each source's failures, pause, backoff and last new
item, the last completed daily run, and the alerts by status.

SQL text read through a ``pipeline.store.reader.Reader`` (or a caller's session), so
``newswatch health`` starts without SQLAlchemy on a SQLite file; ``pipeline.health`` judges
the facts. The sources judged are those the last completed daily run read (a source removed
from sources.toml keeps its row, and is not expected to bring anything any more); before any
daily run, every enabled source.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.health import OWED_ALERTS, AlertFacts, Facts, SourceFacts
from pipeline.store.reader import Reader, bind_list, json_value, reader_for, utc

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Finished runs are read this many at a time, newest first, until a daily one: the regulators'
# runs come every half hour, so a page holds about four days of them.
RUNS_PAGE = 200
FINISHED = ("completed", "completed_with_errors")


def health_facts(db: Session | Reader, *, now: datetime, overdue_before: datetime) -> Facts:
    """The facts as of ``now``; an owed alert due before ``overdue_before`` is overdue."""
    reader = reader_for(db)
    daily = last_daily_run(reader)
    daily_id, daily_at = (daily[0], daily[1]) if daily else (None, None)
    ids = _daily_sources(reader, daily_id) if daily_id is not None else None
    return Facts(
        now=now,
        sources=tuple(_source_facts(reader, ids)),
        last_daily_run_id=daily_id,
        last_daily_run_at=daily_at,
        alerts=tuple(_alert_facts(reader, overdue_before)),
    )


def is_daily(options: dict[str, Any]) -> bool:
    """Whether a run with these options was a daily run: every enabled source, as scheduled
    (not one partition of the sources, not named sources, not a backfill)."""
    partial = ("regulators_only", "partition", "source_ids", "since")
    return not any(options.get(name) for name in partial)


def last_daily_run(db: Session | Reader) -> tuple[int, datetime] | None:
    """The id and end of the last completed daily run; None when there is none."""
    for row in _finished_runs(reader_for(db)):
        finished = utc(row["finished_at"])
        if finished is not None and is_daily(dict(json_value(row["options"]) or {})):
            return int(row["id"]), finished
    return None


def _finished_runs(reader: Reader) -> Iterator[dict[str, Any]]:
    """Completed runs, newest first, a page at a time."""
    params: dict[str, Any] = {"limit": RUNS_PAGE}
    statuses = bind_list("status", FINISHED, params)
    older = ""
    while True:
        rows = reader.rows(
            f"SELECT id, finished_at, options FROM runs WHERE status IN ({statuses}){older}"
            " ORDER BY id DESC LIMIT :limit",
            params,
        )
        yield from rows
        if len(rows) < RUNS_PAGE:
            return
        params["before"], older = rows[-1]["id"], " AND id < :before"


def _daily_sources(reader: Reader, run_id: int) -> list[str]:
    rows = reader.rows("SELECT source_id FROM run_sources WHERE run_id = :id", {"id": run_id})
    return [row["source_id"] for row in rows]


def _source_facts(reader: Reader, ids: list[str] | None) -> Iterator[SourceFacts]:
    """The facts of the sources ``ids`` (every enabled source when None), by id."""
    params: dict[str, Any] = {}
    where = "s.enabled = :enabled" if ids is None else f"s.id IN ({bind_list('id', ids, params)})"
    if ids is None:
        params["enabled"] = True
    # A sighting is kept once per source and article, when the source first lists it: its
    # latest is the last time the source brought anything new to it (a new article, a copy,
    # an item another source stored first). Run counts cannot say so: ``duplicates`` also
    # counts the items a feed lists again every run.
    last_new = "SELECT MAX(g.seen_at) FROM sightings g WHERE g.source_id = s.id"
    # Through the (source_id, finished_at) index: one step per source.
    first = "SELECT MIN(r.finished_at) FROM run_sources r WHERE r.source_id = s.id"
    rows = reader.rows(
        "SELECT s.id, s.doc_type, s.consecutive_failures, s.last_error, s.last_failure_at,"
        " s.next_attempt_at, s.paused_at, s.paused_reason,"
        f" ({last_new}) AS last_new_at, ({first}) AS first_run_at"
        f" FROM sources s WHERE {where} ORDER BY s.id",
        params,
    )
    for row in rows:
        yield SourceFacts(
            source_id=row["id"],
            doc_type=row["doc_type"],
            consecutive_failures=int(row["consecutive_failures"] or 0),
            last_error=row["last_error"],
            last_failure_at=utc(row["last_failure_at"]),
            next_attempt_at=utc(row["next_attempt_at"]),
            paused_at=utc(row["paused_at"]),
            paused_reason=row["paused_reason"],
            last_new_at=utc(row["last_new_at"]),
            first_run_at=utc(row["first_run_at"]),
        )


def _alert_facts(reader: Reader, overdue_before: datetime) -> Iterator[AlertFacts]:
    """Per status: how many alerts, how many owed ones were due before ``overdue_before``,
    and the oldest due time of the owed ones."""
    params: dict[str, Any] = {"cutoff": reader.time(overdue_before)}
    owed = bind_list("owed", OWED_ALERTS, params)
    rows = reader.rows(
        "SELECT status, COUNT(*) AS n,"
        f" SUM(CASE WHEN status IN ({owed}) AND due_at < :cutoff THEN 1 ELSE 0 END) AS overdue,"
        f" MIN(CASE WHEN status IN ({owed}) THEN due_at END) AS oldest"
        " FROM alerts GROUP BY status ORDER BY status",
        params,
    )
    for row in rows:
        yield AlertFacts(
            status=row["status"],
            count=int(row["n"]),
            overdue=int(row["overdue"] or 0),
            oldest_due_at=utc(row["oldest"]),
        )
