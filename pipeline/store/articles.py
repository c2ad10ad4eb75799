"""Articles: the idempotent insert keyed on the item key, edits, lookups, and sightings (which
sources carried an article)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, literal, select, update
from sqlalchemy.orm import Session

from pipeline.errors import StoreError
from pipeline.models import Article as ArticleRecord
from pipeline.models import TaggedArticle
from pipeline.store.links import article_link_rows, insert_link_rows, rewrite_links
from pipeline.store.schema import VERDICTS, Article, ArticleVersion, Sighting, UTCDateTime
from pipeline.store.search_terms import has_cjk
from pipeline.store.sql import check_allowed, chunks, dialect_insert, utc_now
from pipeline.store.tags import unique_tags, upsert_tags


def stored_markers(session: Session, keys: Iterable[str]) -> dict[str, str | None]:
    """For each of ``keys`` already stored, the source's change marker kept with it (or None)."""
    wanted = sorted(set(keys))
    found: dict[str, str | None] = {}
    for chunk in chunks(wanted):
        stmt = select(Article.item_key, Article.source_modified).where(Article.item_key.in_(chunk))
        found.update({key: marker for key, marker in session.execute(stmt)})
    return found


def article_id_for_key(session: Session, item_key: str) -> int | None:
    """The id of the article stored under ``item_key``, if any."""
    return session.scalar(select(Article.id).where(Article.item_key == item_key))


def _in_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    # A naive time is taken as UTC, as the column type does; never as the host's zone.
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(UTC)


@dataclass(frozen=True)
class NewArticle:
    """An article to store under ``item_key``; ``duplicate_of_id`` when it is a copy, and
    ``story_id`` when its story is known before it is stored (``stories.plan_stories``)."""

    tagged: TaggedArticle
    item_key: str
    duplicate_of_id: int | None = None
    source_modified: str | None = None
    story_id: int | None = None


def insert_articles(session: Session, new: Sequence[NewArticle]) -> dict[str, int]:
    """Store new articles and their tag links in a few statements; returns the id of each one
    created, by item key. One whose key is stored already (by a run at the same time) is left
    as it is, and out of the answer. The tags' own rows must be stored already."""
    if not new:
        return {}
    now = utc_now()
    # Values go as parameters of one statement: SQLAlchemy sends them as multi-row INSERTs.
    stmt = (
        dialect_insert(session, Article)
        .on_conflict_do_nothing(index_elements=["item_key"])
        .returning(Article.id, Article.item_key)
    )
    rows = session.execute(stmt, [_article_values(entry, now) for entry in new])
    created = {key: article_id for article_id, key in rows}
    links = [
        link
        for entry in new
        if entry.item_key in created
        for link in article_link_rows(
            created[entry.item_key], entry.tagged.tags, entry.tagged.taxonomy_version
        )
    ]
    insert_link_rows(session, links)
    return created


def _article_values(entry: NewArticle, now: datetime) -> dict[str, Any]:
    article = entry.tagged.article
    return {
        "item_key": entry.item_key,
        "source_id": article.source_id,
        "item_id": article.item_id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "text": article.text,
        "summary": article.description,
        "author": article.author,
        "lang": article.lang,
        "doc_type": article.doc_type,
        "regulator": article.regulator,
        "published_at": _in_utc(article.published_at),
        "first_seen_at": now,
        "content_hash": entry.tagged.content_hash,
        "taxonomy_version": entry.tagged.taxonomy_version,
        "duplicate_of": entry.duplicate_of_id,
        "story_id": entry.story_id,
        "categories": list(article.categories),
        "entities": list(article.entities),
        "source_modified": entry.source_modified,
        "has_cjk": has_cjk(article.title) or has_cjk(article.text),
    }


def insert_article(
    session: Session,
    tagged: TaggedArticle,
    *,
    item_key: str,
    duplicate_of_key: str | None = None,
    source_modified: str | None = None,
) -> tuple[int, bool]:
    """Store one article under ``item_key``, its tags and links; returns (article id, whether
    it was created). A second call with the same key changes nothing and returns the stored
    id; ``duplicate_of_key`` marks it as a copy of that article."""
    tags = unique_tags(tagged.tags)
    if tags:
        upsert_tags(session, tags)
    duplicate_of = article_id_for_key(session, duplicate_of_key) if duplicate_of_key else None
    entry = NewArticle(tagged, item_key, duplicate_of, source_modified)
    created = insert_articles(session, [entry])
    if item_key in created:
        return created[item_key], True
    existing = article_id_for_key(session, item_key)
    if existing is None:  # pragma: no cover - a conflict implies the row exists
        raise StoreError(f"article {item_key!r}: insert conflicted but no row was found")
    return existing, False


def mark_copies(session: Session, copies: Mapping[int, int]) -> None:
    """Set ``duplicate_of`` of each article given (a copy → the article it copies)."""
    if not copies:
        return
    table = cast(Table, Article.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(duplicate_of=bindparam("b_of"))
    )
    rows = [{"b_id": article_id, "b_of": of} for article_id, of in copies.items()]
    session.connection().execute(stmt, rows)


def article_ids_for_keys(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """The id of each of ``keys`` that is stored."""
    found: dict[str, int] = {}
    for chunk in chunks(sorted(set(keys))):
        stmt = select(Article.item_key, Article.id).where(Article.item_key.in_(chunk))
        found.update({key: article_id for key, article_id in session.execute(stmt)})
    return found


def update_article(
    session: Session, tagged: TaggedArticle, *, item_key: str, source_modified: str | None
) -> int:
    """Rewrite the stored article under ``item_key`` with a changed version; returns its id.

    The row keeps its id, first-seen time and alerts (an edit is not a new item); its text,
    metadata, change marker and tag links become the new version's, and the version it replaces
    is kept in ``article_versions``.
    """
    article_id = article_id_for_key(session, item_key)
    if article_id is None:
        raise StoreError(f"article {item_key!r}: no stored row to update")
    _keep_version(session, article_id)
    article = tagged.article
    published = _in_utc(article.published_at)
    session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(
            url=article.url,
            canonical_url=article.canonical_url,
            title=article.title,
            text=article.text,
            summary=article.description,
            author=article.author,
            lang=article.lang,
            doc_type=article.doc_type,
            published_at=published,
            content_hash=tagged.content_hash,
            categories=list(article.categories),
            entities=list(article.entities),
            source_modified=source_modified,
            has_cjk=has_cjk(article.title) or has_cjk(article.text),
        )
    )
    rewrite_links(session, {article_id: tagged.tags}, tagged.taxonomy_version)
    return article_id


def _keep_version(session: Session, article_id: int) -> None:
    """Copy the stored version of an article into ``article_versions`` before it is replaced."""
    current = select(
        Article.id,
        Article.title,
        Article.text,
        Article.content_hash,
        Article.source_modified,
        literal(utc_now(), UTCDateTime()),
    ).where(Article.id == article_id)
    columns = ["article_id", "title", "text", "content_hash", "source_modified", "replaced_at"]
    session.execute(insert(ArticleVersion).from_select(columns, current))


def stored_text_lengths(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """For each of ``keys`` that is stored, the length of its stored text in characters."""
    found: dict[str, int] = {}
    for chunk in chunks(sorted(set(keys))):
        stmt = select(Article.item_key, func.length(Article.text)).where(
            Article.item_key.in_(chunk)
        )
        found.update({key: int(length or 0) for key, length in session.execute(stmt)})
    return found


def article_ids_to_retag(session: Session, version: str, *, all_articles: bool) -> list[int]:
    """Ids of the articles tagged with another taxonomy version than ``version`` (or all)."""
    stmt = select(Article.id).order_by(Article.id)
    if not all_articles:
        stmt = stmt.where(Article.taxonomy_version != version)
    return list(session.scalars(stmt))


def articles_to_tag(session: Session, ids: Sequence[int]) -> list[tuple[int, ArticleRecord]]:
    """The stored articles ``ids`` as records holding what tagging reads, in id order."""
    found: list[tuple[int, ArticleRecord]] = []
    for chunk in chunks(ids):
        stmt = select(
            Article.id, Article.title, Article.text, Article.entities, Article.categories
        ).where(Article.id.in_(chunk))
        for article_id, title, text, entities, categories in session.execute(stmt):
            record = ArticleRecord(
                url="",
                title=title or "",
                text=text or "",
                entities=tuple(entities or ()),
                categories=tuple(categories or ()),
            )
            found.append((article_id, record))
    return sorted(found, key=lambda pair: pair[0])


# Sightings ----------------------------------------------------------------------------------


def record_sightings(session: Session, sightings: Sequence[SightingRow]) -> None:
    """Note which source carried which article, once per pair, in one statement."""
    if not sightings:
        return
    now = utc_now()
    rows = []
    for seen in sightings:
        check_allowed(
            seen.verdict, VERDICTS, f"sighting of article {seen.article_id} in {seen.source_id}"
        )
        rows.append({**dataclasses.asdict(seen), "seen_at": now})
    stmt = dialect_insert(session, Sighting).on_conflict_do_nothing(
        index_elements=["article_id", "source_id"]
    )
    session.execute(stmt, rows)


@dataclass(frozen=True)
class SightingRow:
    """That ``source_id`` carried article ``article_id`` (at ``url``), with its verdict."""

    article_id: int
    source_id: str
    url: str
    guid: str | None
    verdict: str
    run_id: int | None
