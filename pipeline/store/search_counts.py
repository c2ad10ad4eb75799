"""Postgres: how many stories a text search's matches belong to, up to a cap, counted from a
sample of the matches first.

The command counts stories only up to a thousand past its page. Postgres makes every match's
story distinct before it applies a ``LIMIT`` (a frequent term's hundred thousand), where
SQLite stops as soon as it has enough. The stories of any matches are some of the stories of
them all: when the first ``sample`` matches read (in whatever order the plan reads them,
stopping there) belong to the cap's number of stories, the count is the cap; when fewer
matches than ``sample`` exist, they were all read and the count is exact. Else the sample
doubles, a few times, before the caller counts every match's story.
"""

from __future__ import annotations

from typing import Any

from pipeline.store.reader import Reader

# The first sample: twice as many matches as stories wanted (a story has a few matches at
# most in most searches); each further sample is twice the last.
FIRST_SAMPLE_PER_STORY = 2
# Samples tried before every match is read: the last reads 2**3 times the first, past which
# the matches of so few stories are better counted at once.
MOST_SAMPLES = 4


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
