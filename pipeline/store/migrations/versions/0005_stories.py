"""Stories: every article in exactly one story, with the link that put it there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

``stories`` holds one row per story (lead article, first and last seen, outlets, languages);
``articles.story_id`` (indexed) names each article's story; ``story_links`` records how an
article joined its story (translation, duplicate, near-duplicate, same story, with a score) or
that an analyst split it off; ``article_prints`` keeps each article's MinHash signatures and
the tags it was compared on, and
``article_keys`` the keys it is filed under (regulator reference, signature bands, title-term
pairs by week), indexed so a new article is compared only with those sharing a key.

The view ``story_tags`` gives a story's tags: the union of its articles' (tag, kind, name, and
how many of the story's articles carry it), read through the indexed ``articles.story_id``.

Existing articles become stories of one; ``newswatch stories rebuild`` then groups them.
Sightings may now carry the verdict ``translation``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERDICT_CHECK = "ck_sightings_verdict"
VERDICTS_BEFORE = ("new", "same_item", "duplicate", "near_duplicate", "same_story")
VERDICTS_AFTER = ("new", "same_item", "translation", "duplicate", "near_duplicate", "same_story")
LINK_KINDS = ("translation", "duplicate", "near_duplicate", "same_story", "split")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _replace_verdicts(values: tuple[str, ...]) -> None:
    # SQLite cannot alter a constraint: the batch copies sightings (it has no triggers).
    with op.batch_alter_table("sightings", recreate="auto") as batch:
        batch.drop_constraint(VERDICT_CHECK, type_="check")
        batch.create_check_constraint(VERDICT_CHECK, _one_of("verdict", values))


def _create_stories() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_article_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("article_count", sa.Integer(), nullable=False),
        sa.Column("outlets", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
        sa.ForeignKeyConstraint(
            ["lead_article_id"],
            ["articles.id"],
            name=op.f("fk_stories_lead_article_id_articles"),
            ondelete="SET NULL",
        ),
    )
    op.create_index(op.f("ix_stories_last_seen_at"), "stories", ["last_seen_at"])
    # A plain column, not a foreign key: SQLite adds columns in place only without one, and
    # rebuilding ``articles`` would drop its full-text triggers. The store keeps it consistent.
    op.add_column("articles", sa.Column("story_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_articles_story_id"), "articles", ["story_id"])


def _create_links_and_keys() -> None:
    op.create_table(
        "story_links",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("linked_article_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_story_links")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"],
            name=op.f("fk_story_links_article_id_articles"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_article_id"], ["articles.id"],
            name=op.f("fk_story_links_linked_article_id_articles"), ondelete="SET NULL",
        ),
        sa.CheckConstraint(_one_of("kind", LINK_KINDS), name=op.f("ck_story_links_kind")),
    )
    op.create_index(op.f("ix_story_links_linked_article_id"), "story_links", ["linked_article_id"])
    op.create_table(
        "article_prints",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("near", sa.LargeBinary(), nullable=True),
        sa.Column("words", sa.LargeBinary(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_prints")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"],
            name=op.f("fk_article_prints_article_id_articles"), ondelete="CASCADE",
        ),
    )
    op.create_table(
        "article_keys",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id", name=op.f("pk_article_keys")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"],
            name=op.f("fk_article_keys_article_id_articles"), ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_article_keys_article_id"), "article_keys", ["article_id"])


def _stories_of_one() -> None:
    """Every stored article becomes a story of its own, numbered as the article."""
    # Source ids and language tags are plain ASCII tokens: quoting them makes a JSON array.
    json = "::json" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(
        "INSERT INTO stories (id, lead_article_id, first_seen_at, last_seen_at, article_count,"
        " outlets, languages, updated_at)"
        " SELECT id, id, COALESCE(published_at, first_seen_at), COALESCE(published_at,"
        f" first_seen_at), 1, ('[\"' || source_id || '\"]'){json},"
        f" (CASE WHEN lang IS NULL THEN '[]' ELSE '[\"' || lang || '\"]' END){json},"
        " first_seen_at FROM articles"
    )
    op.execute("UPDATE articles SET story_id = id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('stories', 'id'),"
            " COALESCE((SELECT MAX(id) FROM stories), 0) + 1, false)"
        )


STORY_TAGS_VIEW = """
CREATE VIEW story_tags AS
SELECT articles.story_id AS story_id, tags.id AS tag_id, tags.kind AS kind, tags.name AS name,
       COUNT(*) AS articles
FROM articles
JOIN article_tags ON article_tags.article_id = articles.id
JOIN tags ON tags.id = article_tags.tag_id
GROUP BY articles.story_id, tags.id, tags.kind, tags.name
"""


def upgrade() -> None:
    """Create the story tables and view; make every stored article a story of one."""
    _replace_verdicts(VERDICTS_AFTER)
    _create_stories()
    _create_links_and_keys()
    _stories_of_one()
    op.execute(STORY_TAGS_VIEW)


def downgrade() -> None:
    """Drop the story tables and ``articles.story_id``; ``translation`` sightings → ``new``."""
    op.execute("DROP VIEW IF EXISTS story_tags")
    op.drop_index(op.f("ix_article_keys_article_id"), table_name="article_keys")
    op.drop_table("article_keys")
    op.drop_table("article_prints")
    op.drop_index(op.f("ix_story_links_linked_article_id"), table_name="story_links")
    op.drop_table("story_links")
    op.drop_index(op.f("ix_articles_story_id"), table_name="articles")
    op.drop_column("articles", "story_id")
    op.drop_index(op.f("ix_stories_last_seen_at"), table_name="stories")
    op.drop_table("stories")
    op.execute("UPDATE sightings SET verdict = 'new' WHERE verdict = 'translation'")
    _replace_verdicts(VERDICTS_BEFORE)
