"""The database schema as typed SQLAlchemy models; the Alembic migrations in ``db/`` create it.

The migration is the source of truth: these models describe the same tables and columns (a test
compares them) so queries can be written against them, but they never create tables themselves.
Search objects live only in the migrations: the SQLite FTS5 tables (``articles_fts`` and those
named after it) with their triggers, and the Postgres ``articles.search_vector`` column with
its GIN index and ``articles.title_vector``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pipeline.store.utc_time import UTCDateTime as UTCDateTime

# Constraint and index names follow one pattern so the migration and the models agree on them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

VERDICTS = ("new", "same_item", "translation", "duplicate", "near_duplicate", "same_story")
# How an article joined its story; ``split``: an analyst took it out, and it stays apart.
LINK_KINDS = ("translation", "duplicate", "near_duplicate", "same_story", "split")
RUN_STATUSES = ("running", "completed", "completed_with_errors", "failed", "crashed")
SOURCE_RESULT_STATUSES = ("ok", "partial", "failed", "skipped")
# pending: owed; sending: claimed by a sender; sent; failed / unknown (a timeout: it may have
# arrived): retried after a wait; dead: out of attempts, waiting for ``alerts retry``;
# baselined: published before the first run's window, stored but never sent.
ALERT_STATUSES = ("pending", "sending", "sent", "failed", "unknown", "dead", "baselined")
ALERT_MODES = ("immediate", "digest")
TAG_KINDS = ("entity", "topic")

# Objects the migration creates for full-text search that the models deliberately leave out.
SEARCH_TABLE = "articles_fts"
SEARCH_VECTOR_COLUMN = "search_vector"
# Postgres's words of the title alone (migration 0015), for ranking title matches first.
TITLE_VECTOR_COLUMN = "title_vector"


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK that ``column`` holds one of ``values``."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base holding the shared metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class SourceRow(Base):
    """A configured source, mirrored from ``sources.toml`` on every run."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    lang: Mapped[str] = mapped_column(String)
    regulator: Mapped[bool] = mapped_column(Boolean, default=False)
    doc_type: Mapped[str] = mapped_column(String)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Scheduling state, kept by runs and operators (``source_state``), never by the mirroring;
    # the count's default is the database's alone, so mirroring writes the columns it always did.
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default="0")
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_reason: Mapped[str | None] = mapped_column(Text)


class Article(Base):
    """One stored article, keyed on its natural key ``item_key``."""

    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("item_key"),
        Index(None, "canonical_url"),
        Index(None, "content_hash"),
        Index(None, "published_at"),
        Index(None, "source_id"),
        Index(None, "duplicate_of"),
        Index(None, "story_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_key: Mapped[str] = mapped_column(String)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    item_id: Mapped[str | None] = mapped_column(String)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String)
    lang: Mapped[str | None] = mapped_column(String)
    doc_type: Mapped[str] = mapped_column(String)
    regulator: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String, default="")
    taxonomy_version: Mapped[str] = mapped_column(String, default="")
    # Set on a syndicated copy: the row is kept and points at the article it repeats.
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    entities: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The source's own "last changed" marker (SFC modificationTime), as the source wrote it.
    source_modified: Mapped[str | None] = mapped_column(Text)
    # The story the article belongs to (``stories.id``); every stored article has one.
    story_id: Mapped[int | None] = mapped_column(Integer)
    # Whether the title or text holds a Chinese, Japanese or Korean character: only such rows
    # go into the substring index of Chinese search (migration 0012). Set by the store.
    has_cjk: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# The time search filters and sorts by (migration 0011): published, else first seen.
Index("ix_articles_seen", func.coalesce(Article.published_at, Article.first_seen_at))


class Story(Base):
    """One event and every article about it: copies, rewrites and translations."""

    __tablename__ = "stories"
    __table_args__ = (Index(None, "last_seen_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The regulator's own release when there is one, else the earliest article.
    lead_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    article_count: Mapped[int] = mapped_column(Integer)
    outlets: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoryLink(Base):
    """How an article joined its story: the earlier article it matched, the tier and the score."""

    __tablename__ = "story_links"
    __table_args__ = (
        CheckConstraint(one_of("kind", LINK_KINDS), name="kind"),
        Index(None, "linked_article_id"),
    )

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    linked_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String)
    score: Mapped[float] = mapped_column(Float)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ArticlePrint(Base):
    """An article's MinHash signatures (of its shingles, for near-duplicates, and of its
    words) and its tags, as the story tiers compare them."""

    __tablename__ = "article_prints"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    near: Mapped[bytes | None] = mapped_column(LargeBinary)
    words: Mapped[bytes] = mapped_column(LargeBinary)
    # The tag ids the article is compared on (a JSON list): read with the signatures, so
    # comparing with a stored article needs no join to its tag links.
    tags: Mapped[str] = mapped_column(Text)


class ArticleKey(Base):
    """A key an article is filed under: its reference, a signature band, a title-term pair."""

    __tablename__ = "article_keys"
    __table_args__ = (Index(None, "article_id"),)

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )


class ArticleVersion(Base):
    """An earlier version of an article, kept when an update replaced it."""

    __tablename__ = "article_versions"
    __table_args__ = (Index(None, "article_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String)
    source_modified: Mapped[str | None] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TagRow(Base):
    """A taxonomy node (entity or topic); the views ``entities`` and ``topics`` split them."""

    __tablename__ = "tags"
    __table_args__ = (CheckConstraint(one_of("kind", TAG_KINDS), name="kind"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    type: Mapped[str] = mapped_column(String)
    parent_id: Mapped[str | None] = mapped_column(String)
    regulator: Mapped[bool] = mapped_column(Boolean, default=False)


class ArticleTag(Base):
    """The link between an article and a tag, with the evidence for it."""

    __tablename__ = "article_tags"
    # A tag's articles read from the index alone (migration 0016).
    __table_args__ = (Index(None, "tag_id", "article_id"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[str] = mapped_column(ForeignKey("tags.id"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    in_title: Mapped[bool] = mapped_column(Boolean, default=False)
    in_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    taxonomy_version: Mapped[str] = mapped_column(String, default="")


class Run(Base):
    """One ingestion run."""

    __tablename__ = "runs"
    __table_args__ = (CheckConstraint(one_of("status", RUN_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[str | None] = mapped_column(String)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Why the whole run failed (e.g. a configuration error); per-source faults are in run_sources.
    error: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)  # with host and heartbeat: see run_reads
    host: Mapped[str | None] = mapped_column(String)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunSource(Base):
    """What one source gave in one run: counts, and the error naming source and fault."""

    __tablename__ = "run_sources"
    __table_args__ = (
        CheckConstraint(one_of("status", SOURCE_RESULT_STATUSES), name="status"),
        Index(None, "source_id", "finished_at"),  # a source's latest results, for health
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String)
    found: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration: Mapped[float | None] = mapped_column(Float)  # seconds, when the run measured it


class Sighting(Base):
    """Where an article was seen: once per source, with the dedupe verdict of that sighting."""

    __tablename__ = "sightings"
    __table_args__ = (
        UniqueConstraint("article_id", "source_id"),
        CheckConstraint(one_of("verdict", VERDICTS), name="verdict"),
        Index(None, "source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(Text)
    guid: Mapped[str | None] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(String)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FetchState(Base):
    """Validators of the last response per URL, for conditional GET."""

    __tablename__ = "fetch_state"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str | None] = mapped_column(String)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertRow(Base):
    """The outbox: one alert owed per (rule, story, channel, event). Rows sharing a ``key`` are
    one message: the rules that fired for a story on a channel at once, or a digest's day."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("rule", "story_id", "channel", "event"),
        CheckConstraint(one_of("status", ALERT_STATUSES), name="status"),
        CheckConstraint(one_of("mode", ALERT_MODES), name="mode"),
        Index(None, "status", "next_attempt_at"),
        Index(None, "key"),
        Index(None, "story_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String)
    rule: Mapped[str] = mapped_column(String)
    story_id: Mapped[int] = mapped_column(Integer)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String)
    event: Mapped[str] = mapped_column(String, default="new")
    mode: Mapped[str] = mapped_column(String, default="immediate")
    severity: Mapped[str] = mapped_column(String, default="normal")
    status: Mapped[str] = mapped_column(String, default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Not before this time: now for an immediate alert, the digest's hour for a digest.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


def is_search_object(name: str | None, type_: str) -> bool:
    """True for the full-text search objects the models leave to the migration."""
    if name is None:
        return False
    if type_ == "table":
        return name == SEARCH_TABLE or name.startswith(f"{SEARCH_TABLE}_")
    if type_ == "column":
        return name in (SEARCH_VECTOR_COLUMN, TITLE_VECTOR_COLUMN)
    if type_ == "index":
        # The pg_trgm indexes Chinese search uses (title and text; titles), where the
        # extension exists.
        return name in (
            f"ix_articles_{SEARCH_VECTOR_COLUMN}",
            "ix_articles_search_trgm",
            "ix_articles_title_trgm",
        )
    return False
