"""Reading one article in full: its facts and source, where it was seen, its tags with every
evidence sentence, the story it belongs to with the other versions of it, and the alerts raised.

A public read module like ``story_reads``: the CLI imports it directly. The story and its
members come from ``story_reads``, the alerts from ``alert_reads``, so each is read one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.store.alert_reads import OutboxFilter, OutboxRow, outbox_rows
from pipeline.store.schema import (
    Article,
    ArticleTag,
    ArticleVersion,
    Sighting,
    SourceRow,
    TagRow,
)
from pipeline.store.story_reads import StoryMember, StorySummary, get_story


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


def get_article(session: Session, article_id: int) -> ArticleView | None:
    """One article in full, or None when there is no such article."""
    found = session.execute(
        select(Article, SourceRow.name)
        .outerjoin(SourceRow, SourceRow.id == Article.source_id)
        .where(Article.id == article_id)
    ).first()
    if found is None:
        return None
    article, source_name = found
    story: StorySummary | None = None
    members: list[StoryMember] = []
    alerts: list[OutboxRow] = []
    if article.story_id is not None:
        in_story = get_story(session, article.story_id)
        if in_story is not None:
            story, members = in_story
        # Oldest first: the order the alerts were raised in.
        alerts = outbox_rows(session, OutboxFilter(story_id=article.story_id), newest_first=False)
    return ArticleView(
        article=_facts(article, source_name),
        tags=tuple(_tags(session, article_id)),
        seen=tuple(_seen(session, article_id)),
        revisions=tuple(_revisions(session, article_id)),
        story=story,
        members=tuple(members),
        alerts=tuple(alerts),
    )


def _facts(article: Article, source_name: str | None) -> ArticleFacts:
    return ArticleFacts(
        id=article.id,
        source_id=article.source_id,
        source_name=source_name or "",
        item_id=article.item_id,
        url=article.url,
        canonical_url=article.canonical_url,
        title=article.title,
        text=article.text,
        summary=article.summary,
        author=article.author,
        lang=article.lang,
        doc_type=article.doc_type,
        regulator=bool(article.regulator),
        published_at=article.published_at,
        first_seen_at=article.first_seen_at,
        duplicate_of=article.duplicate_of,
        story_id=article.story_id,
        taxonomy_version=article.taxonomy_version,
        source_modified=article.source_modified,
    )


def _tags(session: Session, article_id: int) -> list[TagEvidence]:
    """The article's tags, strongest first: named in the title, then most often."""
    stmt = (
        select(ArticleTag, TagRow.kind, TagRow.name)
        .join(TagRow, TagRow.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id == article_id)
        .order_by(ArticleTag.in_title.desc(), ArticleTag.count.desc(), ArticleTag.tag_id)
    )
    return [
        TagEvidence(
            id=link.tag_id,
            kind=kind,
            name=name,
            count=link.count,
            in_title=bool(link.in_title),
            in_lead=bool(link.in_lead),
            evidence=tuple(link.evidence or ()),
        )
        for link, kind, name in session.execute(stmt)
    ]


def _seen(session: Session, article_id: int) -> list[SeenAt]:
    stmt = (
        select(Sighting)
        .where(Sighting.article_id == article_id)
        .order_by(Sighting.seen_at, Sighting.id)
    )
    return [
        SeenAt(source_id=s.source_id, url=s.url, verdict=s.verdict, seen_at=s.seen_at)
        for s in session.scalars(stmt)
    ]


def _revisions(session: Session, article_id: int) -> list[Revision]:
    stmt = (
        select(
            ArticleVersion.title,
            func.length(ArticleVersion.text),
            ArticleVersion.source_modified,
            ArticleVersion.replaced_at,
        )
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.replaced_at, ArticleVersion.id)
    )
    return [
        Revision(title=title, chars=int(chars or 0), source_modified=modified, replaced_at=at)
        for title, chars, modified, at in session.execute(stmt)
    ]
