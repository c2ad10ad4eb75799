"""A story's summary computed by the database from its members: the lead article (the
regulator's release when there is one, else the earliest), first and last seen, size, outlets
and languages.

The members are aggregated where they are stored, in three statements per chunk of stories, so
a batch that adds one article to a story of hundreds reads a row per story, not a row per
member: reading every member into Python cost a batch more as its stories grew
(bench/pipeline.py, where one title runs through hundreds of articles).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from pipeline.store.schema import Article
from pipeline.store.sql import chunks

SUMMARY_COLUMNS = (
    "lead_article_id",
    "first_seen_at",
    "last_seen_at",
    "article_count",
    "outlets",
    "languages",
    "updated_at",
)


def _seen_at() -> ColumnElement[datetime]:
    # Typed as the columns are (UTCDateTime), so each dialect's value comes back aware, in UTC.
    return func.coalesce(Article.published_at, Article.first_seen_at)


def story_summaries(
    session: Session, story_ids: Sequence[int], now: datetime
) -> dict[int, dict[str, Any]]:
    """The summary of each story in ``story_ids`` that has members, by story id; the values
    keyed by ``SUMMARY_COLUMNS`` prefixed with ``b_`` (``b_id`` the story's), as the update
    binds them."""
    found: dict[int, dict[str, Any]] = {}
    for chunk in chunks(sorted(story_ids)):
        summaries = _chunk_summaries(session, chunk, now)
        found.update((story, summary) for story, summary in summaries.items() if story is not None)
    return found


def _chunk_summaries(
    session: Session, chunk: Sequence[int], now: datetime
) -> dict[int | None, dict[str, Any]]:
    member = Article.story_id.in_(chunk)
    seen = _seen_at()
    totals = (
        select(Article.story_id, func.count(), func.min(seen), func.max(seen))
        .where(member)
        .group_by(Article.story_id)
    )
    # Keyed as the column is typed; the members of a chunk's stories all have one.
    found: dict[int | None, dict[str, Any]] = {
        story: {
            "b_id": story,
            "b_first_seen_at": first,
            "b_last_seen_at": last,
            "b_article_count": count,
            "b_outlets": set(),
            "b_languages": set(),
            "b_updated_at": now,
        }
        for story, count, first, last in session.execute(totals)
    }
    # Outlets and languages in one pass: each story's distinct pairs of them.
    pairs = select(Article.story_id, Article.source_id, Article.lang).where(member).distinct()
    for story, source_id, lang in session.execute(pairs):
        found[story]["b_outlets"].add(source_id)
        if lang:
            found[story]["b_languages"].add(lang)
    # The lead: releases before other articles, then the earliest, then the lowest id.
    rank = (
        func.row_number()
        .over(
            partition_by=Article.story_id,
            order_by=(case((Article.regulator, 0), else_=1), seen, Article.id),
        )
        .label("rank")
    )
    ranked = select(Article.story_id, Article.id, rank).where(member).subquery()
    leads = select(ranked.c.story_id, ranked.c.id).where(ranked.c.rank == 1)
    for story, article_id in session.execute(leads):
        found[story]["b_lead_article_id"] = article_id
    for summary in found.values():
        summary["b_outlets"] = sorted(summary["b_outlets"])
        summary["b_languages"] = sorted(summary["b_languages"])
    return found
