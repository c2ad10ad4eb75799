"""Alert outbox per story: one row per (rule, story, channel, event), claimed before sending.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

An alert is about a story: the unique key moves from (article, rule, channel) to (rule, story,
channel, event), so a second language version or outlet joining a story raises nothing. Rows
sharing ``key`` are delivered as one message, and ``key`` is the idempotency key a receiver
sees. ``due_at`` holds a digest back to its hour; ``next_attempt_at`` spaces out retries;
``claimed_by``/``claimed_at`` let one sender take a row so no other sends it too. The statuses
gain ``sending``, ``unknown`` (a timeout: it may have arrived), ``dead`` (out of attempts) and
``baselined`` (before the first run's window: stored, never sent).

Existing rows are kept: each gets its article's story; a second row of one (rule, story,
channel) keeps its own event (``article:<id>``), so no row is lost. A failed row out of
attempts becomes ``dead``. The old table is read into memory, dropped and rebuilt: SQLite
cannot change a unique constraint in place, and Postgres keeps constraint names a renamed
table would clash with. Outboxes are small (one row per alerted story and channel).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES_BEFORE = ("pending", "sent", "failed")
STATUSES_AFTER = ("pending", "sending", "sent", "failed", "unknown", "dead", "baselined")
MODES = ("immediate", "digest")
# The attempts after which 0005's sender stopped retrying a failed alert.
ATTEMPTS_BEFORE = 5
OLD_COLUMNS = ("id", "article_id", "rule", "channel", "status", "created_at", "sent_at")
OLD_COLUMNS += ("attempts", "last_error")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _key(story_id: int, channel: str, event: str) -> str:
    # The same form as pipeline.store.outbox.alert_key; a migration keeps its own copy.
    digest = hashlib.sha1(f"{story_id}|{channel}|{event}".encode()).hexdigest()
    return f"nw-{digest[:20]}"


def _timestamp(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _create_new_table() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        _timestamp("created_at"),
        _timestamp("due_at"),
        _timestamp("next_attempt_at", nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        _timestamp("claimed_at", nullable=True),
        _timestamp("sent_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint(
            "rule", "story_id", "channel", "event", name="uq_alerts_rule_story_id_channel_event"
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_alerts_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(_one_of("status", STATUSES_AFTER), name="ck_alerts_status"),
        sa.CheckConstraint(_one_of("mode", MODES), name="ck_alerts_mode"),
    )
    op.create_index("ix_alerts_status_next_attempt_at", "alerts", ["status", "next_attempt_at"])
    op.create_index("ix_alerts_key", "alerts", ["key"])
    op.create_index("ix_alerts_story_id", "alerts", ["story_id"])


def _create_old_table() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint(
            "article_id", "rule", "channel", name="uq_alerts_article_id_rule_channel"
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_alerts_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(_one_of("status", STATUSES_BEFORE), name="ck_alerts_status"),
    )
    op.create_index("ix_alerts_status", "alerts", ["status"])


def _old_rows() -> list[dict[str, Any]]:
    bind = op.get_bind()
    columns = ", ".join(f"a.{name}" for name in OLD_COLUMNS)
    result = bind.execute(
        sa.text(
            f"SELECT {columns}, COALESCE(ar.story_id, 0) AS story_id FROM alerts a"
            " JOIN articles ar ON ar.id = a.article_id ORDER BY a.id"
        )
    )
    return [dict(row._mapping) for row in result]


def _upgraded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, int, str]] = set()
    out = []
    for row in rows:
        group = (row["rule"], row["story_id"], row["channel"])
        event = "new" if group not in seen else f"article:{row['article_id']}"
        seen.add(group)
        status = row["status"]
        if status == "failed" and row["attempts"] >= ATTEMPTS_BEFORE:
            status = "dead"
        out.append(
            {
                **{name: row[name] for name in OLD_COLUMNS if name != "status"},
                "status": status,
                "story_id": row["story_id"],
                "event": event,
                "key": _key(row["story_id"], row["channel"], event),
                "mode": "immediate",
                "severity": "normal",
                "due_at": row["created_at"],
            }
        )
    return out


def _reset_sequence() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('alerts', 'id'),"
            " COALESCE((SELECT MAX(id) FROM alerts), 0) + 1, false)"
        )


def upgrade() -> None:
    """Rebuild ``alerts`` keyed on stories, keeping every row."""
    rows = _upgraded(_old_rows())
    op.drop_index("ix_alerts_status", table_name="alerts")
    op.drop_table("alerts")
    _create_new_table()
    if rows:
        op.bulk_insert(sa.table("alerts", *(sa.column(name) for name in rows[0])), rows)
    _reset_sequence()


def downgrade() -> None:
    """Back to one row per (article, rule, channel); a row the old table cannot hold (a second
    event of the same article, rule and channel) is dropped."""
    bind = op.get_bind()
    result = bind.execute(sa.text(f"SELECT {', '.join(OLD_COLUMNS)} FROM alerts ORDER BY id"))
    statuses = {"sending": "pending", "unknown": "failed", "dead": "failed", "baselined": "sent"}
    rows: list[dict[str, Any]] = []
    seen: set[tuple[int, str, str]] = set()
    for row in result:
        values = dict(row._mapping)
        group = (values["article_id"], values["rule"], values["channel"])
        if group in seen:
            continue
        seen.add(group)
        values["status"] = statuses.get(values["status"], values["status"])
        rows.append(values)
    for index in ("ix_alerts_status_next_attempt_at", "ix_alerts_key", "ix_alerts_story_id"):
        op.drop_index(index, table_name="alerts")
    op.drop_table("alerts")
    _create_old_table()
    if rows:
        op.bulk_insert(sa.table("alerts", *(sa.column(name) for name in OLD_COLUMNS)), rows)
    _reset_sequence()
