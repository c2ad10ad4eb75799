"""Postgres: a search's matches read newest first a window of the time index at a time, the
text condition checked on each window's articles alone.

Postgres estimates a substring condition (``LIKE`` through ``pg_trgm``) at a few dozen rows
however many articles hold it, so for the newest matches it lists every match through the
trigram index and sorts them: the tens of thousands of a frequent Chinese term, for a page of
twenty. Here the newest articles of the filters are read through the time index, a window at a
time (a subquery with its own ``LIMIT``, which the planner cannot move the condition into),
and the condition is asked of the window's articles: the matches come out newest first, as
the full reading orders them. A sparse condition would have every article read this way, so
the walk gives up after ``MOST_WALKED`` articles, or sooner where the matches are sparse,
and the caller reads its own way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pipeline.store.reader import Reader, Row
from pipeline.store.search_filters import NOT_A_COPY, WHEN

# The first window: a page of twenty within a condition held by one article in a hundred.
# Each further window is twice the last, so a dense condition reads one or two windows.
FIRST_WINDOW = 2_000
# Articles read before giving up however dense the matches (a tenth of a second of windows at
# 1M articles): a page of many stories (a thousand) is read faster through the condition's
# index than by walking further.
MOST_WALKED = 64_000
# The walk gives up sooner, after any window, when fewer than one article in this many read so
# far matched: a rare condition (a few hundred matches in a million) is found through its
# index in a few milliseconds, where walking the time index would read every article.
SPARSEST = 100
# Told how many matches are wanted, a window after the first is sized to those still wanted
# at the rate met so far, times this margin (never under the first window, never over twice
# the last): a phrase with a topic met 19 of 20 in its first 6,000 articles, and the doubled
# window read 8,000 more where 2,000 held the last.
WANTED_MARGIN = 1.5
PLAIN_NOT_A_COPY = NOT_A_COPY.lstrip("+")


class NewestWalk:
    """The matches (id, time, story key) of ``condition`` among the articles of ``filters``,
    newest first, read a window of the time index at a time; iterating again starts over.
    ``gave_up``: the walk stopped before the oldest article, after ``MOST_WALKED`` articles
    or fewer than one match in ``sparsest`` (by default ``SPARSEST``). ``wanted``: how many
    matches the caller needs at least, to size the windows after the first, whose size is
    ``first_window`` (by default ``FIRST_WINDOW``)."""

    def __init__(
        self,
        reader: Reader,
        filters: list[str],
        condition: list[str],
        params: dict[str, Any],
        *,
        story_key: str,
        sparsest: float | None = None,
        wanted: int | None = None,
        first_window: int | None = None,
    ) -> None:
        self.reader = reader
        # Postgres takes the plus (for SQLite) for an expression it has no statistics of and
        # estimates one article in two hundred no copy: it would rather read every article
        # than walk the time index for a window. Without it, it knows nearly all are.
        self.filters = [PLAIN_NOT_A_COPY if f == NOT_A_COPY else f for f in filters]
        self.condition = " AND ".join(condition) or "1 = 1"
        self.params = params
        self.story_key = story_key
        self.sparsest = sparsest
        self.wanted = wanted
        self.first_window = first_window
        self.gave_up = False

    def __iter__(self) -> Iterator[Row]:
        self.gave_up = False
        first = window = FIRST_WINDOW if self.first_window is None else self.first_window
        walked, found = 0, 0
        sparsest = SPARSEST if self.sparsest is None else self.sparsest
        after: tuple[Any, int] | None = None
        while True:
            if walked >= MOST_WALKED or found < walked / sparsest:
                self.gave_up = True
                return
            size = min(window, MOST_WALKED - walked)
            rows = self.reader.rows(self._sql(after), self._params(size, after))
            hits = [row for row in rows if row["hit"]]
            found += len(hits)
            yield from hits
            if not rows or rows[-1]["place"] < size:
                return  # the window held the oldest article: every one has been read
            walked += size
            after = (rows[-1]["seen"], rows[-1]["id"])
            window = self._next_window(first, window, walked, found)

    def _next_window(self, first: int, window: int, walked: int, found: int) -> int:
        """Twice the last window, or less (down to the ``first``) when the matches still
        wanted should be in less."""
        doubled = window * 2
        if self.wanted is None or not 0 < found < self.wanted:
            return doubled
        expected = math.ceil((self.wanted - found) * walked / found * WANTED_MARGIN)
        return min(doubled, max(first, expected))

    def _sql(self, after: tuple[Any, int] | None) -> str:
        """A window's matches, and its last article (where the next window starts)."""
        conditions = list(self.filters)
        if after is not None:
            # The bound on the time alone lets the time index start at the window's end.
            conditions.append(
                f"{WHEN} <= :after_seen AND ({WHEN} < :after_seen OR articles.id < :after_id)"
            )
        window = (
            f"SELECT articles.id AS id, {WHEN} AS seen, {self.story_key} AS story_key,"
            f" CASE WHEN {self.condition} THEN 1 ELSE 0 END AS hit FROM articles"
            f" WHERE {' AND '.join(conditions) or '1 = 1'}"
            f" ORDER BY {WHEN} DESC, articles.id DESC LIMIT :window"
        )
        placed = (
            "SELECT id, seen, story_key, hit,"
            " ROW_NUMBER() OVER (ORDER BY seen DESC, id DESC) AS place"
            f" FROM ({window}) AS recent"
        )
        return (
            f"SELECT id, seen, story_key, hit, place FROM ({placed}) AS placed"
            " WHERE hit = 1 OR place = :window ORDER BY seen DESC, id DESC"
        )

    def _params(self, size: int, after: tuple[Any, int] | None) -> dict[str, Any]:
        params = {**self.params, "window": size}
        if after is not None:
            params.update(after_seen=after[0], after_id=after[1])
        return params
