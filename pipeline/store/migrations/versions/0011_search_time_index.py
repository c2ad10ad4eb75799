"""An index on the time search filters and sorts by: published, else first seen.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Search, export and the report take an article's time as its publication time, or the time it
was first stored when its source gave none (``COALESCE(published_at, first_seen_at)``). The
index on ``published_at`` cannot serve that expression, so a date range or the newest-first
order read every matching article; at a million articles an entity filter over 30 days took
about a second. This expression index serves both, on SQLite and Postgres alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_articles_seen"


def upgrade() -> None:
    """Create the index on the article's time."""
    op.execute(f"CREATE INDEX {INDEX} ON articles ((COALESCE(published_at, first_seen_at)))")


def downgrade() -> None:
    """Drop it."""
    op.execute(f"DROP INDEX {INDEX}")
