"""Initial schema: sources, articles, tags, links, sightings, fetch state, runs, alerts, search.

Revision ID: 0001
Revises:
Create Date: 2025-11-04

Full-text search differs per dialect: SQLite gets an FTS5 external-content table kept in sync by
triggers, Postgres a generated ``tsvector`` column with a GIN index.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the allowed values at this revision; a later change needs a new migration.
VERDICTS = ("new", "same_item", "duplicate", "near_duplicate", "same_story")
RUN_STATUSES = ("running", "completed", "completed_with_errors", "failed")
SOURCE_RESULT_STATUSES = ("ok", "failed", "skipped")
ALERT_STATUSES = ("pending", "sent", "failed")
TAG_KINDS = ("entity", "topic")

# Title words weigh more than body words when ranking SQLite matches (bm25 column weights).
SQLITE_FTS = [
    """
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, text,
        content='articles', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    """
    CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END
    """,
    # Only a change of the indexed columns touches the index (re-tagging updates other columns).
    """
    CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
]

POSTGRES_FTS = [
    """
    ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('english', coalesce(title, '') || ' ' || coalesce(text, ''))
    ) STORED
    """,
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
]

VIEWS = {
    "entities": "entity",
    "topics": "topic",
}


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK that ``column`` holds one of ``values``."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    """A UTC timestamp column (timestamptz on Postgres)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create every table, the tag views and the full-text search objects."""
    op.create_table(
        "sources",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("lang", sa.String(), nullable=False),
        sa.Column("regulator", sa.Boolean(), nullable=False),
        sa.Column("doc_type", sa.String(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_key", sa.String(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("author", sa.String(), nullable=True),
        sa.Column("lang", sa.String(), nullable=True),
        sa.Column("doc_type", sa.String(), nullable=False),
        sa.Column("regulator", sa.Boolean(), nullable=False),
        timestamp("published_at", nullable=True),
        timestamp("first_seen_at"),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("taxonomy_version", sa.String(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("item_key", name="uq_articles_item_key"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_articles_source_id_sources"
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["articles.id"],
            name="fk_articles_duplicate_of_articles",
            ondelete="SET NULL",
        ),
    )
    for column in ("canonical_url", "content_hash", "published_at", "source_id", "duplicate_of"):
        op.create_index(f"ix_articles_{column}", "articles", [column])
    op.create_table(
        "tags",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("parent_id", sa.String(), nullable=True),
        sa.Column("regulator", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.CheckConstraint(one_of("kind", TAG_KINDS), name="ck_tags_kind"),
    )
    op.create_table(
        "article_tags",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("in_title", sa.Boolean(), nullable=False),
        sa.Column("in_lead", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("taxonomy_version", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "tag_id", name="pk_article_tags"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_tags_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name="fk_article_tags_tag_id_tags"),
    )
    op.create_index("ix_article_tags_tag_id", "article_tags", ["tag_id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        timestamp("started_at"),
        timestamp("finished_at", nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.CheckConstraint(one_of("status", RUN_STATUSES), name="ck_runs_status"),
    )
    op.create_table(
        "run_sources",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        timestamp("finished_at"),
        sa.PrimaryKeyConstraint("run_id", "source_id", name="pk_run_sources"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_sources_run_id_runs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_run_sources_source_id_sources"
        ),
        sa.CheckConstraint(one_of("status", SOURCE_RESULT_STATUSES), name="ck_run_sources_status"),
    )
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.Column("verdict", sa.String(), nullable=False),
        timestamp("seen_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sightings"),
        sa.UniqueConstraint("article_id", "source_id", name="uq_sightings_article_id_source_id"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_sightings_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_sightings_source_id_sources"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_sightings_run_id_runs", ondelete="SET NULL"
        ),
        sa.CheckConstraint(one_of("verdict", VERDICTS), name="ck_sightings_verdict"),
    )
    op.create_index("ix_sightings_source_id", "sightings", ["source_id"])
    op.create_table(
        "fetch_state",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(), nullable=True),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("url", name="pk_fetch_state"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        timestamp("created_at"),
        timestamp("sent_at", nullable=True),
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
        sa.CheckConstraint(one_of("status", ALERT_STATUSES), name="ck_alerts_status"),
    )
    op.create_index("ix_alerts_status", "alerts", ["status"])

    for view, kind in VIEWS.items():
        op.execute(
            f"CREATE VIEW {view} AS SELECT id, name, type, parent_id, regulator "
            f"FROM tags WHERE kind = '{kind}'"
        )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRES_FTS:
            op.execute(statement)


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("articles_fts_insert", "articles_fts_delete", "articles_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    # The Postgres search column and its index go with the articles table.
    for table in (
        "alerts",
        "fetch_state",
        "sightings",
        "run_sources",
        "runs",
        "article_tags",
        "tags",
        "articles",
        "sources",
    ):
        op.drop_table(table)
