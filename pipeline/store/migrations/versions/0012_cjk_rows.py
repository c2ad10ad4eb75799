"""The substring index of Chinese search holds only the rows with Chinese characters.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

Migration 0008 indexed every article's title and text by trigrams so that a Chinese,
Japanese or Korean term could be found as a substring. Such a term can only be found in a row
that holds at least one of those characters, yet most articles are English: indexing them cost
about 0.4 ms an article, most of what storing an article cost (``bench/pipeline.py``).

``articles.has_cjk`` says whether the title or the text holds such a character. The store
sets it on every insert and update, from the same character ranges search uses
(``pipeline.store.search_terms.has_cjk``); rows stored before are marked here.

- SQLite: the triggers of ``articles_fts_trigram`` act only on rows marked ``has_cjk``, and the
  index is refilled with those rows alone.
- Postgres: the ``pg_trgm`` index is partial, ``WHERE has_cjk``; search states the same
  condition beside the substring it looks for, so the planner may use the index.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision: search_terms.py names the same objects and the same ranges.
TRIGRAM_TABLE = "articles_fts_trigram"
POSTGRES_INDEX = "ix_articles_search_trgm"
CJK_RANGES = (
    "\u2e80-\u2fdf\u3000-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
# GLOB and a POSIX regular expression read the same bracket expression.
SQLITE_HAS_CJK = f"(title GLOB '*[{CJK_RANGES}]*' OR text GLOB '*[{CJK_RANGES}]*')"
POSTGRES_HAS_CJK = f"(title ~ '[{CJK_RANGES}]' OR text ~ '[{CJK_RANGES}]')"

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER {TRIGRAM_TABLE}_insert AFTER INSERT ON articles WHEN new.has_cjk BEGIN
        INSERT INTO {TRIGRAM_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    f"""
    CREATE TRIGGER {TRIGRAM_TABLE}_delete AFTER DELETE ON articles WHEN old.has_cjk BEGIN
        INSERT INTO {TRIGRAM_TABLE}({TRIGRAM_TABLE}, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END
    """,
    # An external-content index must be told the old values exactly: a row is taken out only
    # if it was put in, and put back only if it qualifies now, in that order (one trigger, as
    # two would fire in no order SQLite promises).
    f"""
    CREATE TRIGGER {TRIGRAM_TABLE}_update AFTER UPDATE OF title, text, has_cjk ON articles BEGIN
        INSERT INTO {TRIGRAM_TABLE}({TRIGRAM_TABLE}, rowid, title, text)
        SELECT 'delete', old.id, old.title, old.text WHERE old.has_cjk;
        INSERT INTO {TRIGRAM_TABLE}(rowid, title, text)
        SELECT new.id, new.title, new.text WHERE new.has_cjk;
    END
    """,
]
SQLITE_REFILL = [
    f"INSERT INTO {TRIGRAM_TABLE}({TRIGRAM_TABLE}) VALUES ('delete-all')",
    f"INSERT INTO {TRIGRAM_TABLE}(rowid, title, text)"
    " SELECT id, title, text FROM articles WHERE has_cjk",
]
# 0008's triggers and filling, restored by a downgrade.
SQLITE_WHOLE_TRIGGERS = [
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
    f"""
    CREATE TRIGGER {TRIGRAM_TABLE}_update AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO {TRIGRAM_TABLE}({TRIGRAM_TABLE}, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO {TRIGRAM_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
]
SQLITE_REBUILD = f"INSERT INTO {TRIGRAM_TABLE}({TRIGRAM_TABLE}) VALUES ('rebuild')"
POSTGRES_PARTIAL = (
    f"CREATE INDEX {POSTGRES_INDEX} ON articles "
    "USING gin ((articles.title || ' ' || articles.text) gin_trgm_ops) WHERE has_cjk"
)
POSTGRES_WHOLE = (
    f"CREATE INDEX {POSTGRES_INDEX} ON articles "
    "USING gin ((articles.title || ' ' || articles.text) gin_trgm_ops)"
)


def _postgres_index_exists() -> bool:
    found = op.get_bind().execute(
        sa.text("SELECT 1 FROM pg_indexes WHERE indexname = :name"), {"name": POSTGRES_INDEX}
    )
    return found.scalar() is not None


def upgrade() -> None:
    """Mark the rows with Chinese, Japanese or Korean characters; index only those."""
    op.add_column(
        "articles",
        sa.Column("has_cjk", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"UPDATE articles SET has_cjk = 1 WHERE {SQLITE_HAS_CJK}")
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {TRIGRAM_TABLE}_{name}")
        for statement in [*SQLITE_TRIGGERS, *SQLITE_REFILL]:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(f"UPDATE articles SET has_cjk = true WHERE {POSTGRES_HAS_CJK}")
        # Where pg_trgm could not be installed (0008), there is no index to narrow.
        if _postgres_index_exists():
            op.execute(f"DROP INDEX {POSTGRES_INDEX}")
            op.execute(POSTGRES_PARTIAL)


def downgrade() -> None:
    """Index every row again, as 0008 did, and drop the mark."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {TRIGRAM_TABLE}_{name}")
    elif dialect == "postgresql" and _postgres_index_exists():
        op.execute(f"DROP INDEX {POSTGRES_INDEX}")
        op.execute(POSTGRES_WHOLE)
    # SQLite drops a column in place (3.35+), keeping the table's other triggers.
    op.drop_column("articles", "has_cjk")
    if dialect == "sqlite":
        for statement in [*SQLITE_WHOLE_TRIGGERS, SQLITE_REBUILD]:
            op.execute(statement)
