"""A substring index of the titles with Chinese characters, on Postgres.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

A Chinese search ranks the articles whose title holds every term first, and reads them first
when they fill the page (``pipeline.store.search_title_first``): a frequent term is held by a
tenth of all articles but in the titles of far fewer. SQLite finds those titles through the
title column of its trigram table (0008). Postgres's ``pg_trgm`` index covers title and text
together, so here a second, smaller one covers the titles alone, partial like the first
(``WHERE has_cjk``, 0012). Where ``pg_trgm`` could not be installed (0008) there is none.
SQLite: nothing to do.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision: pipeline.store.schema names the same index.
TITLE_INDEX = "ix_articles_title_trgm"
POSTGRES_TITLES = (
    f"CREATE INDEX {TITLE_INDEX} ON articles USING gin (title gin_trgm_ops) WHERE has_cjk"
)


def _has_pg_trgm() -> bool:
    found = op.get_bind().execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    return found.scalar() is not None


def upgrade() -> None:
    """Index the titles holding Chinese, Japanese or Korean characters by trigrams."""
    if op.get_bind().dialect.name == "postgresql" and _has_pg_trgm():
        op.execute(POSTGRES_TITLES)


def downgrade() -> None:
    """Drop that index."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TITLE_INDEX}")
