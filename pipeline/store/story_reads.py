"""Reading stories: the list an analyst scans and one story with why each article is in it.

Like ``search``, a public read module: the CLI and exports import it directly. A story's tags
are the view ``story_tags`` (the union of its articles' tags). The queries are SQL text read
through a ``pipeline.store.reader.Reader`` (or a caller's session), so ``show story:ID`` starts
without SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.store.reader import Reader, json_value, reader_for, utc

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# A story's columns with its lead article's title (none when the lead was deleted).
_SUMMARY_SQL = (
    "SELECT stories.id, stories.lead_article_id, stories.first_seen_at, stories.last_seen_at,"
    " stories.article_count, stories.outlets, stories.languages, lead.title AS lead_title"
    " FROM stories LEFT OUTER JOIN articles AS lead ON lead.id = stories.lead_article_id"
)
_MEMBERS_SQL = (
    "SELECT articles.id AS article_id, articles.title, articles.source_id, articles.lang,"
    " articles.published_at, articles.canonical_url, articles.url,"
    " story_links.kind AS link_kind, story_links.linked_article_id, story_links.score"
    " FROM articles LEFT OUTER JOIN story_links ON story_links.article_id = articles.id"
    " WHERE articles.story_id = :story"
    " ORDER BY COALESCE(articles.published_at, articles.first_seen_at), articles.id"
)


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
    db: Session | Reader,
    *,
    min_articles: int = 2,
    since: datetime | None = None,
    limit: int = 20,
) -> list[StorySummary]:
    """Stories of at least ``min_articles`` articles, most recently active first."""
    reader = reader_for(db)
    params: dict[str, Any] = {"min_articles": min_articles, "limit": limit}
    where = "stories.article_count >= :min_articles"
    if since is not None:
        params["since"] = reader.time(since)
        where += " AND stories.last_seen_at >= :since"
    sql = (
        f"{_SUMMARY_SQL} WHERE {where}"
        " ORDER BY stories.last_seen_at DESC, stories.id DESC LIMIT :limit"
    )
    return [_summary(row) for row in reader.rows(sql, params)]


def get_story(db: Session | Reader, story_id: int) -> tuple[StorySummary, list[StoryMember]] | None:
    """One story and its articles in time order, or None when there is no such story."""
    reader = reader_for(db)
    found = reader.rows(f"{_SUMMARY_SQL} WHERE stories.id = :story", {"story": story_id})
    if not found:
        return None
    members = [
        StoryMember(
            article_id=row["article_id"],
            title=row["title"],
            source_id=row["source_id"],
            lang=row["lang"],
            published_at=utc(row["published_at"]),
            url=row["canonical_url"] or row["url"],
            link_kind=row["link_kind"],
            linked_article_id=row["linked_article_id"],
            score=None if row["score"] is None else float(row["score"]),
        )
        for row in reader.rows(_MEMBERS_SQL, {"story": story_id})
    ]
    return _summary(found[0]), members


def story_tags(db: Session | Reader, story_id: int) -> list[tuple[str, str, str, int]]:
    """A story's tags, the union of its articles' (id, kind, name, articles carrying it),
    most carried first."""
    rows = reader_for(db).rows(
        "SELECT tag_id, kind, name, articles FROM story_tags WHERE story_id = :story"
        " ORDER BY articles DESC, tag_id",
        {"story": story_id},
    )
    return [(row["tag_id"], row["kind"], row["name"], int(row["articles"])) for row in rows]


def _summary(row: dict[str, Any]) -> StorySummary:
    return StorySummary(
        id=row["id"],
        lead_article_id=row["lead_article_id"],
        lead_title=row["lead_title"] or "",
        first_seen_at=utc(row["first_seen_at"]),
        last_seen_at=utc(row["last_seen_at"]),
        article_count=row["article_count"],
        outlets=tuple(json_value(row["outlets"]) or ()),
        languages=tuple(json_value(row["languages"]) or ()),
    )
