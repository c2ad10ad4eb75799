"""Scheduling state per source: failed runs in a row, backoff, and an operator's pause.

Kept on the ``sources`` rows (their mirroring of ``sources.toml`` never touches it), so every
scheduler and machine on the database sees the same state. After each run the store records
each source it read: a success clears the count, a failure adds one, and from
``BACKOFF_AFTER_FAILURES`` failures in a row on the source is not read before
``next_attempt_at``. A run never switches a source off: it records that it skipped one, and why.
Reads are SQL text through a ``Reader`` or a caller's session, as the other read modules do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import update

from pipeline.errors import StoreError
from pipeline.settings import (
    BACKOFF_AFTER_FAILURES,
    BACKOFF_FIRST_WAIT,
    BACKOFF_MAX_WAIT,
    HONG_KONG_TZ,
)
from pipeline.store.reader import Reader, bind_list, reader_for, utc
from pipeline.store.schema import SourceRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_COLUMNS = (
    "id, consecutive_failures, last_failure_at, last_error, next_attempt_at, paused_at,"
    " paused_reason"
)


def backoff_wait(failures: int) -> timedelta | None:
    """How long a source that failed ``failures`` runs in a row waits before its next attempt:
    none below ``BACKOFF_AFTER_FAILURES``, then the first wait, doubled per further failure,
    capped at ``BACKOFF_MAX_WAIT``."""
    if failures < BACKOFF_AFTER_FAILURES:
        return None
    doublings = failures - BACKOFF_AFTER_FAILURES
    # Past the cap the doubling stops: no huge powers of two for a source down for months.
    if BACKOFF_FIRST_WAIT * 2 ** min(doublings, 32) >= BACKOFF_MAX_WAIT:
        return BACKOFF_MAX_WAIT
    return BACKOFF_FIRST_WAIT * 2**doublings


def hong_kong_time(moment: datetime) -> str:
    """A stored time as an operator reads it: Hong Kong time to the minute."""
    return moment.astimezone(ZoneInfo(HONG_KONG_TZ)).strftime("%Y-%m-%d %H:%M HKT")


@dataclass(frozen=True)
class SourceState:
    """One source's scheduling state as stored."""

    source_id: str
    consecutive_failures: int = 0
    last_failure_at: datetime | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    paused_at: datetime | None = None
    paused_reason: str | None = None

    @property
    def paused(self) -> bool:
        """Whether an operator paused the source."""
        return self.paused_at is not None

    def backing_off(self, now: datetime) -> bool:
        """Whether the source fails and is not to be read before a time after ``now``."""
        return self.next_attempt_at is not None and self.next_attempt_at > now

    def held(self, now: datetime) -> bool:
        """Whether a scheduled run at ``now`` skips the source (paused, or backing off)."""
        return self.paused or self.backing_off(now)

    def describe(self, now: datetime) -> str | None:
        """Why a run at ``now`` skips the source and when it is tried next; for a source that
        fails but is still read, how often it failed; None for a healthy one."""
        failed = f"{self.consecutive_failures} failed run(s) in a row"
        paused = self.describe_pause()
        if paused is not None:
            return f"{paused}; tried again after `newswatch sources resume {self.source_id}`"
        if self.next_attempt_at is not None and self.backing_off(now):
            later = hong_kong_time(self.next_attempt_at)
            return f"backing off after {failed}; next attempt after {later}"
        if self.consecutive_failures:
            return f"{failed}; read by every run until {BACKOFF_AFTER_FAILURES} in a row"
        return None

    def describe_pause(self) -> str | None:
        """Since when and why an operator paused the source; None when not paused."""
        if self.paused_at is None:
            return None
        why = f": {self.paused_reason}" if self.paused_reason else ""
        return f"paused by an operator since {hong_kong_time(self.paused_at)}{why}"

    def describe_failure(self) -> str | None:
        """The last failed run's time and error while the source fails; None once it
        succeeded again."""
        if not self.consecutive_failures or self.last_failure_at is None:
            return None
        return f"last failure {hong_kong_time(self.last_failure_at)}: {self.last_error or '?'}"


def source_states(db: Session | Reader, ids: Iterable[str] | None = None) -> dict[str, SourceState]:
    """The stored state of the sources ``ids`` (every stored source when None), by id; a
    source never stored has no entry."""
    reader = reader_for(db)
    params: dict[str, object] = {}
    where = ""
    if ids is not None:
        where = f" WHERE id IN ({bind_list('id', list(ids), params)})"
    rows = reader.rows(f"SELECT {_COLUMNS} FROM sources{where} ORDER BY id", params)
    return {
        row["id"]: SourceState(
            source_id=row["id"],
            consecutive_failures=int(row["consecutive_failures"] or 0),
            last_failure_at=utc(row["last_failure_at"]),
            last_error=row["last_error"],
            next_attempt_at=utc(row["next_attempt_at"]),
            paused_at=utc(row["paused_at"]),
            paused_reason=row["paused_reason"],
        )
        for row in rows
    }


def record_attempts(session: Session, outcomes: Mapping[str, str | None], *, at: datetime) -> None:
    """Record the sources a run read at ``at``: ``outcomes`` maps each to its error, None for
    a success. A success clears the failures and the backoff (a pause stays: it is the
    operator's); a failure adds one and, from ``BACKOFF_AFTER_FAILURES`` on, sets when the
    source is tried next."""
    for source_id, error in outcomes.items():
        if error is None:
            session.execute(
                update(SourceRow)
                .where(SourceRow.id == source_id)
                .values(consecutive_failures=0, next_attempt_at=None)
            )
            continue
        # Counted in the database, not read then written: two runs failing at once (the daily
        # and the regulators' at 07:00) both count, the second waiting for the first's lock.
        failures = session.execute(
            update(SourceRow)
            .where(SourceRow.id == source_id)
            .values(
                consecutive_failures=SourceRow.consecutive_failures + 1,
                last_failure_at=at,
                last_error=error,
            )
            .returning(SourceRow.consecutive_failures)
        ).scalar_one_or_none()
        wait = backoff_wait(int(failures or 0))
        if wait is not None:
            # Down to the minute: schedules fire on whole minutes and a run starts seconds
            # after, so the run an hour after a failed one reads the source rather than missing
            # it by those seconds and waiting a period more.
            not_before = (at + wait).replace(second=0, microsecond=0)
            session.execute(
                update(SourceRow)
                .where(SourceRow.id == source_id)
                .values(next_attempt_at=not_before)
            )


def pause_source(
    session: Session, source_id: str, *, reason: str | None, at: datetime
) -> SourceState:
    """Pause a source: scheduled runs skip it (and say so) until it is resumed. Pausing a
    paused source keeps when it was paused and replaces the reason when one is given."""
    before = _state(session, source_id)
    values: dict[str, object] = {"paused_at": before.paused_at or at}
    if reason is not None or before.paused_at is None:
        values["paused_reason"] = reason
    session.execute(update(SourceRow).where(SourceRow.id == source_id).values(**values))
    return _state(session, source_id)


def resume_source(session: Session, source_id: str) -> SourceState:
    """Resume a source: clear its pause and its backoff (the failures in a row too, so it is
    read by the next run whatever it did before). Returns the state it had."""
    before = _state(session, source_id)
    session.execute(
        update(SourceRow)
        .where(SourceRow.id == source_id)
        .values(paused_at=None, paused_reason=None, consecutive_failures=0, next_attempt_at=None)
    )
    return before


def _state(session: Session, source_id: str) -> SourceState:
    found = source_states(session, [source_id]).get(source_id)
    if found is None:
        raise StoreError(f"source {source_id!r} is not in the database's sources table")
    return found
