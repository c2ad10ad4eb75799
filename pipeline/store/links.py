"""Article↔tag links (``article_tags``): one row per tag an article carries, with its evidence."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pipeline.models import Tag
from pipeline.store.schema import Article, ArticleTag
from pipeline.store.sql import dialect_insert
from pipeline.store.tags import unique_tags, upsert_tags


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


def insert_links(session: Session, article_id: int, tags: list[Tag], version: str) -> None:
    """Link the article to ``tags`` (rows already stored); existing links are left as they are."""
    rows = [link_values(article_id, tag, version) for tag in tags]
    # An executemany of one cached statement: a multi-row VALUES would compile anew every time.
    stmt = dialect_insert(session, ArticleTag).on_conflict_do_nothing(
        index_elements=["article_id", "tag_id"]
    )
    session.execute(stmt, rows)


def replace_article_tags(
    session: Session, article_id: int, tags: Iterable[Tag], version: str
) -> tuple[set[str], set[str]]:
    """Make the article's tag links exactly ``tags``; returns (added ids, removed ids).

    Only links that changed are written; the article's ``taxonomy_version`` becomes ``version``.
    """
    wanted = {tag.id: tag for tag in unique_tags(tags)}
    columns = ("count", "in_title", "in_lead", "evidence", "taxonomy_version")
    stored = {
        row.tag_id: row
        for row in session.execute(
            select(ArticleTag.tag_id, *(getattr(ArticleTag, c) for c in columns)).where(
                ArticleTag.article_id == article_id
            )
        )
    }
    added = set(wanted) - set(stored)
    removed = set(stored) - set(wanted)
    if removed:
        session.execute(
            delete(ArticleTag).where(
                ArticleTag.article_id == article_id, ArticleTag.tag_id.in_(removed)
            )
        )
    if added:
        upsert_tags(session, [wanted[tag_id] for tag_id in added])
        insert_links(session, article_id, [wanted[tag_id] for tag_id in sorted(added)], version)
    for tag_id in set(wanted) & set(stored):
        fresh = link_values(article_id, wanted[tag_id], version)
        changes = {c: fresh[c] for c in columns if getattr(stored[tag_id], c) != fresh[c]}
        if changes:
            session.execute(
                update(ArticleTag)
                .where(ArticleTag.article_id == article_id, ArticleTag.tag_id == tag_id)
                .values(changes)
            )
    session.execute(
        update(Article)
        .where(Article.id == article_id, Article.taxonomy_version != version)
        .values(taxonomy_version=version)
    )
    return added, removed
