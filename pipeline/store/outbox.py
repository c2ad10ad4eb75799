"""The alert outbox: rows owed, claimed by one sender, then marked sent, failed or dead.

A row is owed once per (rule, story, channel, event), enforced by the unique constraint; rows
sharing a ``key`` are one message. A sender claims owed rows in one statement (on Postgres with
``FOR UPDATE SKIP LOCKED``, on SQLite with one atomic ``UPDATE … RETURNING``, which holds the
write lock from its first step), so two senders never take the same row. A claim records who
took it; a row left ``sending`` by a sender that died is owed again once its claim is stale.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from pipeline.models import OwedAlert
from pipeline.store.schema import AlertRow
from pipeline.store.sql import dialect_insert, utc_now

# Statuses a sender may take a row from (after its wait, for failed and unknown).
RETRYABLE = ("pending", "failed", "unknown")
# What ``alerts retry`` revives.
REVIVABLE = ("dead", "failed", "unknown")


def enqueue_alerts(session: Session, owed: Sequence[OwedAlert]) -> int:
    """Queue ``owed`` rows, each (rule, story, channel, event) once; how many new rows will be
    sent (baselined rows are stored but not counted)."""
    if not owed:
        return 0
    # A row the batch owes twice (a digest rule fired by several articles of one story) would
    # be refused by the table's key anyway: sending it once spares the statement the rest.
    first: dict[tuple[str, int, str, str], OwedAlert] = {}
    for alert in owed:
        first.setdefault((alert.rule, alert.story_id, alert.channel, alert.event), alert)
    owed = list(first.values())
    now = utc_now()
    rows = [
        {
            "key": alert.key,
            "rule": alert.rule,
            "story_id": alert.story_id,
            "article_id": alert.article_id,
            "channel": alert.channel,
            "event": alert.event,
            "mode": alert.mode,
            "severity": alert.severity,
            "status": "baselined" if alert.baselined else "pending",
            "created_at": now,
            "due_at": alert.due_at,
            "attempts": 0,
        }
        for alert in owed
    ]
    stmt = (
        dialect_insert(session, AlertRow)
        .on_conflict_do_nothing(index_elements=["rule", "story_id", "channel", "event"])
        .returning(AlertRow.status)
    )
    return sum(1 for (status,) in session.execute(stmt, rows) if status == "pending")


def alerted_channels(session: Session, story_ids: Collection[int]) -> set[tuple[int, str]]:
    """The (story, channel) pairs that hold an immediate alert for a new item already (sent,
    owed or baselined): an article joining such a story raises nothing there."""
    if not story_ids:
        return set()
    stmt = select(AlertRow.story_id, AlertRow.channel).where(
        AlertRow.story_id.in_(list(story_ids)),
        AlertRow.mode == "immediate",
        AlertRow.event == "new",
    )
    return {(story_id, channel) for story_id, channel in session.execute(stmt)}


def _owed(
    now: datetime,
    stale_before: datetime,
    dead_claimers: Sequence[str],
    tried_before: datetime | None,
) -> Any:
    """Rows a sender may take now: owed and due, or claimed by a sender that is gone."""
    waited = or_(AlertRow.next_attempt_at.is_(None), AlertRow.next_attempt_at <= now)
    if tried_before is not None:
        waited = or_(waited, AlertRow.claimed_at < tried_before)
    due = and_(AlertRow.status.in_(RETRYABLE), AlertRow.due_at <= now, waited)
    abandoned = and_(
        AlertRow.status == "sending",
        or_(AlertRow.claimed_at < stale_before, AlertRow.claimed_by.in_(list(dead_claimers))),
    )
    return or_(due, abandoned)


@dataclass(frozen=True)
class ClaimedRow:
    """A row a sender took: its message key, channel and how many times it has been tried."""

    id: int
    key: str
    channel: str
    mode: str
    attempts: int


def claim_alerts(
    session: Session,
    *,
    claimer: str,
    now: datetime,
    stale_before: datetime,
    dead_claimers: Sequence[str] = (),
    channels: Collection[str] | None = None,
    limit: int = 100,
    tried_before: datetime | None = None,
) -> list[ClaimedRow]:
    """Take up to ``limit`` messages' rows (every row of each key) for ``claimer``; commits.

    With ``tried_before``, rows last tried before then are taken before their wait is over
    (an operator's send; a row this send tried already waits).
    Run in a session of its own: the claiming statement must be its transaction's first, so
    SQLite takes the write lock before it reads.
    """
    owed = _owed(now, stale_before, dead_claimers, tried_before)
    if channels is not None:
        owed = and_(owed, AlertRow.channel.in_(list(channels)))
    keys = (
        select(AlertRow.key)
        .where(owed)
        .group_by(AlertRow.key)
        .order_by(func.min(AlertRow.id))
        .limit(limit)
    )
    picked: Select[Any] = select(AlertRow.id).where(owed, AlertRow.key.in_(keys))
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    stmt = (
        update(AlertRow)
        .where(AlertRow.id.in_(picked.scalar_subquery()))
        .values(
            status="sending",
            claimed_by=claimer,
            claimed_at=now,
            attempts=AlertRow.attempts + 1,
        )
        .returning(AlertRow.id, AlertRow.key, AlertRow.channel, AlertRow.mode, AlertRow.attempts)
    )
    claimed = [ClaimedRow(*row) for row in session.execute(stmt)]
    session.commit()
    return claimed


def claimers_sending(session: Session) -> list[str]:
    """Every sender holding a row in ``sending`` now."""
    stmt = select(AlertRow.claimed_by).where(AlertRow.status == "sending").distinct()
    return [claimer for claimer in session.scalars(stmt) if claimer]


def _finish(session: Session, ids: Iterable[int], claimer: str, **values: Any) -> int:
    """Update the rows ``claimer`` still holds; a row another sender reclaimed is left alone.
    ``claimed_at`` stays: the time of the row's last attempt."""
    result = session.execute(
        update(AlertRow)
        .where(
            AlertRow.id.in_(list(ids)),
            AlertRow.status == "sending",
            AlertRow.claimed_by == claimer,
        )
        .values(claimed_by=None, **values)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(session: Session, ids: Iterable[int], claimer: str, now: datetime) -> int:
    """Rows delivered: ``sent`` at ``now``; how many ``claimer`` still held."""
    return _finish(session, ids, claimer, status="sent", sent_at=now, last_error=None)


def mark_failed(
    session: Session,
    ids: Iterable[int],
    claimer: str,
    *,
    error: str,
    retry_at: datetime | None,
    unknown: bool = False,
) -> int:
    """Rows not delivered: retried at ``retry_at`` (``failed``, or ``unknown`` when the send
    may have arrived), or ``dead`` when ``retry_at`` is None (out of attempts)."""
    status = "dead" if retry_at is None else ("unknown" if unknown else "failed")
    return _finish(session, ids, claimer, status=status, last_error=error, next_attempt_at=retry_at)


def retry_alerts(
    session: Session,
    *,
    ids: Sequence[int] = (),
    rule: str | None = None,
    channel: str | None = None,
    statuses: Sequence[str] = REVIVABLE,
) -> int:
    """Make dead (or waiting failed) rows owed now with a fresh count of attempts; how many."""
    stmt = update(AlertRow).where(AlertRow.status.in_(list(statuses)))
    if ids:
        stmt = stmt.where(AlertRow.id.in_(list(ids)))
    if rule is not None:
        stmt = stmt.where(AlertRow.rule == rule)
    if channel is not None:
        stmt = stmt.where(AlertRow.channel == channel)
    result = session.execute(
        stmt.values(status="pending", attempts=0, next_attempt_at=None, last_error=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def outbox_counts(session: Session, since: datetime | None = None) -> dict[str, int]:
    """How many rows each status holds (created since ``since`` when given)."""
    stmt = select(AlertRow.status, func.count()).group_by(AlertRow.status)
    if since is not None:
        stmt = stmt.where(AlertRow.created_at >= since)
    return {status: count for status, count in session.execute(stmt)}
