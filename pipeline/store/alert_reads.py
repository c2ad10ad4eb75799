"""Reading the outbox: rows with their article, and what an alert's message shows (every
article of the story, the tags with their evidence).

A public read module like ``story_reads``: the alerts package and the CLI import it directly.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pipeline.models import AlertTag, StoryMember
from pipeline.store.schema import AlertRow, Article, ArticleTag, Story, StoryLink, TagRow

# An alert's snippet: the article's opening, short enough for a chat message.
SNIPPET_CHARS = 280
# The story members a message lists: a story syndicated by dozens of outlets still makes a
# message a desk can read; the count of the rest is implied by the story link.
MAX_MEMBERS = 25
# Tags a message shows with their evidence.
MAX_TAGS = 12


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row with the facts of the article that raised it."""

    id: int
    key: str
    rule: str
    story_id: int
    article_id: int
    channel: str
    event: str
    mode: str
    severity: str
    status: str
    attempts: int
    created_at: datetime
    due_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    claimed_by: str | None
    source_id: str
    title: str
    url: str
    published_at: datetime | None
    doc_type: str
    lang: str | None
    regulator: bool
    snippet: str


@dataclass(frozen=True)
class OutboxFilter:
    """Which rows to read: any combination of these (None: any)."""

    ids: Sequence[int] = ()
    statuses: Sequence[str] = ()
    rule: str | None = None
    channel: str | None = None
    story_id: int | None = None
    since: datetime | None = None


def _filtered(stmt: Select[Any], where: OutboxFilter) -> Select[Any]:
    if where.ids:
        stmt = stmt.where(AlertRow.id.in_(list(where.ids)))
    if where.statuses:
        stmt = stmt.where(AlertRow.status.in_(list(where.statuses)))
    if where.rule is not None:
        stmt = stmt.where(AlertRow.rule == where.rule)
    if where.channel is not None:
        stmt = stmt.where(AlertRow.channel == where.channel)
    if where.story_id is not None:
        stmt = stmt.where(AlertRow.story_id == where.story_id)
    if where.since is not None:
        stmt = stmt.where(AlertRow.created_at >= where.since)
    return stmt


def outbox_rows(
    session: Session,
    where: OutboxFilter | None = None,
    *,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[OutboxRow]:
    """Outbox rows matching ``where``, newest first (or oldest first), at most ``limit``."""
    stmt = _filtered(
        select(
            AlertRow,
            Article.source_id,
            Article.title,
            Article.canonical_url,
            Article.url,
            Article.published_at,
            Article.doc_type,
            Article.lang,
            Article.regulator,
            func.substr(Article.text, 1, SNIPPET_CHARS),
        ).join(Article, Article.id == AlertRow.article_id),
        where or OutboxFilter(),
    )
    order = (AlertRow.id.desc(),) if newest_first else (AlertRow.id,)
    stmt = stmt.order_by(*order)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_row(*found) for found in session.execute(stmt)]


def count_outbox_rows(session: Session, where: OutboxFilter | None = None) -> int:
    """How many outbox rows match ``where``."""
    stmt = _filtered(select(func.count()).select_from(AlertRow), where or OutboxFilter())
    return int(session.scalar(stmt) or 0)


def _row(alert: AlertRow, *facts: Any) -> OutboxRow:
    source_id, title, canonical, url, published, doc_type, lang, regulator, snippet = facts
    return OutboxRow(
        id=alert.id,
        key=alert.key,
        rule=alert.rule,
        story_id=alert.story_id,
        article_id=alert.article_id,
        channel=alert.channel,
        event=alert.event,
        mode=alert.mode,
        severity=alert.severity,
        status=alert.status,
        attempts=alert.attempts,
        created_at=alert.created_at,
        due_at=alert.due_at,
        next_attempt_at=alert.next_attempt_at,
        sent_at=alert.sent_at,
        last_error=alert.last_error,
        claimed_by=alert.claimed_by,
        source_id=source_id,
        title=title,
        url=canonical or url,
        published_at=published,
        doc_type=doc_type,
        lang=lang,
        regulator=bool(regulator),
        snippet=snippet or "",
    )


def story_members(session: Session, story_ids: Collection[int]) -> dict[int, list[StoryMember]]:
    """Every story's articles, lead first then in time order (at most ``MAX_MEMBERS``)."""
    if not story_ids:
        return {}
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    stmt = (
        select(Article, StoryLink.kind, Story.lead_article_id)
        .join(Story, Story.id == Article.story_id)
        .outerjoin(StoryLink, StoryLink.article_id == Article.id)
        .where(Article.story_id.in_(list(story_ids)))
        .order_by(Article.story_id, when, Article.id)
    )
    found: dict[int, list[StoryMember]] = {}
    for article, kind, lead_id in session.execute(stmt):
        if article.story_id is None:  # the join on stories rules it out
            continue
        members = found.setdefault(article.story_id, [])
        role = "lead" if article.id == lead_id else (kind or "same_story")
        member = StoryMember(
            article_id=article.id,
            source_id=article.source_id,
            title=article.title,
            url=article.canonical_url or article.url,
            language=article.lang,
            published_at=article.published_at,
            role=role,
        )
        if role == "lead":
            members.insert(0, member)
        else:
            members.append(member)
    return {story: members[:MAX_MEMBERS] for story, members in found.items()}


def alert_tags(session: Session, article_ids: Collection[int]) -> dict[int, list[AlertTag]]:
    """Each article's tags with the first sentence of evidence, strongest first."""
    if not article_ids:
        return {}
    stmt = (
        select(ArticleTag, TagRow.kind, TagRow.name)
        .join(TagRow, TagRow.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id.in_(list(article_ids)))
        .order_by(
            ArticleTag.article_id,
            ArticleTag.in_title.desc(),
            ArticleTag.count.desc(),
            ArticleTag.tag_id,
        )
    )
    found: dict[int, list[AlertTag]] = {}
    for link, kind, name in session.execute(stmt):
        tags = found.setdefault(link.article_id, [])
        if len(tags) < MAX_TAGS:
            evidence = link.evidence[0] if link.evidence else ""
            tags.append(AlertTag(kind=kind, id=link.tag_id, name=name, evidence=evidence))
    return found


@dataclass(frozen=True)
class StoredArticle:
    """A stored article as a rule sees it: its facts, text and tags as (kind, id, name)."""

    article_id: int
    story_id: int | None
    source_id: str
    title: str
    text: str
    url: str
    doc_type: str
    lang: str | None
    regulator: bool
    published_at: datetime | None
    tags: tuple[tuple[str, str, str], ...]


def articles_seen_since(session: Session, since: datetime, limit: int) -> list[StoredArticle]:
    """Articles first seen or published since ``since``, oldest first, at most ``limit``."""
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    stmt = select(Article).where(when >= since).order_by(when, Article.id).limit(limit)
    articles = list(session.scalars(stmt))
    tags: dict[int, list[tuple[str, str, str]]] = {}
    if articles:
        tag_stmt = (
            select(ArticleTag.article_id, TagRow.kind, TagRow.id, TagRow.name)
            .join(TagRow, TagRow.id == ArticleTag.tag_id)
            .where(ArticleTag.article_id.in_([a.id for a in articles]))
        )
        for article_id, kind, tag_id, name in session.execute(tag_stmt):
            tags.setdefault(article_id, []).append((kind, tag_id, name))
    return [
        StoredArticle(
            article_id=a.id,
            story_id=a.story_id,
            source_id=a.source_id,
            title=a.title,
            text=a.text,
            url=a.canonical_url or a.url,
            doc_type=a.doc_type,
            lang=a.lang,
            regulator=bool(a.regulator),
            published_at=a.published_at,
            tags=tuple(tags.get(a.id, ())),
        )
        for a in articles
    ]
