"""Reading stories: the list an analyst scans and one story with why each article is in it.

Like ``search``, a public read module: the CLI and exports import it directly. A story's tags
are the view ``story_tags`` (the union of its articles' tags).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, aliased

from pipeline.store.schema import Article, Story, StoryLink


@dataclass(frozen=True)
class StorySummary:
    """One story: its lead article, size, time span, outlets and languages."""

    id: int
    lead_article_id: int | None
    lead_title: str
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    article_count: int
    outlets: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True)
class StoryMember:
    """An article of a story and the link that put it there (none for the story's first)."""

    article_id: int
    title: str
    source_id: str
    lang: str | None
    published_at: datetime | None
    url: str
    link_kind: str | None
    linked_article_id: int | None
    score: float | None


def list_stories(
    session: Session, *, min_articles: int = 2, since: datetime | None = None, limit: int = 20
) -> list[StorySummary]:
    """Stories of at least ``min_articles`` articles, most recently active first."""
    lead = aliased(Article)
    stmt = (
        select(Story, lead.title)
        .outerjoin(lead, lead.id == Story.lead_article_id)
        .where(Story.article_count >= min_articles)
        .order_by(Story.last_seen_at.desc(), Story.id.desc())
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(Story.last_seen_at >= since)
    return [_summary(story, title) for story, title in session.execute(stmt)]


def get_story(session: Session, story_id: int) -> tuple[StorySummary, list[StoryMember]] | None:
    """One story and its articles in time order, or None when there is no such story."""
    lead = aliased(Article)
    found = session.execute(
        select(Story, lead.title)
        .outerjoin(lead, lead.id == Story.lead_article_id)
        .where(Story.id == story_id)
    ).first()
    if found is None:
        return None
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    stmt = (
        select(Article, StoryLink)
        .outerjoin(StoryLink, StoryLink.article_id == Article.id)
        .where(Article.story_id == story_id)
        .order_by(when, Article.id)
    )
    members = [
        StoryMember(
            article_id=article.id,
            title=article.title,
            source_id=article.source_id,
            lang=article.lang,
            published_at=article.published_at,
            url=article.canonical_url or article.url,
            link_kind=None if link is None else link.kind,
            linked_article_id=None if link is None else link.linked_article_id,
            score=None if link is None else link.score,
        )
        for article, link in session.execute(stmt)
    ]
    return _summary(found[0], found[1]), members


def story_tags(session: Session, story_id: int) -> list[tuple[str, str, str, int]]:
    """A story's tags, the union of its articles' (id, kind, name, articles carrying it),
    most carried first."""
    stmt = text(
        "SELECT tag_id, kind, name, articles FROM story_tags WHERE story_id = :story"
        " ORDER BY articles DESC, tag_id"
    )
    rows = session.execute(stmt, {"story": story_id})
    return [(row[0], row[1], row[2], int(row[3])) for row in rows]


def _summary(story: Story, title: str | None) -> StorySummary:
    return StorySummary(
        id=story.id,
        lead_article_id=story.lead_article_id,
        lead_title=title or "",
        first_seen_at=story.first_seen_at,
        last_seen_at=story.last_seen_at,
        article_count=story.article_count,
        outlets=tuple(story.outlets or ()),
        languages=tuple(story.languages or ()),
    )
