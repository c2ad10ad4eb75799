"""The alert outbox: an alert is queued once per (article, rule, channel), then marked sent or
failed by whoever delivers it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipeline.errors import StoreError
from pipeline.models import Alert
from pipeline.store.schema import ALERT_STATUSES, AlertRow, Article
from pipeline.store.sql import check_allowed, dialect_insert, utc_now

# An alert snippet is the article's opening, short enough for a chat message or a mail subject.
SNIPPET_CHARS = 280
# A failed alert is retried on later sends until it has failed this many times; then it waits
# for an operator (``alerts list --status failed``) instead of failing on every run.
MAX_ALERT_ATTEMPTS = 5


def enqueue_alerts(session: Session, alerts: Sequence[tuple[int, str, str]]) -> int:
    """Queue alerts given as (article id, rule, channel), each once; how many were new."""
    if not alerts:
        return 0
    now = utc_now()
    rows = [
        {
            "article_id": article_id,
            "rule": rule,
            "channel": channel,
            "status": "pending",
            "created_at": now,
            "attempts": 0,
        }
        for article_id, rule, channel in dict.fromkeys(alerts)
    ]
    stmt = (
        dialect_insert(session, AlertRow)
        .on_conflict_do_nothing(index_elements=["article_id", "rule", "channel"])
        .returning(AlertRow.id)
    )
    return len(session.execute(stmt, rows).all())


def _alert_query() -> Any:
    return select(
        AlertRow,
        Article.source_id,
        Article.title,
        Article.url,
        Article.published_at,
        func.substr(Article.text, 1, SNIPPET_CHARS),
    ).join(Article, Article.id == AlertRow.article_id)


def _alerts(session: Session, stmt: Any) -> list[Alert]:
    return [
        Alert(
            id=row.id,
            article_id=row.article_id,
            source_id=source_id,
            rule=row.rule,
            channel=row.channel,
            title=title,
            url=url,
            published_at=published_at,
            created_at=row.created_at,
            sent_at=row.sent_at,
            status=row.status,
            snippet=snippet or "",
        )
        for row, source_id, title, url, published_at, snippet in session.execute(stmt)
    ]


def pending_alerts(
    session: Session, channel: str | None = None, limit: int | None = None
) -> list[Alert]:
    """Alerts still owed, oldest first: pending ones, and failed ones with retries left."""
    stmt = _alert_query().where(
        (AlertRow.status == "pending")
        | ((AlertRow.status == "failed") & (AlertRow.attempts < MAX_ALERT_ATTEMPTS))
    )
    if channel is not None:
        stmt = stmt.where(AlertRow.channel == channel)
    stmt = stmt.order_by(AlertRow.created_at, AlertRow.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return _alerts(session, stmt)


def _mark_alert(session: Session, alert_id: int, **values: Any) -> None:
    result = session.execute(
        update(AlertRow)
        .where(AlertRow.id == alert_id)
        .values(attempts=AlertRow.attempts + 1, **values)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise StoreError(f"alert {alert_id} does not exist")


def mark_alert_sent(session: Session, alert_id: int) -> None:
    """Record that alert ``alert_id`` was delivered."""
    _mark_alert(session, alert_id, status="sent", sent_at=utc_now(), last_error=None)


def mark_alert_failed(session: Session, alert_id: int, error: str) -> None:
    """Record a failed delivery of alert ``alert_id`` and why."""
    _mark_alert(session, alert_id, status="failed", last_error=error)


def list_alerts(
    session: Session,
    *,
    status: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[Alert]:
    """Alerts in the outbox, newest first, optionally by status and creation time."""
    stmt = _alert_query()
    if status is not None:
        check_allowed(status, ALERT_STATUSES, "alert status")
        stmt = stmt.where(AlertRow.status == status)
    if since is not None:
        stmt = stmt.where(AlertRow.created_at >= since)
    stmt = stmt.order_by(AlertRow.created_at.desc(), AlertRow.id.desc()).limit(limit)
    return _alerts(session, stmt)
