"""Article fingerprints in the store: the keys each article is filed under and its signatures.

``candidates`` finds which stored articles a batch may join; this module reads their
fingerprints back (``load_prints``) and files new ones (``file_prints``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pipeline.store import print_cache
from pipeline.store.print_cache import ROW_CACHE_ENTRIES, Lru
from pipeline.store.schema import Article, ArticleKey, ArticlePrint, ArticleTag, StoryLink
from pipeline.store.sql import chunks, insert_rows
from pipeline.stories import minhash
from pipeline.stories.features import (
    Fingerprint,
    fingerprint,
    language_family,
)
from pipeline.stories.refs import regulator_ref
from pipeline.stories.shingles import shingle_hashes, tokens
from pipeline.stories.titles import title_terms


@dataclass(frozen=True)
class StoredPrint:
    """A stored article's fingerprint, with its row id and story."""

    article_id: int
    story_id: int | None
    print: Fingerprint
    # Split off by an analyst: a story of its own that nothing else joins.
    apart: bool = False
    # The keys of the batch's own that found it (all a batch's deduper needs to file it under).
    found_by: tuple[int, ...] = ()

    @property
    def order(self) -> tuple[datetime, int]:
        """Where the article stands in time: its date, then its id."""
        assert self.print.at is not None
        return (self.print.at, self.article_id)


def file_prints(
    session: Session, entries: Sequence[tuple[int, Fingerprint]], *, replace_old: bool = False
) -> None:
    """Store each article's signatures and the keys it is filed under.

    ``replace_old`` drops what the articles were filed under before (an update, a rebuild);
    new articles have nothing to drop.
    """
    if not entries:
        return
    ids = [article_id for article_id, _ in entries]
    if replace_old:
        for chunk in chunks(ids):
            session.execute(delete(ArticleKey).where(ArticleKey.article_id.in_(chunk)))
            session.execute(delete(ArticlePrint).where(ArticlePrint.article_id.in_(chunk)))
    prints = [
        (
            article_id,
            None if item.near is None else minhash.to_bytes(item.near),
            minhash.to_bytes(item.words),
            tags_json(item),
        )
        for article_id, item in entries
    ]
    insert_rows(session, "article_prints", ("article_id", "near", "words", "tags"), prints)
    for _, item in entries:
        print_cache.remember_shingles(item.content_hash, item.shingles)
    keys = [
        (key, article_id)
        for article_id, item in entries
        for key in dict.fromkeys(item.stored_keys())
    ]
    insert_rows(session, "article_keys", ("key", "article_id"), keys)


def tags_json(item: Fingerprint) -> str:
    """The fingerprint's tags as ``article_prints.tags`` holds them."""
    return json.dumps(sorted(item.tags))


def filed_keys(session: Session, article_ids: Sequence[int]) -> dict[int, tuple[str, set[int]]]:
    """The tags (as stored) and keys each of ``article_ids`` is filed under now; those never
    filed (stored before stories existed) are left out."""
    found: dict[int, tuple[str, set[int]]] = {}
    for chunk in chunks(list(article_ids)):
        printed = select(ArticlePrint.article_id, ArticlePrint.tags).where(
            ArticlePrint.article_id.in_(chunk)
        )
        found.update((article_id, (tags, set())) for article_id, tags in session.execute(printed))
    for chunk in chunks(list(article_ids)):
        stmt = select(ArticleKey.article_id, ArticleKey.key).where(ArticleKey.article_id.in_(chunk))
        for article_id, key in session.execute(stmt):
            if article_id in found:
                found[article_id][1].add(key)
    return found


# The article columns a fingerprint is made of; the text is read only where it is needed.
_PRINT_COLUMNS = (
    Article.id,
    Article.item_key,
    Article.item_id,
    Article.source_id,
    Article.url,
    Article.canonical_url,
    Article.title,
    Article.lang,
    Article.regulator,
    Article.published_at,
    Article.first_seen_at,
    Article.content_hash,
    Article.story_id,
)


def load_prints(session: Session, article_ids: Sequence[int]) -> list[StoredPrint]:
    """Fingerprints of stored articles from their rows, signatures and tags (shingles, to
    verify a near-duplicate, are added by ``with_shingles``).

    An article with no stored signatures (stored before stories existed) gets them computed
    from its text.
    """
    rows: list[Any] = []
    for chunk in chunks(list(article_ids)):
        stmt = (
            select(
                *_PRINT_COLUMNS,
                ArticlePrint.near,
                ArticlePrint.words,
                ArticlePrint.tags,
                StoryLink.kind,
            )
            .outerjoin(ArticlePrint, ArticlePrint.article_id == Article.id)
            .outerjoin(StoryLink, StoryLink.article_id == Article.id)
            .where(Article.id.in_(chunk))
        )
        rows.extend(session.execute(stmt))
    unfiled = [row.id for row in rows if row.words is None]
    texts = _texts(session, unfiled)
    tags = article_tag_ids(session, unfiled)
    found = []
    for row in rows:
        stored = _decoded_print(row)
        if stored is None:
            stored = _stored_print(row, tags.get(row.id, ()), texts.get(row.id, ""))
            if row.words is not None:
                _decoded_rows.put(row.id, (tuple(row), stored))
        found.append(stored)
    return found


# Filed articles' rows decoded by ``load_prints``, each kept with the row it came from and
# reused only for that very row (see ``print_cache``).
_decoded_rows: Lru[int, tuple[tuple[object, ...], StoredPrint]] = Lru(ROW_CACHE_ENTRIES)


def _decoded_print(row: Any) -> StoredPrint | None:
    kept = _decoded_rows.get(row.id)
    if kept is None or kept[0] != tuple(row):
        return None
    return kept[1]


def with_shingles(
    session: Session, found: Sequence[StoredPrint], article_ids: Iterable[int]
) -> list[StoredPrint]:
    """``found`` with the shingles of ``article_ids`` computed from their stored text."""
    wanted = set(article_ids)
    if not wanted:
        return list(found)
    known = {
        stored.article_id: shingles
        for stored in found
        if stored.article_id in wanted
        and (shingles := print_cache.shingles_of(stored.print.content_hash)) is not None
    }
    texts = _texts(session, sorted(wanted.difference(known)))
    result = []
    for stored in found:
        if stored.article_id in wanted:
            shingles = known.get(stored.article_id)
            if shingles is None:
                shingles = shingle_hashes(tokens(texts.get(stored.article_id, "")))
                print_cache.remember_shingles(stored.print.content_hash, shingles)
            stored = replace(stored, print=replace(stored.print, shingles=shingles))
        result.append(stored)
    return result


def _texts(session: Session, article_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in chunks(list(article_ids)):
        stmt = select(Article.id, Article.text).where(Article.id.in_(chunk))
        found.update({article_id: text or "" for article_id, text in session.execute(stmt)})
    return found


def _stored_print(row: Any, tags: Iterable[str], text: str) -> StoredPrint:
    """A stored article's fingerprint from its row: its stored signatures and tags, or, for an
    article never filed (``tags`` then its tag links), computed afresh from ``text``."""
    if row.words is None:
        item = stored_fingerprint(row, tags, text)
    else:
        canonical = row.canonical_url or row.url
        item = Fingerprint(
            key=row.item_key,
            canonical=canonical,
            content_hash=row.content_hash or "",
            lang=language_family(row.lang, [] if row.lang else tokens(row.title or "")),
            at=row.published_at or row.first_seen_at,
            source_id=row.source_id,
            regulator=bool(row.regulator),
            ref=regulator_ref(canonical, row.item_id),
            title_terms=title_terms(row.title or ""),
            # Filed tags were filtered when the fingerprint was made.
            tags=frozenset(json.loads(row.tags)),
            shingles=None,
            near=None if row.near is None else minhash.from_bytes(row.near),
            words=minhash.from_bytes(row.words),
        )
    return StoredPrint(row.id, row.story_id, item, apart=row.kind == "split")


def stored_fingerprint(row: Any, tags: Iterable[str], text: str) -> Fingerprint:
    """The fingerprint of a stored article (a row with the article's columns) computed afresh
    from its ``text`` and tags."""
    canonical = row.canonical_url or row.url
    return fingerprint(
        key=row.item_key,
        title=row.title or "",
        text=text,
        lang=row.lang,
        at=row.published_at or row.first_seen_at,
        source_id=row.source_id,
        canonical=canonical,
        content_hash=row.content_hash or "",
        regulator=bool(row.regulator),
        ref=regulator_ref(canonical, row.item_id),
        tags=tags,
    )


def article_tag_ids(session: Session, article_ids: Sequence[int]) -> dict[int, list[str]]:
    """The ids of the tags each of ``article_ids`` carries."""
    found: dict[int, list[str]] = {}
    for chunk in chunks(list(article_ids)):
        stmt = select(ArticleTag.article_id, ArticleTag.tag_id).where(
            ArticleTag.article_id.in_(chunk)
        )
        for article_id, tag_id in session.execute(stmt):
            found.setdefault(article_id, []).append(tag_id)
    return found


def with_time(item: Fingerprint, at: datetime) -> Fingerprint:
    """The fingerprint dated ``at`` when it has no date of its own (a page that gave none)."""
    return item if item.at is not None else replace(item, at=at)


def fresh_prints(session: Session, article_ids: Sequence[int]) -> list[tuple[int, Fingerprint]]:
    """The fingerprints of stored articles computed afresh from their text and tags."""
    tags = article_tag_ids(session, article_ids)
    found: list[tuple[int, Fingerprint]] = []
    for chunk in chunks(list(article_ids)):
        for row in session.scalars(select(Article).where(Article.id.in_(chunk))):
            found.append((row.id, stored_fingerprint(row, tags.get(row.id, ()), row.text or "")))
    return found


def articles_in_time_order(session: Session) -> list[int]:
    """Every stored article's id, by date (published, else first seen), then id."""
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    return list(session.scalars(select(Article.id).order_by(when, Article.id)))


def story_count(session: Session) -> int:
    """How many stories the stored articles form."""
    return int(session.scalar(select(func.count(func.distinct(Article.story_id)))) or 0)
