"""Scheduling state per source: failed runs in a row, backoff, an operator's pause.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12

Each ``sources`` row gains the state runs and operators keep on it (the mirroring of
``sources.toml`` leaves these columns alone):

- ``consecutive_failures``: failed runs in a row, 0 after a success;
- ``last_failure_at``, ``last_error``: the last failed run's time and message;
- ``next_attempt_at``: a source backing off is not read by scheduled runs before this time;
- ``paused_at``, ``paused_reason``: set by ``newswatch sources pause``, cleared by ``resume``.

Columns are added and dropped in place (``ALTER TABLE``, on SQLite and Postgres alike): no view
of 0007 reads them, so neither the views nor the rows are touched. Existing sources start with
no failures, no backoff and no pause.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns() -> list[sa.Column[object]]:
    # A server default, so the rows stored before this revision get a count of 0.
    return [
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_reason", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    """Add the scheduling state columns to ``sources``."""
    for column in _columns():
        op.add_column("sources", column)


def downgrade() -> None:
    """Drop the scheduling state columns; the sources and everything else are kept."""
    for column in reversed(_columns()):
        op.drop_column("sources", column.name)
