"""A source's run result may be ``partial``; an updated article keeps its earlier versions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Before, a source that could be read was ``ok`` however many of its items failed; now ``ok``
means every item was read, ``partial`` that some failed, and ``failed`` that the source could
not be read or most of its items failed. ``article_versions`` keeps the text an update
replaced, so a source that changes an item never erases what it said before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As 0001 named it; the naming convention prefixes it once more in the database.
NAME = "ck_run_sources_status"
BEFORE = ("ok", "failed", "skipped")
AFTER = ("ok", "partial", "failed", "skipped")


def _one_of(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _replace_check(values: tuple[str, ...]) -> None:
    # SQLite cannot alter a constraint: the batch copies run_sources (it has no triggers).
    with op.batch_alter_table("run_sources", recreate="auto") as batch:
        batch.drop_constraint(NAME, type_="check")
        batch.create_check_constraint(NAME, _one_of(values))


def upgrade() -> None:
    """Allow ``partial``; create ``article_versions``."""
    _replace_check(AFTER)
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("source_modified", sa.Text(), nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_versions")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_versions_article_id_articles"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_article_versions_article_id"), "article_versions", ["article_id"]
    )


def downgrade() -> None:
    """Drop ``article_versions``; back to ``ok``/``failed``/``skipped`` (``partial`` → ``ok``)."""
    op.drop_index(op.f("ix_article_versions_article_id"), table_name="article_versions")
    op.drop_table("article_versions")
    op.execute("UPDATE run_sources SET status = 'ok' WHERE status = 'partial'")
    _replace_check(BEFORE)
