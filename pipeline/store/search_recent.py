"""One row per story for a search without text: the matches read newest first, a page at a time,
until enough stories have shown up.

Without text every match ranks the same, so a story's row is its newest match and the stories
come in the order of those: the first ``limit`` stories met while walking the matches newest
first (through the time index) are the answer, the same rows as ranking every match within its
story. That ranking reads every match, thousands of rows for a frequent entity, for a page of
twenty; this reads a few pages of matches, then counts each chosen story's matches alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.store.reader import Reader, Row, bind_list
from pipeline.store.search_filters import WHEN

# The first page: a busy story has several matches in a row, so a page holds fewer stories than
# rows; each further page is twice the last, so a query of few stories reads few pages.
FIRST_PAGE_PER_STORY = 5
MIN_FIRST_PAGE = 100
# The first page read to count stories up to a cap: most stories have one or two matches, and
# a thousand stories of an entity's month were met within the first 2,005 matches at 1M
# articles (``bench/search.py``), where five matches a story read 5,100 to count them.
FIRST_COUNT_PAGE_PER_STORY = 2


def newest_per_story(
    reader: Reader,
    source: str,
    where: list[str],
    params: dict[str, Any],
    limit: int,
    *,
    story_key: str,
    columns: str,
    rank: float = 0.0,
    count_where: list[str] | None = None,
    matches: Iterable[Row] | None = None,
) -> list[Row]:
    """The hit rows (``columns``, ``rank`` and how many of the story's articles matched) of
    the ``limit`` stories whose newest match of ``where`` is newest, newest first; a story's
    matches are counted by ``count_where`` (by default ``where``). ``matches``: those of
    ``where`` newest first (id, time and story key), when read another way than in pages."""
    if matches is None:
        first_page = max(MIN_FIRST_PAGE, limit * FIRST_PAGE_PER_STORY)
        matches = newest_first(reader, source, where, params, first_page, story_key)
    winners = _first_of_each_story(matches, limit)
    if not winners:
        return []
    counted = where if count_where is None else count_where
    matched = _matches_per_story(reader, counted, params, list(winners))
    key_of = {row["id"]: key for key, row in winners.items()}
    found = by_ids(reader, list(key_of), f"{columns}, {float(rank)} AS rank")
    return [{**row, "matched": matched.get(key_of[row["id"]], 1)} for row in found]


def by_ids(reader: Reader, ids: list[int], columns: str) -> list[Row]:
    """The ``columns`` of the articles ``ids``, in that order (an id no longer stored left
    out)."""
    if not ids:
        return []
    params: dict[str, Any] = {}
    sql = f"SELECT {columns} FROM articles WHERE articles.id IN ({bind_list('hit', ids, params)})"
    found = {row["id"]: row for row in reader.rows(sql, params)}
    return [found[id_] for id_ in ids if id_ in found]


def _first_of_each_story(matches: Iterable[Row], limit: int) -> dict[int, Row]:
    """Each story's newest match (its id and time), for the first ``limit`` stories met."""
    winners: dict[int, Row] = {}
    for row in matches:
        winners.setdefault(row["story_key"], row)
        if len(winners) == limit:
            break
    return winners


def count_stories(
    reader: Reader,
    source: str,
    where: list[str],
    params: dict[str, Any],
    at_most: int,
    *,
    story_key: str,
) -> int:
    """How many stories the matches belong to, counting stops at ``at_most``: read newest
    first, as for the rows, rather than every match's story gathered and made distinct."""
    first_page = max(MIN_FIRST_PAGE, at_most * FIRST_COUNT_PAGE_PER_STORY)
    return stories_among(
        newest_first(reader, source, where, params, first_page, story_key), at_most
    )


def stories_among(matches: Iterable[Row], at_most: int) -> int:
    """How many stories ``matches`` (rows with a story key) belong to, reading stops as soon
    as ``at_most`` have shown up."""
    seen: set[int] = set()
    for row in matches:
        seen.add(row["story_key"])
        if len(seen) >= at_most:
            break
    return len(seen)


def newest_first(
    reader: Reader,
    source: str,
    where: list[str],
    params: dict[str, Any],
    first_page: int,
    story_key: str,
) -> Iterator[Row]:
    """The matches (id, time, story key), newest first, read a page at a time, each page
    twice the last, so that a caller that stops early reads little."""
    page = first_page
    after: tuple[Any, int] | None = None
    while True:
        conditions = list(where)
        page_params = {**params, "page": page}
        if after is not None:
            # The next page starts after the last row read, in the same order.
            conditions.append(
                f"({WHEN} < :after_seen OR ({WHEN} = :after_seen AND articles.id < :after_id))"
            )
            page_params.update(after_seen=after[0], after_id=after[1])
        sql = (
            f"SELECT articles.id AS id, {WHEN} AS seen, {story_key} AS story_key"
            f" FROM {source} WHERE {' AND '.join(conditions) or '1 = 1'}"
            f" ORDER BY {WHEN} DESC, articles.id DESC LIMIT :page"
        )
        rows = reader.rows(sql, page_params)
        yield from rows
        if len(rows) < page:
            return
        after = (rows[-1]["seen"], rows[-1]["id"])
        page *= 2


def _matches_per_story(
    reader: Reader, where: list[str], params: dict[str, Any], keys: list[int]
) -> dict[int, int]:
    """How many matches each of the stories ``keys`` has (an article of no story: itself),
    read through the story_id index, whatever index found the stories."""
    stories = [key for key in keys if key > 0]
    if not stories:
        return {}
    count_params = dict(params)
    in_stories = f"articles.story_id IN ({bind_list('story', stories, count_params)})"
    source, conditions = "articles", [*where, in_stories]
    if reader.postgres:
        # The stories' articles first (OFFSET 0 keeps the conditions out): Postgres would
        # estimate a frequent Chinese term at a few articles and list its every match instead.
        source = f"(SELECT * FROM articles WHERE {in_stories} OFFSET 0) AS articles"
        conditions = list(where)
    sql = (
        "SELECT articles.story_id AS story_id, COUNT(*) AS n"
        f" FROM {source} WHERE {' AND '.join(conditions) or '1 = 1'} GROUP BY articles.story_id"
    )
    return {row["story_id"]: int(row["n"]) for row in reader.rows(sql, count_params)}
