"""A word index of the titles alone: an FTS5 table on SQLite, a stored tsvector on Postgres.

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
in sync by triggers and filled from the stored articles.

Postgres ranks every match, each by whether its title holds the query: computed from the title
(``to_tsvector``) for each of the 20,000 matches of that phrase with a topic, it took two
thirds of the search. ``articles.title_vector``, a stored generated column as
``search_vector`` is (0001), holds it ready. Adding it rewrites the table once.
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
TITLE_VECTOR = "title_vector"
POSTGRES_TITLES = (
    f"ALTER TABLE articles ADD COLUMN {TITLE_VECTOR} tsvector GENERATED ALWAYS AS"
    " (to_tsvector('english', coalesce(title, ''))) STORED"
)
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
    """Index the titles by their words (SQLite), or store their words (Postgres)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_TITLES:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(POSTGRES_TITLES)


def downgrade() -> None:
    """Drop that index and its triggers, or that column."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {TITLE_TABLE}_{name}")
        op.execute(f"DROP TABLE IF EXISTS {TITLE_TABLE}")
    elif dialect == "postgresql":
        op.execute(f"ALTER TABLE articles DROP COLUMN IF EXISTS {TITLE_VECTOR}")
