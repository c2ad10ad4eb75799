"""Reading one article in full: its facts and source, where it was seen, its tags with every
evidence sentence, the story it belongs to with the other versions of it, and the alerts raised.

A public read module like ``story_reads``: the CLI imports it directly. The story and its
members come from ``story_reads``, the alerts from ``alert_reads``, so each is read one way.
The queries are SQL text read through a ``pipeline.store.reader.Reader`` (or a caller's
session), so ``show`` starts without SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.store.alert_reads import OutboxFilter, OutboxRow, outbox_rows
from pipeline.store.reader import Reader, flag, json_value, reader_for, stored_time, utc
from pipeline.store.story_reads import StoryMember, StorySummary, get_story

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_ARTICLE_SQL = (
    "SELECT articles.id, articles.source_id, sources.name AS source_name, articles.item_id,"
    " articles.url, articles.canonical_url, articles.title, articles.text, articles.summary,"
    " articles.author, articles.lang, articles.doc_type, articles.regulator,"
    " articles.published_at, articles.first_seen_at, articles.duplicate_of,"
    " articles.story_id, articles.taxonomy_version, articles.source_modified"
    " FROM articles LEFT OUTER JOIN sources ON sources.id = articles.source_id"
    " WHERE articles.id = :article"
)


@dataclass(frozen=True)
class ArticleFacts:
    """An article's stored fields and its source's name (the text included)."""

    id: int
    source_id: str
    source_name: str
    item_id: str | None
    url: str
    canonical_url: str | None
    title: str
    text: str
    summary: str | None
    author: str | None
    lang: str | None
    doc_type: str
    regulator: bool
    published_at: datetime | None
    first_seen_at: datetime
    duplicate_of: int | None
    story_id: int | None
    taxonomy_version: str
    source_modified: str | None


@dataclass(frozen=True)
class TagEvidence:
    """One tag of an article: how often and where it was named, and every evidence sentence."""

    id: str
    kind: str
    name: str
    count: int
    in_title: bool
    in_lead: bool
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class SeenAt:
    """A source the article was seen on, at which URL, and the dedupe verdict of that sighting."""

    source_id: str
    url: str
    verdict: str
    seen_at: datetime


@dataclass(frozen=True)
class Revision:
    """An earlier version of the article, kept when a source's update replaced it."""

    title: str
    chars: int
    source_modified: str | None
    replaced_at: datetime


@dataclass(frozen=True)
class ArticleView:
    """One article with everything an analyst reads about it."""

    article: ArticleFacts
    tags: tuple[TagEvidence, ...]
    seen: tuple[SeenAt, ...]
    revisions: tuple[Revision, ...]
    story: StorySummary | None
    # Every article of the story in time order, this one included.
    members: tuple[StoryMember, ...]
    alerts: tuple[OutboxRow, ...]

    @property
    def joined(self) -> StoryMember | None:
        """This article as a member of its story: how it joined and which article it matched."""
        return next((m for m in self.members if m.article_id == self.article.id), None)

    @property
    def versions(self) -> tuple[StoryMember, ...]:
        """The story's other articles: translations, copies and other outlets' write-ups."""
        return tuple(m for m in self.members if m.article_id != self.article.id)


def get_article(db: Session | Reader, article_id: int) -> ArticleView | None:
    """One article in full, or None when there is no such article."""
    reader = reader_for(db)
    found = reader.rows(_ARTICLE_SQL, {"article": article_id})
    if not found:
        return None
    article = _facts(found[0])
    story: StorySummary | None = None
    members: list[StoryMember] = []
    alerts: list[OutboxRow] = []
    if article.story_id is not None:
        in_story = get_story(reader, article.story_id)
        if in_story is not None:
            story, members = in_story
        # Oldest first: the order the alerts were raised in.
        alerts = outbox_rows(reader, OutboxFilter(story_id=article.story_id), newest_first=False)
    return ArticleView(
        article=article,
        tags=tuple(_tags(reader, article_id)),
        seen=tuple(_seen(reader, article_id)),
        revisions=tuple(_revisions(reader, article_id)),
        story=story,
        members=tuple(members),
        alerts=tuple(alerts),
    )


def _facts(row: dict[str, Any]) -> ArticleFacts:
    return ArticleFacts(
        id=row["id"],
        source_id=row["source_id"],
        source_name=row["source_name"] or "",
        item_id=row["item_id"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        text=row["text"],
        summary=row["summary"],
        author=row["author"],
        lang=row["lang"],
        doc_type=row["doc_type"],
        regulator=flag(row["regulator"]),
        published_at=utc(row["published_at"]),
        first_seen_at=stored_time(row["first_seen_at"]),
        duplicate_of=row["duplicate_of"],
        story_id=row["story_id"],
        taxonomy_version=row["taxonomy_version"],
        source_modified=row["source_modified"],
    )


def _tags(reader: Reader, article_id: int) -> list[TagEvidence]:
    """The article's tags, strongest first: named in the title, then most often."""
    sql = (
        "SELECT article_tags.tag_id, tags.kind, tags.name, article_tags.count,"
        " article_tags.in_title, article_tags.in_lead, article_tags.evidence"
        " FROM article_tags JOIN tags ON tags.id = article_tags.tag_id"
        " WHERE article_tags.article_id = :article"
        " ORDER BY article_tags.in_title DESC, article_tags.count DESC, article_tags.tag_id"
    )
    return [
        TagEvidence(
            id=row["tag_id"],
            kind=row["kind"],
            name=row["name"],
            count=row["count"],
            in_title=flag(row["in_title"]),
            in_lead=flag(row["in_lead"]),
            evidence=tuple(json_value(row["evidence"]) or ()),
        )
        for row in reader.rows(sql, {"article": article_id})
    ]


def _seen(reader: Reader, article_id: int) -> list[SeenAt]:
    sql = (
        "SELECT source_id, url, verdict, seen_at FROM sightings"
        " WHERE article_id = :article ORDER BY seen_at, id"
    )
    return [
        SeenAt(
            source_id=row["source_id"],
            url=row["url"],
            verdict=row["verdict"],
            seen_at=stored_time(row["seen_at"]),
        )
        for row in reader.rows(sql, {"article": article_id})
    ]


def _revisions(reader: Reader, article_id: int) -> list[Revision]:
    sql = (
        "SELECT title, length(text) AS chars, source_modified, replaced_at"
        " FROM article_versions WHERE article_id = :article ORDER BY replaced_at, id"
    )
    return [
        Revision(
            title=row["title"],
            chars=int(row["chars"] or 0),
            source_modified=row["source_modified"],
            replaced_at=stored_time(row["replaced_at"]),
        )
        for row in reader.rows(sql, {"article": article_id})
    ]
