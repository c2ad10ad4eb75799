"""A word index of the titles alone, on SQLite.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

A search of words ranks the articles whose title holds the query first, and reads them first
when they fill the page (``pipeline.store.search_words``). ``articles_fts`` can find them with
a column filter, but it reads the words' postings over title and text alike: a frequent
phrase ("virtual asset") is in a quarter of a million articles and the titles of 36,000, so
the filtered read took 34 ms at a million articles where this table, whose postings are the
titles' alone, takes 4 ms. ``articles_fts_titles`` is an FTS5 external-content table over
``articles.title``, tokenized as ``articles_fts`` is (so a word stems the same in both), kept
in sync by triggers and filled from the stored articles. Postgres: nothing (it ranks every
match; see ``pipeline.store.search_words``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision: pipeline.store.search_words names the same table.
TITLE_TABLE = "articles_fts_titles"
TRIGGERS = ("insert", "delete", "update")
SQLITE_TITLES = [
    f"""
    CREATE VIRTUAL TABLE {TITLE_TABLE} USING fts5(
        title,
        content='articles', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    f"""
    CREATE TRIGGER {TITLE_TABLE}_insert AFTER INSERT ON articles BEGIN
        INSERT INTO {TITLE_TABLE}(rowid, title) VALUES (new.id, new.title);
    END
    """,
    f"""
    CREATE TRIGGER {TITLE_TABLE}_delete AFTER DELETE ON articles BEGIN
        INSERT INTO {TITLE_TABLE}({TITLE_TABLE}, rowid, title) VALUES ('delete', old.id, old.title);
    END
    """,
    # Only a change of the title touches the index (a new version of the text does not).
    f"""
    CREATE TRIGGER {TITLE_TABLE}_update AFTER UPDATE OF title ON articles BEGIN
        INSERT INTO {TITLE_TABLE}({TITLE_TABLE}, rowid, title) VALUES ('delete', old.id, old.title);
        INSERT INTO {TITLE_TABLE}(rowid, title) VALUES (new.id, new.title);
    END
    """,
    f"INSERT INTO {TITLE_TABLE}({TITLE_TABLE}) VALUES ('rebuild')",
]


def upgrade() -> None:
    """Index the titles by their words, on SQLite."""
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TITLES:
            op.execute(statement)


def downgrade() -> None:
    """Drop that index and its triggers."""
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {TITLE_TABLE}_{name}")
        op.execute(f"DROP TABLE IF EXISTS {TITLE_TABLE}")
