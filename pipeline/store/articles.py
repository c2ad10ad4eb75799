"""Articles: the idempotent insert keyed on the item key, edits, lookups, and sightings (which
sources carried an article)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from pipeline.errors import StoreError
from pipeline.models import Article as ArticleRecord
from pipeline.models import TaggedArticle
from pipeline.store.links import insert_links, link_values, rewrite_links
from pipeline.store.schema import VERDICTS, Article, ArticleVersion, Sighting, UTCDateTime
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


def insert_article(
    session: Session,
    tagged: TaggedArticle,
    *,
    item_key: str,
    duplicate_of_key: str | None = None,
    duplicate_of_id: int | None = None,
    known_tag_ids: Collection[str] | None = None,
    source_modified: str | None = None,
    link_rows: list[dict[str, Any]] | None = None,
) -> tuple[int, bool]:
    """Store an article once under ``item_key``; returns (article id, whether it was created).

    ``source_modified`` is the source's own change marker, kept to spot a later edit.

    A second call with the same key changes nothing and returns the stored id. A new article's
    tags are upserted (but for ``known_tag_ids``, whose rows the caller has stored already) and
    linked; ``duplicate_of_key`` (or ``duplicate_of_id``) marks it as a copy of that article.
    Given ``link_rows``, the tag links are added to it for the caller to store with a whole
    batch's (``insert_link_rows``), instead of in a statement of their own.
    """
    article = tagged.article
    duplicate_of = duplicate_of_id
    if duplicate_of is None and duplicate_of_key:
        duplicate_of = article_id_for_key(session, duplicate_of_key)
    published = _in_utc(article.published_at)
    values = {
        "item_key": item_key,
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
        "published_at": published,
        "first_seen_at": utc_now(),
        "content_hash": tagged.content_hash,
        "taxonomy_version": tagged.taxonomy_version,
        "duplicate_of": duplicate_of,
        "categories": list(article.categories),
        "entities": list(article.entities),
        "source_modified": source_modified,
    }
    # Values go as parameters, not .values(): the statement then compiles once and is cached.
    stmt = (
        dialect_insert(session, Article)
        .on_conflict_do_nothing(index_elements=["item_key"])
        .returning(Article.id)
    )
    new_id = session.execute(stmt, values).scalar_one_or_none()
    if new_id is None:
        existing = article_id_for_key(session, item_key)
        if existing is None:  # pragma: no cover - a conflict implies the row exists
            raise StoreError(f"article {item_key!r}: insert conflicted but no row was found")
        return existing, False
    tags = unique_tags(tagged.tags)
    if tags:
        # Tags the caller has already stored (``known_tag_ids``) need no upsert per article.
        unknown = [t for t in tags if known_tag_ids is None or t.id not in known_tag_ids]
        if unknown:
            upsert_tags(session, unknown)
        if link_rows is None:
            insert_links(session, new_id, tags, tagged.taxonomy_version)
        else:
            link_rows.extend(link_values(new_id, tag, tagged.taxonomy_version) for tag in tags)
    return new_id, True


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


def record_sighting(
    session: Session,
    *,
    article_id: int,
    source_id: str,
    url: str,
    guid: str | None,
    verdict: str,
    run_id: int | None,
) -> bool:
    """Note that ``source_id`` carried the article; True the first time, False after."""
    check_allowed(verdict, VERDICTS, f"sighting of article {article_id} in {source_id}")
    stmt = (
        dialect_insert(session, Sighting)
        .on_conflict_do_nothing(index_elements=["article_id", "source_id"])
        .returning(Sighting.id)
    )
    values = {
        "article_id": article_id,
        "source_id": source_id,
        "run_id": run_id,
        "url": url,
        "guid": guid,
        "verdict": verdict,
        "seen_at": utc_now(),
    }
    return session.execute(stmt, values).scalar_one_or_none() is not None
