"""Full-text search for Chinese: a trigram index on SQLite, a pg_trgm index on Postgres.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10

The word indexes of 0001 split text on spaces and punctuation, which Chinese does not use, so
a Chinese term only matched where it happened to stand alone between them. Search now matches
a term holding Chinese, Japanese or Korean characters as a substring:

- SQLite: ``articles_fts_trigram``, an FTS5 external-content table with the ``trigram``
  tokenizer over title and text, kept in sync by triggers like ``articles_fts``, and filled
  from the rows already stored. It answers terms of three characters or more; shorter ones
  are read from the rows themselves.
- Postgres: a ``pg_trgm`` GIN index on ``title || ' ' || text``, which ``ILIKE`` uses. The
  extension ships with stock Postgres but creating it may not be permitted; without it the
  index is left out and the same query scans the table instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision: search.py names the same objects.
TRIGRAM_TABLE = "articles_fts_trigram"
TRIGRAM_TRIGGERS = (
    f"{TRIGRAM_TABLE}_insert",
    f"{TRIGRAM_TABLE}_delete",
    f"{TRIGRAM_TABLE}_update",
)
POSTGRES_INDEX = "ix_articles_search_trgm"

SQLITE_TRIGRAM = [
    f"""
    CREATE VIRTUAL TABLE {TRIGRAM_TABLE} USING fts5(
        title, text,
        content='articles', content_rowid='id',
        tokenize='trigram'
    )
    """,
    f"""
    CREATE TRIGGER {TRIGRAM_TABLE}_insert AFTER INSERT ON articles BEGIN
        INSERT INTO {TRIGRAM_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    f"""
    CREATE TRIGGER {TRIGRAM_TABLE}_delete AFTER DELETE ON articles BEGIN
        INSERT INTO {TRIGRAM_TABLE}({TRIGRAM_TABLE}, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END
    """,
    # As for articles_fts: re-tagging updates other columns and must not touch the index.
    f"""
    CREATE TRIGGER {TRIGRAM_TABLE}_update AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO {TRIGRAM_TABLE}({TRIGRAM_TABLE}, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO {TRIGRAM_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    # The rows stored before this revision; 'rebuild' reads the content table afresh.
    f"INSERT INTO {TRIGRAM_TABLE}({TRIGRAM_TABLE}) VALUES ('rebuild')",
]

# The expression must be the one search.py compares, or the planner cannot use the index.
POSTGRES_TRIGRAM = (
    f"CREATE INDEX {POSTGRES_INDEX} ON articles "
    "USING gin ((articles.title || ' ' || articles.text) gin_trgm_ops)"
)


def _postgres_trigram_extension() -> bool:
    """Whether ``pg_trgm`` is installed in this database, installing it if allowed."""
    bind = op.get_bind()
    installed = bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    ).scalar()
    if installed:
        return True
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar()
    if not available:
        return False
    # A refused CREATE EXTENSION aborts the transaction the migration runs in; the savepoint
    # keeps the failure to itself.
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    """Create the substring indexes for Chinese search and fill them from the stored rows."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_TRIGRAM:
            op.execute(statement)
    elif dialect == "postgresql" and _postgres_trigram_extension():
        op.execute(POSTGRES_TRIGRAM)


def downgrade() -> None:
    """Drop the substring indexes. The pg_trgm extension stays: other objects may use it."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in TRIGRAM_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {TRIGRAM_TABLE}")
    elif dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {POSTGRES_INDEX}")
