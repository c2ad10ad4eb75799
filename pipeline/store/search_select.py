"""What a search query and its filters select: the FROM clause, WHERE conditions and rank of
its matches as SQL text with their parameters, and the ways its title matches may be read apart
(``pipeline.store.search`` reads the page and the count from them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.querytext import check_query
from pipeline.store.chinese_script import with_script_variants
from pipeline.store.reader import Reader
from pipeline.store.search_filters import NOT_A_COPY, Filters
from pipeline.store.search_terms import needs_terms, query_condition, title_rank
from pipeline.store.search_title_first import (
    TimeIndexRead,
    title_first_where,
    trigram_time_index_read,
)
from pipeline.store.search_words import TITLE_RANK, word_search

# A story of its own for an article that has none (its negated id cannot be a story's id).
STORY_KEY = "COALESCE(articles.story_id, -articles.id)"
# The rank of every match of a search without text.
NO_RANK = "0.0"


@dataclass(frozen=True)
class Selection:
    """A query's FROM clause, WHERE conditions and rank, as SQL text with its parameters."""

    source: str
    where: list[str]
    rank: str
    params: dict[str, Any]
    words: list[str]
    # The conditions of the rows of the highest title rank (``top_rank``: every wanted group in
    # the title) where an index of titles finds them apart, else None; and
    # ``where`` as asked of one article at a time, to count a few stories' matches.
    title_first: list[str] | None = None
    top_rank: float = 0.0
    where_per_row: list[str] | None = None
    # The title matches may be read by walking the time index: no filter narrows the articles
    # (a Chinese search), or the walk asks every filter of each article (Postgres's words);
    # it gives up where fewer than one article in ``walk_sparsest`` matches.
    may_walk: bool = False
    walk_sparsest: float | None = None
    # The filters' conditions the walk reads by, the first ones of ``where`` and ``title_first``.
    filters: list[str] = field(default_factory=list)
    # What a walk of the time index asks of each article for it to be a match (after
    # ``filters``), where a count may walk (Postgres's words); else None.
    walk_where: list[str] | None = None
    # The FROM clause of ``title_first``; None where only a walk reads them.
    title_source: str | None = "articles"
    # SQLite: how the title matches are read through the time index where they are dense.
    time_index_read: TimeIndexRead | None = None


def select_matching(
    reader: Reader, query: str | None, filters: Filters | None = None
) -> Selection | None:
    """What ``query`` and ``filters`` select; None when the query holds nothing to search
    for. ``QueryError`` when the query passes its limits."""
    params: dict[str, Any] = {}
    filters = filters or Filters()
    if query is None or not query.strip():
        where = filters.sql(reader, params)
        return Selection("articles", where, NO_RANK, params, [], filters=list(where))
    parsed = check_query(query)
    if not parsed.groups:
        return None
    if not needs_terms(parsed):
        words = word_search(reader, parsed, filters, params)
        return Selection(
            words.source,
            words.where,
            words.rank,
            params,
            parsed.words,
            words.title_first,
            TITLE_RANK,
            words.where_per_row,
            may_walk=words.walk_sparsest is not None,
            walk_sparsest=words.walk_sparsest,
            walk_where=words.walk_where,
            filters=words.filters,
            title_source=words.title_source,
            time_index_read=words.time_index_read,
        )
    where = filters.sql(reader, params)
    filtered = list(where)
    # A Chinese term is also looked for in its other scripts (Simplified, Traditional).
    parsed = with_script_variants(parsed)
    # Copies left out, and nothing else: the time index may be walked for title matches.
    unfiltered = all(condition == NOT_A_COPY for condition in where)
    first = title_first_where(parsed, where, params, reader.postgres)
    per_row = None
    if first is not None and not reader.postgres:
        per_row = [*where, query_condition(parsed, False, params, "row", per_row=True)]
    where.append(query_condition(parsed, reader.postgres, params))
    rank = title_rank(parsed, reader.postgres, params)
    top = float(len(parsed.groups))
    return Selection(
        "articles",
        where,
        rank,
        params,
        parsed.words,
        first,
        top,
        per_row,
        may_walk=unfiltered,
        filters=filtered,
        time_index_read=(
            trigram_time_index_read(first)
            if unfiltered and first is not None and not reader.postgres
            else None
        ),
    )


def matching_ids_sql(selection: Selection) -> str:
    """SQL selecting the ids of the articles ``selection`` matches."""
    return f"SELECT articles.id FROM {selection.source} WHERE {' AND '.join(selection.where)}"
