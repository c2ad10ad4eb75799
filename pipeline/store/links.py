"""Article↔tag links (``article_tags``): one row per tag an article carries, with its evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pipeline.models import Tag
from pipeline.store.schema import Article, ArticleTag
from pipeline.store.sql import chunks, insert_rows
from pipeline.store.tags import unique_tags, upsert_tags

_LINK_COLUMNS = (
    "article_id",
    "tag_id",
    "count",
    "in_title",
    "in_lead",
    "evidence",
    "taxonomy_version",
)
# The columns a link's content is compared on; the version is written with any change.
_CONTENT = ("count", "in_title", "in_lead", "evidence")


@dataclass(frozen=True)
class LinkChange:
    """Which of an article's tag links a rewrite added, removed and changed."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        """Whether anything was written."""
        return bool(self.added or self.removed or self.changed)


def link_values(article_id: int, tag: Tag, version: str) -> dict[str, Any]:
    """The row of the link between an article and one of its tags."""
    return {
        "article_id": article_id,
        "tag_id": tag.id,
        "count": tag.count,
        "in_title": tag.in_title,
        "in_lead": tag.in_lead,
        "evidence": list(tag.evidence),
        "taxonomy_version": version,
    }


def article_link_rows(article_id: int, tags: Sequence[Tag], version: str) -> list[tuple[Any, ...]]:
    """An article's links to its tags as ``insert_link_rows`` takes them, the first of any id
    given twice (one statement may not write a row twice)."""
    # A batch builds a quarter of a million of these: one comprehension, without a call per
    # link, costs half as much, and orjson encodes the evidence about 10x faster than the
    # standard library (bench/pipeline.py), as SQLAlchemy's JSON type writes it, so either
    # reads the other's rows.
    dumps = orjson.dumps
    if len({tag.id for tag in tags}) != len(tags):
        tags = unique_tags(tags)
    return [
        (
            article_id,
            tag.id,
            tag.count,
            bool(tag.in_title),
            bool(tag.in_lead),
            dumps(tag.evidence).decode(),
            version,
        )
        for tag in tags
    ]


def insert_links(session: Session, article_id: int, tags: Sequence[Tag], version: str) -> None:
    """Link the article to ``tags`` (rows already stored); existing links are left as they are."""
    insert_link_rows(session, article_link_rows(article_id, tags, version))


def insert_link_rows(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Store links given as ``article_link_rows`` makes them, of any number of articles, in one
    statement; existing links are left as they are."""
    insert_rows(session, "article_tags", _LINK_COLUMNS, rows)


def _stored_links(session: Session, article_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    stored: dict[int, dict[str, Any]] = {article_id: {} for article_id in article_ids}
    columns = [getattr(ArticleTag, name) for name in _CONTENT]
    for chunk in chunks(list(article_ids)):
        rows = session.execute(
            select(ArticleTag.article_id, ArticleTag.tag_id, *columns).where(
                ArticleTag.article_id.in_(chunk)
            )
        )
        for row in rows:
            stored[row.article_id][row.tag_id] = row
    return stored


def _link_content(row: Any) -> tuple[Any, ...]:
    return (row.count, bool(row.in_title), bool(row.in_lead), list(row.evidence))


def rewrite_links(
    session: Session, tags_by_article: Mapping[int, Iterable[Tag]], version: str
) -> dict[int, LinkChange]:
    """Make each article's tag links exactly its tags; only links that changed are written.

    A link that stays the same keeps the taxonomy version that last changed it; every article
    given moves to ``version``. Tags that are not stored yet (names a source attached) get rows.
    """
    wanted = {
        article_id: {tag.id: tag for tag in unique_tags(tags)}
        for article_id, tags in tags_by_article.items()
    }
    stored = _stored_links(session, list(wanted))
    changes: dict[int, LinkChange] = {}
    fresh: dict[str, Tag] = {}
    for article_id, tags in wanted.items():
        have = stored[article_id]
        added = sorted(set(tags) - set(have))
        removed = sorted(set(have) - set(tags))
        changed = sorted(
            tag_id
            for tag_id in set(tags) & set(have)
            if _link_content(tags[tag_id]) != _link_content(have[tag_id])
        )
        changes[article_id] = LinkChange(tuple(added), tuple(removed), tuple(changed))
        fresh.update((tag_id, tags[tag_id]) for tag_id in added)
    if fresh:
        upsert_tags(session, fresh.values())
    for article_id, change in changes.items():
        _write_change(session, article_id, change, wanted[article_id], version)
    if wanted:
        for chunk in chunks(list(wanted)):
            session.execute(
                update(Article)
                .where(Article.id.in_(chunk), Article.taxonomy_version != version)
                .values(taxonomy_version=version)
            )
    return changes


def _write_change(
    session: Session, article_id: int, change: LinkChange, tags: Mapping[str, Tag], version: str
) -> None:
    if change.removed:
        session.execute(
            delete(ArticleTag).where(
                ArticleTag.article_id == article_id, ArticleTag.tag_id.in_(change.removed)
            )
        )
    if change.added:
        insert_links(session, article_id, [tags[tag_id] for tag_id in change.added], version)
    for tag_id in change.changed:
        session.execute(
            update(ArticleTag)
            .where(ArticleTag.article_id == article_id, ArticleTag.tag_id == tag_id)
            .values(link_values(article_id, tags[tag_id], version))
        )
