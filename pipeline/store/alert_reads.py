"""Reading the outbox: rows with their article, and what an alert's message shows (every
article of the story, the tags with their evidence).

A public read module like ``story_reads``: the alerts package and the CLI import it directly.
The queries are SQL text read through a ``pipeline.store.reader.Reader`` (or a caller's
session, as alert delivery passes), so ``alerts list`` starts without SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.store.reader import (
    Reader,
    bind_list,
    flag,
    json_value,
    reader_for,
    stored_time,
    utc,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from pipeline.models import AlertTag, StoryMember

# An alert's snippet: the article's opening, short enough for a chat message.
SNIPPET_CHARS = 280
# The story members a message lists: a story syndicated by dozens of outlets still makes a
# message a desk can read; the count of the rest is implied by the story link.
MAX_MEMBERS = 25
# Tags a message shows with their evidence.
MAX_TAGS = 12

_OUTBOX_SQL = (
    "SELECT alerts.id, alerts.key, alerts.rule, alerts.story_id, alerts.article_id,"
    " alerts.channel, alerts.event, alerts.mode, alerts.severity, alerts.status,"
    " alerts.attempts, alerts.created_at, alerts.due_at, alerts.next_attempt_at,"
    " alerts.sent_at, alerts.last_error, alerts.claimed_by, articles.source_id,"
    " articles.title, articles.canonical_url, articles.url, articles.published_at,"
    " articles.doc_type, articles.lang, articles.regulator,"
    f" substr(articles.text, 1, {SNIPPET_CHARS}) AS snippet"
    " FROM alerts JOIN articles ON articles.id = alerts.article_id"
)
_WHEN = "COALESCE(articles.published_at, articles.first_seen_at)"


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

    def sql(self, reader: Reader, params: dict[str, Any]) -> str:
        """A WHERE clause for these conditions (empty for none), their values in ``params``."""
        found: list[str] = []
        if self.ids:
            found.append(f"alerts.id IN ({bind_list('id', self.ids, params)})")
        if self.statuses:
            found.append(f"alerts.status IN ({bind_list('status', self.statuses, params)})")
        for column, value in (
            ("rule", self.rule),
            ("channel", self.channel),
            ("story_id", self.story_id),
        ):
            if value is not None:
                params[column] = value
                found.append(f"alerts.{column} = :{column}")
        if self.since is not None:
            params["since"] = reader.time(self.since)
            found.append("alerts.created_at >= :since")
        return " WHERE " + " AND ".join(found) if found else ""


def outbox_rows(
    db: Session | Reader,
    where: OutboxFilter | None = None,
    *,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[OutboxRow]:
    """Outbox rows matching ``where``, newest first (or oldest first), at most ``limit``."""
    reader = reader_for(db)
    params: dict[str, Any] = {}
    sql = _OUTBOX_SQL + (where or OutboxFilter()).sql(reader, params)
    sql += " ORDER BY alerts.id DESC" if newest_first else " ORDER BY alerts.id"
    if limit is not None:
        params["limit"] = limit
        sql += " LIMIT :limit"
    return [_row(row) for row in reader.rows(sql, params)]


def count_outbox_rows(db: Session | Reader, where: OutboxFilter | None = None) -> int:
    """How many outbox rows match ``where``."""
    reader = reader_for(db)
    params: dict[str, Any] = {}
    sql = "SELECT count(*) AS n FROM alerts" + (where or OutboxFilter()).sql(reader, params)
    return int(reader.rows(sql, params)[0]["n"] or 0)


def _row(row: dict[str, Any]) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        key=row["key"],
        rule=row["rule"],
        story_id=row["story_id"],
        article_id=row["article_id"],
        channel=row["channel"],
        event=row["event"],
        mode=row["mode"],
        severity=row["severity"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=stored_time(row["created_at"]),
        due_at=stored_time(row["due_at"]),
        next_attempt_at=utc(row["next_attempt_at"]),
        sent_at=utc(row["sent_at"]),
        last_error=row["last_error"],
        claimed_by=row["claimed_by"],
        source_id=row["source_id"],
        title=row["title"],
        url=row["canonical_url"] or row["url"],
        published_at=utc(row["published_at"]),
        doc_type=row["doc_type"],
        lang=row["lang"],
        regulator=flag(row["regulator"]),
        snippet=row["snippet"] or "",
    )


def story_members(db: Session | Reader, story_ids: Collection[int]) -> dict[int, list[StoryMember]]:
    """Every story's articles, lead first then in time order (at most ``MAX_MEMBERS``)."""
    # Here, not at the top: only delivery needs the records, and ``alerts list`` and ``show``
    # would pay for defining them all.
    from pipeline.models import StoryMember

    if not story_ids:
        return {}
    params: dict[str, Any] = {}
    sql = (
        "SELECT articles.id, articles.story_id, articles.source_id, articles.title,"
        " articles.canonical_url, articles.url, articles.lang, articles.published_at,"
        " story_links.kind, stories.lead_article_id"
        " FROM articles JOIN stories ON stories.id = articles.story_id"
        " LEFT OUTER JOIN story_links ON story_links.article_id = articles.id"
        f" WHERE articles.story_id IN ({bind_list('story', story_ids, params)})"
        f" ORDER BY articles.story_id, {_WHEN}, articles.id"
    )
    found: dict[int, list[StoryMember]] = {}
    for row in reader_for(db).rows(sql, params):
        members = found.setdefault(row["story_id"], [])
        role = "lead" if row["id"] == row["lead_article_id"] else (row["kind"] or "same_story")
        member = StoryMember(
            article_id=row["id"],
            source_id=row["source_id"],
            title=row["title"],
            url=row["canonical_url"] or row["url"],
            language=row["lang"],
            published_at=utc(row["published_at"]),
            role=role,
        )
        if role == "lead":
            members.insert(0, member)
        else:
            members.append(member)
    return {story: members[:MAX_MEMBERS] for story, members in found.items()}


def alert_tags(db: Session | Reader, article_ids: Collection[int]) -> dict[int, list[AlertTag]]:
    """Each article's tags with the first sentence of evidence, strongest first."""
    from pipeline.models import AlertTag

    if not article_ids:
        return {}
    params: dict[str, Any] = {}
    sql = (
        "SELECT article_tags.article_id, article_tags.tag_id, article_tags.evidence,"
        " tags.kind, tags.name"
        " FROM article_tags JOIN tags ON tags.id = article_tags.tag_id"
        f" WHERE article_tags.article_id IN ({bind_list('article', article_ids, params)})"
        " ORDER BY article_tags.article_id, article_tags.in_title DESC,"
        " article_tags.count DESC, article_tags.tag_id"
    )
    found: dict[int, list[AlertTag]] = {}
    for row in reader_for(db).rows(sql, params):
        tags = found.setdefault(row["article_id"], [])
        if len(tags) < MAX_TAGS:
            evidence = json_value(row["evidence"])
            tags.append(
                AlertTag(
                    kind=row["kind"],
                    id=row["tag_id"],
                    name=row["name"],
                    evidence=evidence[0] if evidence else "",
                )
            )
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


def articles_seen_since(db: Session | Reader, since: datetime, limit: int) -> list[StoredArticle]:
    """Articles first seen or published since ``since``, oldest first, at most ``limit``."""
    reader = reader_for(db)
    params = {"since": reader.time(since), "limit": limit}
    chosen = f"FROM articles WHERE {_WHEN} >= :since ORDER BY {_WHEN}, articles.id LIMIT :limit"
    articles = reader.rows(
        "SELECT articles.id, articles.story_id, articles.source_id, articles.title,"
        " articles.text, articles.canonical_url, articles.url, articles.doc_type,"
        f" articles.lang, articles.regulator, articles.published_at {chosen}",
        params,
    )
    tags: dict[int, list[tuple[str, str, str]]] = {}
    if articles:
        # The same articles chosen again: a list of up to ``limit`` ids would pass the number
        # of parameters SQLite binds.
        tag_sql = (
            "SELECT article_tags.article_id, tags.kind, tags.id AS tag_id, tags.name"
            " FROM article_tags JOIN tags ON tags.id = article_tags.tag_id"
            f" WHERE article_tags.article_id IN (SELECT articles.id {chosen})"
        )
        for row in reader.rows(tag_sql, params):
            tags.setdefault(row["article_id"], []).append((row["kind"], row["tag_id"], row["name"]))
    return [
        StoredArticle(
            article_id=a["id"],
            story_id=a["story_id"],
            source_id=a["source_id"],
            title=a["title"],
            text=a["text"],
            url=a["canonical_url"] or a["url"],
            doc_type=a["doc_type"],
            lang=a["lang"],
            regulator=flag(a["regulator"]),
            published_at=utc(a["published_at"]),
            tags=tuple(tags.get(a["id"], ())),
        )
        for a in articles
    ]
