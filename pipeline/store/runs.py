"""Runs: one record per ingestion run, with each source's counts and error in it.

This module writes them; ``run_reads`` reads them back. A run records the process that runs it
(pid and host) and a heartbeat, moved by every write of the run, so one that dies is found
and marked ``crashed`` (``run_reads.mark_crashed_runs``), first of all by the next run.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from pipeline.errors import StoreError
from pipeline.store.run_reads import mark_crashed_runs, this_host
from pipeline.store.schema import RUN_STATUSES, SOURCE_RESULT_STATUSES, Article, Run, RunSource
from pipeline.store.sql import check_allowed, dialect_insert, utc_now


def start_run(session: Session, *, flow_run_id: str | None, options: dict[str, Any]) -> int:
    """Open a run record in state ``running``, with this process and host; returns its id.

    Runs left ``running`` by a process that died are marked ``crashed`` first."""
    now = utc_now()
    mark_crashed_runs(session, now)
    stmt = (
        dialect_insert(session, Run)
        .values(
            flow_run_id=flow_run_id,
            started_at=now,
            status="running",
            options=options,
            pid=os.getpid(),
            host=this_host(),
            heartbeat_at=now,
        )
        .returning(Run.id)
    )
    return int(session.execute(stmt).scalar_one())


def touch_run(session: Session, run_id: int) -> None:
    """Move the run's heartbeat to now: it is alive. Cheap (one row by its key); a run that
    goes long between writes calls it so no other machine takes it for dead."""
    session.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utc_now()))


# A run that got to its end, with or without some sources failing.
FINISHED_STATUSES = ("completed", "completed_with_errors")


def is_first_run(session: Session) -> bool:
    """Whether a run starting now is the store's first: no article is stored, or no run has
    finished yet. A first run that died part-way leaves the next run first still, so the old
    items it did not reach are baselined as one whole first run would have."""
    if not session.scalar(select(exists().select_from(Article))):
        return True
    finished = exists().where(Run.status.in_(FINISHED_STATUSES))
    return not session.scalar(select(finished))


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
    duration: float | None = None,
) -> None:
    """Store (or replace) one source's counts, error and seconds taken for a run."""
    check_allowed(status, SOURCE_RESULT_STATUSES, f"run {run_id}, source {source_id!r}: status")
    values = {
        "status": status,
        "found": found,
        "new": new,
        "duplicates": duplicates,
        "errors": errors,
        "error": error,
        "finished_at": utc_now(),
        "duration": duration,
    }
    stmt = dialect_insert(session, RunSource).values(run_id=run_id, source_id=source_id, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["run_id", "source_id"],
            set_={name: stmt.excluded[name] for name in values},
        )
    )
    touch_run(session, run_id)


def finish_run(session: Session, run_id: int, status: str, error: str | None = None) -> None:
    """Close a run with its final status (and the error that failed it, if any).

    A run marked ``crashed`` while it was in fact alive (silent too long, seen from another
    machine) gets its real status here."""
    check_allowed(status, RUN_STATUSES, f"run {run_id}: status")
    now = utc_now()
    result = session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status=status, finished_at=now, error=error, heartbeat_at=now)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise StoreError(f"run {run_id} does not exist")
