"""Postgres: how many stories a text search's matches belong to, up to a cap, counted from a
walk of the newest articles or a sample of the matches first.

The command counts stories only up to a thousand past its page. Postgres makes every match's
story distinct before it applies a ``LIMIT`` (a frequent term's hundred thousand), where
SQLite stops as soon as it has enough. The stories of any matches are some of the stories of
them all: when the first ``sample`` matches read (in whatever order the plan reads them,
stopping there) belong to the cap's number of stories, the count is the cap; when fewer
matches than ``sample`` exist, they were all read and the count is exact. Else the sample
doubles, a few times, before the caller counts every match's story.

A word search's matches are first counted walking the time index newest first
(``walked_count``, articles or stories alike), each article asked the whole condition: where
matches are dense, the cap's are among the newest few thousand articles, and no index is read
for every match.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from pipeline.store.reader import Reader
from pipeline.store.search_recent import stories_among
from pipeline.store.search_walk import NewestWalk

# The first sample: twice as many matches as stories wanted (a story has a few matches at
# most in most searches); each further sample is twice the last.
FIRST_SAMPLE_PER_STORY = 2
# Samples tried before every match is read: the last reads 2**3 times the first, past which
# the matches of so few stories are better counted at once.
MOST_SAMPLES = 4
# A count walks the time index first, and gives up for the samples after any window where
# fewer than one article in WALK_SPARSEST read so far matched. A frequent phrase alone is held
# by one article in four: its first two thousand matches are among the newest eight thousand
# articles (30 ms, asking each its words), where listing them through the word index built a
# bitmap of every article holding both words first (279,000 at 1M articles: 100 ms). Walking
# costs 4 µs an article, so past one in five the samples are as quick. The first window is
# small, since with a topic (one match in fifty) the walk gives up after it: 2 ms more.
WALK_SPARSEST = 5
COUNT_FIRST_WINDOW = 500


def capped_story_count(
    reader: Reader,
    source: str,
    where: list[str],
    params: dict[str, Any],
    at_most: int,
    *,
    story_key: str,
) -> int | None:
    """How many stories the matches of ``where`` belong to, up to ``at_most``, from samples
    of the matches; None when the samples did not tell."""
    sample = max(1, at_most * FIRST_SAMPLE_PER_STORY)
    for _ in range(MOST_SAMPLES):
        sql = (
            "SELECT COUNT(DISTINCT story_key) AS stories, COUNT(*) AS matches FROM"
            f" (SELECT {story_key} AS story_key FROM {source}"
            f" WHERE {' AND '.join(where) or '1 = 1'} LIMIT :sample) AS sampled"
        )
        found = reader.rows(sql, {**params, "sample": sample})[0]
        if int(found["stories"]) >= at_most:
            return at_most
        if int(found["matches"]) < sample:
            return int(found["stories"])
        sample *= 2
    return None


def walked_count(
    reader: Reader,
    filters: list[str],
    condition: list[str],
    params: dict[str, Any],
    at_most: int,
    *,
    story_key: str | None,
) -> int | None:
    """How many articles among those of ``filters`` meet ``condition`` (how many stories they
    belong to, by ``story_key``), up to ``at_most``, read newest first through the time index;
    None when the matches are too sparse for that (fewer than one in ``WALK_SPARSEST``)."""
    wanted = at_most if story_key is None else at_most * FIRST_SAMPLE_PER_STORY
    walk = NewestWalk(
        reader,
        filters,
        condition,
        params,
        story_key=story_key or "articles.id",
        sparsest=WALK_SPARSEST,
        wanted=wanted,
        first_window=COUNT_FIRST_WINDOW,
    )
    if story_key is None:
        counted = sum(1 for _ in islice(walk, at_most))
    else:
        counted = stories_among(walk, at_most)
    # Stopped at the cap, or read to the oldest article: the count; gave up: none.
    return None if walk.gave_up else counted
