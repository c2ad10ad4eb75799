"""Full-text and tag search over stored articles, on SQLite (FTS5) and Postgres (tsvector).

User text never reaches a parser as syntax: it is reduced to quoted words, phrases and
prefixes (``stable*``), joined with AND, OR (the word ``OR`` between terms) and NOT (a leading
``-``), the reading ``pipeline.querytext`` gives every query, alert rules' included. So no
input can raise a syntax error. ``pipeline.store.search_terms`` turns it into each dialect's
SQL, and ``pipeline.store.search_select`` the selection of a query with its filters; a query
holding a Chinese, Japanese or Korean term is matched term by term, those terms
as substrings (a Chinese one in either script, ``pipeline.store.chinese_script``), and ranked
by how many of its terms the title holds, then newest first; a query of words alone goes to the
word index (``pipeline.store.search_words``), its title matches first, newest first, then the
rest by relevance.

Results come one row per article (``group="article"``) or one row per story
(``group="story"``): the story's best-matching article, with how many of its articles
matched, its size, outlets and languages. The queries are SQL text read through a
``pipeline.store.reader.Reader``, so the ``search`` command starts without SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pipeline.querytext import MAX_QUERY_CHARS as MAX_QUERY_CHARS
from pipeline.querytext import MAX_QUERY_TERMS as MAX_QUERY_TERMS
from pipeline.querytext import ParsedQuery as ParsedQuery
from pipeline.querytext import parse_query
from pipeline.store.reader import Reader, Row, flag, json_value, reader_for, utc
from pipeline.store.search_counts import capped_story_count, walked_count
from pipeline.store.search_details import TagInfo as TagInfo
from pipeline.store.search_details import stories_for, tags_for
from pipeline.store.search_filters import WHEN as _WHEN
from pipeline.store.search_filters import Filters as Filters
from pipeline.store.search_recent import count_stories, newest_per_story
from pipeline.store.search_select import NO_RANK, STORY_KEY, Selection
from pipeline.store.search_select import matching_ids_sql as matching_ids_sql
from pipeline.store.search_select import select_matching as select_matching
from pipeline.store.search_snippets import make_snippet as make_snippet
from pipeline.store.search_terms import fts5_match
from pipeline.store.search_title_first import title_first_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Group = Literal["article", "story"]
_HIT_COLUMNS = (
    "articles.id, articles.title, articles.url, articles.canonical_url, articles.source_id,"
    " articles.published_at, articles.first_seen_at, articles.doc_type, articles.regulator,"
    " articles.lang, articles.text, articles.story_id"
)


@dataclass(frozen=True)
class ArticleHit:
    """One search result with its tags (id, name, kind, count, evidence), best first, and its
    story: how many articles it has, how many of them matched, its outlets and languages."""

    id: int
    title: str
    url: str
    canonical_url: str | None
    source_id: str
    published_at: datetime | None
    doc_type: str
    regulator: bool
    text: str
    tags: tuple[TagInfo, ...]
    snippet: str
    rank: float
    story_id: int | None = None
    lang: str | None = None
    story_articles: int = 1
    matched_in_story: int = 1
    outlets: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


def fts5_query(query: str) -> str | None:
    """An FTS5 MATCH expression for ``query`` (every term quoted), or None if it has no words."""
    return fts5_match(parse_query(query))


def count_articles(
    db: Session | Reader,
    query: str | None = None,
    *,
    filters: Filters | None = None,
    group: Group = "article",
    at_most: int | None = None,
) -> int:
    """How many articles (or stories, by ``group``) ``search_articles`` would find with no
    limit; counting stops at ``at_most`` when given (a frequent term matches a tenth of a
    large database, and reading every match only to count it costs more than the page)."""
    reader = reader_for(db)
    selection = select_matching(reader, query, filters)
    if selection is None:
        return 0
    if at_most is not None and selection.walk_where is not None:
        counted = walked_count(
            reader,
            selection.filters,
            selection.walk_where,
            selection.params,
            at_most,
            story_key=STORY_KEY if group == "story" else None,
        )
        if counted is not None:
            return counted
    if group == "story" and at_most is not None:
        counted = _count_stories_early(reader, selection, at_most)
        if counted is not None:
            return counted
    where = " AND ".join(selection.where) or "1 = 1"
    params = dict(selection.params)
    cap = ""
    if at_most is not None:
        cap = " LIMIT :at_most"
        params["at_most"] = at_most
    # An article is one row of the selection: counted as it comes, counting can stop at the cap.
    rows = "DISTINCT " + STORY_KEY if group == "story" else "articles.id"
    sql = (
        f"SELECT COUNT(*) AS n FROM (SELECT {rows} AS k FROM {selection.source}"
        f" WHERE {where}{cap}) AS counted"
    )
    return int(reader.rows(sql, params)[0]["n"] or 0)


def _count_stories_early(reader: Reader, selection: Selection, at_most: int) -> int | None:
    """How many stories the matches belong to, up to ``at_most``, read until enough have shown
    up (newest first without text, samples of the matches on Postgres); None where every
    match's story is to be gathered instead."""
    counting = (reader, selection.source, selection.where, selection.params, at_most)
    if selection.rank == NO_RANK:
        # Newest first until enough stories: no gathering of every match's story first.
        return count_stories(*counting, story_key=STORY_KEY)
    if not reader.postgres:
        return None  # SQLite stops a DISTINCT with a LIMIT as soon as it has enough
    return capped_story_count(*counting, story_key=STORY_KEY)


def search_articles(
    db: Session | Reader,
    query: str | None = None,
    *,
    filters: Filters | None = None,
    limit: int = 20,
    group: Group = "article",
    entity: str | None = None,
    topic: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_duplicates: bool = False,
) -> list[ArticleHit]:
    """Articles matching ``filters`` (or the one entity, topic, source and time range given):
    best match first for text, else newest first; with ``group="story"`` one row per story,
    its best match. ``QueryError`` when the query passes its limits."""
    if limit <= 0:
        return []
    if filters is None:
        filters = Filters.of(
            entity=entity,
            topic=topic,
            source=source,
            since=since,
            until=until,
            include_duplicates=include_duplicates,
        )
    reader = reader_for(db)
    selection = select_matching(reader, query, filters)
    if selection is None:
        return []
    rows = _page_rows(reader, selection, group, limit)
    tags = tags_for(reader, [row["id"] for row in rows])
    stories = stories_for(reader, [row["story_id"] for row in rows if row["story_id"]])
    return [_hit(row, tags.get(row["id"], ()), stories, selection.words) for row in rows]


def _page_rows(reader: Reader, selection: Selection, group: Group, limit: int) -> list[Row]:
    """The page's rows, read the cheapest way that gives the rows of the full ranking."""
    if selection.title_first is not None:
        rows = title_first_rows(
            reader,
            selection.title_first,
            selection.where_per_row or selection.where,
            selection.params,
            limit,
            group=group,
            rank=selection.top_rank,
            story_key=STORY_KEY,
            columns=_HIT_COLUMNS,
            may_walk=selection.may_walk,
            sparsest=selection.walk_sparsest,
            filters=selection.filters,
            source=selection.title_source,
            time_index_read=selection.time_index_read,
        )
        if rows is not None:
            return rows
    if group == "story" and selection.rank == NO_RANK:
        # Without text, each story's newest match is its row: read newest first, not all.
        return newest_per_story(
            reader,
            selection.source,
            selection.where,
            selection.params,
            limit,
            story_key=STORY_KEY,
            columns=_HIT_COLUMNS,
        )
    return reader.rows(_hits_sql(selection, group), {**selection.params, "limit": limit})


def _hits_sql(selection: Selection, group: Group) -> str:
    """The ranked hits of ``selection``: every article, or each story's best one."""
    where = " AND ".join(selection.where) or "1 = 1"
    order = f"{_WHEN} DESC, articles.id DESC"
    if selection.rank != NO_RANK:  # Postgres refuses a constant in ORDER BY
        order = f"{selection.rank} DESC, {order}"
    if group == "article" and selection.rank == NO_RANK:
        # Newest first through the time index: the page's rows are the first ones read.
        return (
            f"SELECT {_HIT_COLUMNS}, {selection.rank} AS rank, 1 AS matched"
            f" FROM {selection.source} WHERE {where} ORDER BY {order} LIMIT :limit"
        )
    if group == "article":
        # Ranked on the key columns alone, the texts read for the page's rows only: sorting a
        # frequent term's hundred thousand matches with their texts took most of the time.
        best = (
            f"SELECT articles.id AS id, {selection.rank} AS rank, {_WHEN} AS seen"
            f" FROM {selection.source} WHERE {where}"
            " ORDER BY rank DESC, seen DESC, id DESC LIMIT :limit"
        )
        return (
            f"SELECT {_HIT_COLUMNS}, best.rank AS rank, 1 AS matched"
            f" FROM ({best}) AS best JOIN articles ON articles.id = best.id"
            " ORDER BY best.rank DESC, best.seen DESC, best.id DESC"
        )
    # Every match ranked within its story on its key columns alone (sorting the texts of
    # a hundred thousand matches spills to disk); the winners' columns are read after. The
    # rank is computed a level below the window: SQLite allows bm25() only beside its MATCH.
    keys = (
        f"SELECT articles.id AS id, {selection.rank} AS rank, {_WHEN} AS seen,"
        f" {STORY_KEY} AS story_key FROM {selection.source} WHERE {where}"
    )
    within = "PARTITION BY story_key"
    ranked = (
        "SELECT id, rank, seen,"
        f" ROW_NUMBER() OVER ({within} ORDER BY rank DESC, seen DESC, id DESC) AS place,"
        f" COUNT(*) OVER ({within}) AS matched FROM ({keys}) AS hits"
    )
    winners = (
        f"SELECT id, rank, seen, matched FROM ({ranked}) AS ranked WHERE place = 1"
        " ORDER BY rank DESC, seen DESC, id DESC LIMIT :limit"
    )
    return (
        f"SELECT {_HIT_COLUMNS}, best.rank AS rank, best.matched AS matched"
        f" FROM ({winners}) AS best JOIN articles ON articles.id = best.id"
        " ORDER BY best.rank DESC, best.seen DESC, best.id DESC"
    )


def _hit(
    row: dict[str, Any],
    tags: Sequence[TagInfo],
    stories: dict[int, dict[str, Any]],
    words: list[str],
) -> ArticleHit:
    story = stories.get(row["story_id"] or 0, {})
    return ArticleHit(
        id=row["id"],
        title=row["title"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        source_id=row["source_id"],
        published_at=utc(row["published_at"]),
        doc_type=row["doc_type"],
        regulator=flag(row["regulator"]),
        text=row["text"],
        tags=tuple(tags),
        snippet=make_snippet(row["text"], words),
        rank=float(row["rank"] or 0.0),
        story_id=row["story_id"],
        lang=row["lang"],
        story_articles=int(story.get("article_count") or 1),
        matched_in_story=int(row["matched"] or 1),
        outlets=tuple(json_value(story.get("outlets")) or (row["source_id"],)),
        languages=tuple(
            json_value(story.get("languages")) or ((row["lang"],) if row["lang"] else ())
        ),
    )
