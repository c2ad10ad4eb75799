"""A search of words alone (no Chinese, Japanese or Korean term), through the word indexes.

SQLite reads FTS5's ``articles_fts`` (title and text columns), Postgres the ``search_vector``
of title and text and the ``title_vector`` of the title (migration 0015). The ranking is the
one a Chinese search has (``pipeline.store.search_title_first``): an article whose title holds
every wanted group of the query ranks first (``TITLE_RANK``), newest first among them; every
other match ranks below by relevance (SQLite's bm25, the title weighted above the text;
Postgres's ``ts_rank``), squashed into [0, 1) so that it stays under the title matches.

So on SQLite, when the title matches fill the page, the page is theirs, read newest first from
the word index of the titles alone (``articles_fts_titles``, migration 0015): a frequent phrase
("virtual asset") is held by a quarter of a large database but in the titles of an eighth of
those, and ranking every match took most of such a search. Postgres walks the time index
newest first instead (``pipeline.store.search_walk``), asking each article's stored title
words, then the filters and the text: with a topic, one article in four hundred was such a
match at a million articles, and walking the eight thousand newest took 16 ms where ranking
every match took 400. An index of the titles (tried) found them in 13 ms, but reading their
rows to check the filters and the text cost 300. Where the walk finds too few (fewer than one
article in ``WORD_WALK_SPARSEST``), every match is ranked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pipeline.querytext import ParsedQuery
from pipeline.store.reader import Reader
from pipeline.store.search_filters import NOT_A_COPY, Filters
from pipeline.store.search_terms import (
    ENGLISH,
    WORD_TABLE,
    excluded_condition,
    fts5_match,
    query_condition,
    tsquery_text,
)
from pipeline.store.search_title_first import TimeIndexRead

# Column weights for SQLite's bm25: a word in the title counts as much as five in the body.
TITLE_WEIGHT = 5.0
TEXT_WEIGHT = 1.0
# The rank of an article whose title holds the query; every other rank is below 1.
TITLE_RANK = 1.0
# SQLite's word index of the titles alone (migration 0015), tokenized as WORD_TABLE is.
TITLE_TABLE = "articles_fts_titles"
# Postgres walks the time index for the title matches until fewer than one article in this
# many read so far is one: asking an article's stored title words takes about a microsecond,
# and the other way ranks every match (400 ms for a phrase held by a quarter of a million
# articles), so a walk pays down to sparser matches than a Chinese term's (``SPARSEST``).
WORD_WALK_SPARSEST = 1_000


@dataclass(frozen=True)
class WordSearch:
    """A word query's FROM clause, WHERE conditions and rank; those of its title matches
    (``title_source``, ``title_first``; None where they are not read apart; the source None
    where no index finds them, only a walk of the time index); ``where_per_row``, the
    conditions asked of one article at a time, to count a few stories' matches (None:
    ``where`` serves); ``filters``, the first conditions of ``where`` and ``title_first``,
    which a walk of the time index reads by; ``walk_sparsest`` where the title matches are
    read by that walk (None: they are not), giving up below one match in so many; and
    ``walk_where``, what the walk asks of each article it reads for it to be a match (None:
    matches are not counted by walking); ``time_index_read``: SQLite's read of the title
    matches through the time index, where no filter narrows the articles."""

    source: str
    where: list[str]
    rank: str
    title_source: str | None
    title_first: list[str] | None
    where_per_row: list[str] | None
    filters: list[str]
    walk_sparsest: float | None = None
    walk_where: list[str] | None = None
    time_index_read: TimeIndexRead | None = None


def word_search(
    reader: Reader, parsed: ParsedQuery, filters: Filters, params: dict[str, Any]
) -> WordSearch:
    """The search for ``parsed`` (words only) with ``filters``; values go into ``params``."""
    if reader.postgres:
        return _postgres(reader, parsed, filters, params)
    return _sqlite(reader, parsed, filters, params)


def _sqlite(
    reader: Reader, parsed: ParsedQuery, filters: Filters, params: dict[str, Any]
) -> WordSearch:
    # The tag filters probe by the FTS5 table's rowid, so SQLite checks a match's tags as it
    # comes, before it reads the article's row: a frequent phrase matches a quarter of a large
    # database, and reading each of those rows only to drop most of them for the topic took
    # three quarters of the search (``bench/search.py``).
    filtered, title_filtered, row_filtered = filters.sql_per_id(
        reader, params, [f"{WORD_TABLE}.rowid", f"{TITLE_TABLE}.rowid", "articles.id"]
    )
    params["fts"] = fts5_match(parsed)
    # Every wanted group in the title; the excluded terms are looked for in the whole article.
    params["title_fts"] = fts5_match(replace(parsed, excluded=()))
    titles = f"SELECT rowid FROM {TITLE_TABLE} WHERE {TITLE_TABLE} MATCH :title_fts"
    relevance = f"1.0 - 1.0 / (1.0 - bm25({WORD_TABLE}, {TITLE_WEIGHT}, {TEXT_WEIGHT}))"
    title_first = [*title_filtered, f"{TITLE_TABLE} MATCH :title_fts"]
    excluded = excluded_condition(parsed, False, params, per_row=True)
    if excluded is not None:
        title_first.append(excluded)
    per_row = [*row_filtered, query_condition(parsed, False, params, "row", per_row=True)]
    by_time = None
    if all(condition == NOT_A_COPY for condition in row_filtered):
        # No filter: where the titles hold the words often ("virtual asset", one in thirty),
        # the newest are met walking the time index, their list read once (36 ms at 1M),
        # where reading every title match's row to sort them took 90.
        by_time = TimeIndexRead(
            [*row_filtered, f"articles.id IN ({titles})", *title_first[len(title_filtered) + 1 :]],
            titles,
        )
    return WordSearch(
        f"{WORD_TABLE} JOIN articles ON articles.id = {WORD_TABLE}.rowid",
        [*filtered, f"{WORD_TABLE} MATCH :fts"],
        f"(CASE WHEN {WORD_TABLE}.rowid IN ({titles}) THEN {TITLE_RANK} ELSE {relevance} END)",
        f"{TITLE_TABLE} JOIN articles ON articles.id = {TITLE_TABLE}.rowid",
        title_first,
        per_row,
        filtered,
        time_index_read=by_time,
    )


def _postgres(
    reader: Reader, parsed: ParsedQuery, filters: Filters, params: dict[str, Any]
) -> WordSearch:
    read_by, asked, asked_each = filters.sql_for_walk(reader, params)
    # Term by term, so a term the English configuration would empty of stop words is still
    # read as written; the whole query ranks.
    matched = query_condition(parsed, True, params)
    params["tsquery"] = tsquery_text(parsed)
    tsquery = f"to_tsquery({ENGLISH}, :tsquery)"
    # The title's words are stored (migration 0015): computing them for each of a frequent
    # phrase's matches took two thirds of the search.
    title_held = f"articles.title_vector @@ {tsquery}"
    relevance = f"1.0 - 1.0 / (1.0 + ts_rank(articles.search_vector, {tsquery}))"
    # Walked newest first, an article's title is asked first (its stored words, a few
    # hundred bytes), then the filters, then the text's words (a kilobyte or more).
    return WordSearch(
        "articles",
        [*read_by, *asked, matched],
        f"(CASE WHEN {title_held} THEN {TITLE_RANK} ELSE {relevance} END)",
        None,
        [*read_by, title_held, *asked_each, matched],
        None,
        read_by,
        WORD_WALK_SPARSEST,
        [*asked_each, matched],
    )
