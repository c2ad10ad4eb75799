"""A ranked Chinese search read from its best rows first: those whose title holds every term.

A query of Chinese, Japanese or Korean terms ranks an article by how many of its terms (each
with its alternatives) the title holds, then newest first. No article ranks above one whose
title holds them all, so when those alone fill the page, the page is theirs: they are read
through an index of titles (SQLite's trigram table's title column; on Postgres the partial
``pg_trgm`` index of titles, migration 0013), newest first, instead of ranking every article
that holds the terms anywhere; a frequent term (one article in ten) is held in the titles of a
third of those. When nothing but the terms narrows the search and they are frequent, the time
index is walked instead, checking each article (``search_walk`` on Postgres). When they do not
fill the page, the caller ranks every match.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice
from typing import Any, Literal

from pipeline.querytext import ParsedQuery
from pipeline.store.reader import Reader, Row
from pipeline.store.search_filters import WHEN
from pipeline.store.search_recent import by_ids, newest_per_story
from pipeline.store.search_terms import (
    CJK_ROW,
    TRIGRAM_TABLE,
    excluded_condition,
    like_pattern,
    title_holds,
    title_match,
)
from pipeline.store.search_walk import NewestWalk

# Read newest first through the time index, checking each article, when at least one article
# in this many holds the terms in its title: the page is then found within a few thousand
# articles, where listing the title matches and sorting them reads tens of thousands.
WALK_DENSITY = 100
TIME_INDEX = "ix_articles_seen"


def title_first_where(
    query: ParsedQuery, filters: list[str], params: dict[str, Any], postgres: bool
) -> list[str] | None:
    """The conditions of the articles whose title holds every wanted group of ``query`` and
    that hold no excluded term, with ``filters``; None when a trigram index cannot find them
    (a term of fewer than three characters, or not Chinese, Japanese or Korean)."""
    match = title_match(query)
    if match is None:
        return None
    if postgres:
        # Any case, as the title rank reads it; the titles' pg_trgm index (0013) serves ILIKE.
        where = [
            *filters,
            CJK_ROW,
            *title_holds(
                query,
                params,
                "title_first",
                like_pattern,
                lambda key: f"articles.title ILIKE :{key} ESCAPE '\\'",
            ),
        ]
    else:
        params["title_first"] = match
        where = [
            *filters,
            f"articles.id IN (SELECT rowid FROM {TRIGRAM_TABLE} WHERE {TRIGRAM_TABLE} MATCH"
            " :title_first)",
        ]
    excluded = excluded_condition(query, postgres, params)
    if excluded is not None:
        where.append(excluded)
    return where


def trigram_time_index_read(title_first: list[str]) -> TimeIndexRead:
    """SQLite: the time-index read of a Chinese search's title matches, ``title_first`` (their
    list from the trigram table is in it)."""
    return TimeIndexRead(
        title_first,
        f"SELECT rowid FROM {TRIGRAM_TABLE} WHERE {TRIGRAM_TABLE} MATCH :title_first",
    )


def title_first_rows(
    reader: Reader,
    title_first: list[str],
    every_match: list[str],
    params: dict[str, Any],
    limit: int,
    *,
    group: Literal["article", "story"],
    rank: float,
    story_key: str,
    columns: str,
    may_walk: bool = False,
    sparsest: float | None = None,
    filters: list[str] | None = None,
    source: str | None = "articles",
    time_index_read: TimeIndexRead | None = None,
) -> list[Row] | None:
    """The page's rows (``columns``, ``rank`` and how many of each story's articles match
    ``every_match``) from the articles of ``title_first`` alone; None when they do not fill it.
    ``may_walk`` (Postgres): the time index is walked a window at a time until the page is
    full, the conditions after ``filters`` (the first of ``title_first``) checked in each,
    giving up below one match in ``sparsest`` (None: the walk's default). ``source``: the
    FROM clause of ``title_first`` when it reads more than ``articles``; None when no index
    finds the title matches apart (only the walk reads them). ``time_index_read`` (SQLite):
    how to read them through the time index instead, where they are dense."""
    page = _Page(reader, title_first, every_match, params, limit, group, rank, story_key, columns)
    if may_walk and reader.postgres:
        filtered = filters or []
        walk = NewestWalk(
            reader,
            filtered,
            title_first[len(filtered) :],
            params,
            story_key=story_key,
            sparsest=sparsest,
            wanted=limit,
        )
        rows = page.rows("articles", walk)
        if rows is not None or not walk.gave_up:
            return rows
    if (
        time_index_read is not None
        and not reader.postgres
        and _dense(reader, time_index_read.titles, params)
    ):
        by_time = replace(page, title_first=time_index_read.where)
        return by_time.rows(f"articles INDEXED BY {TIME_INDEX}")
    return None if source is None else page.rows(source)


@dataclass(frozen=True)
class TimeIndexRead:
    """SQLite: the title matches read newest first through the time index, for when no filter
    narrows the articles (a filter could leave them too sparse) and at least one article in
    ``WALK_DENSITY`` is one: ``where``, the conditions asked of each article read (the title
    matches listed once, then looked up), and ``titles``, the SQL listing the title matches
    (counted from the full-text index to tell the density)."""

    where: list[str]
    titles: str


@dataclass(frozen=True)
class _Page:
    """A page read from the title matches, the arguments of ``title_first_rows``."""

    reader: Reader
    title_first: list[str]
    every_match: list[str]
    params: dict[str, Any]
    limit: int
    group: Literal["article", "story"]
    rank: float
    story_key: str
    columns: str

    def rows(self, source: str, walk: NewestWalk | None = None) -> list[Row] | None:
        """The page read from ``source`` (or from the matches ``walk`` gives), None unless
        it is full."""
        if self.group == "story":
            rows = newest_per_story(
                self.reader,
                source,
                self.title_first,
                self.params,
                self.limit,
                story_key=self.story_key,
                columns=self.columns,
                rank=self.rank,
                count_where=self.every_match,
                matches=walk,
            )
        elif walk is not None:
            ids = [row["id"] for row in islice(walk, self.limit)]
            rows = by_ids(
                self.reader, ids, f"{self.columns}, {float(self.rank)} AS rank, 1 AS matched"
            )
        else:
            rows = self._newest(source)
        return rows if len(rows) == self.limit else None

    def _newest(self, source: str) -> list[Row]:
        newest = (
            f"SELECT articles.id AS id, {WHEN} AS seen FROM {source}"
            f" WHERE {' AND '.join(self.title_first)}"
            " ORDER BY seen DESC, id DESC LIMIT :limit"
        )
        sql = (
            f"SELECT {self.columns}, {float(self.rank)} AS rank, 1 AS matched"
            f" FROM ({newest}) AS best JOIN articles ON articles.id = best.id"
            " ORDER BY best.seen DESC, best.id DESC"
        )
        return self.reader.rows(sql, {**self.params, "limit": self.limit})


def _dense(reader: Reader, titles: str, params: dict[str, Any]) -> bool:
    """Whether at least one article in ``WALK_DENSITY`` is one of the title matches ``titles``
    lists (a full-text table counts its matches from its index, in a few milliseconds)."""
    held = reader.rows(f"SELECT count(*) AS n FROM ({titles}) AS titles", params)[0]["n"]
    stored = reader.rows("SELECT max(id) AS n FROM articles")[0]["n"] or 0
    return int(held) * WALK_DENSITY >= int(stored)
