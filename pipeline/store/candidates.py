"""The stored articles a batch may join: those sharing an item key, canonical URL, content hash,
regulator reference, signature band or title-term pair with one of its articles.

A batch asks only about its own keys, so the answer is bounded by how many articles share
those keys, never by how many are stored. Two bounds keep a hot key (a boilerplate band, a
headline repeated by a flood of items) from making it quadratic: each key yields at most its
``MAX_POSTINGS_PER_KEY`` newest articles, and each article keeps the ``MAX_CANDIDATES`` that
share the most keys with it (``pipeline.stories.features``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store.prints import StoredPrint, load_prints, with_shingles
from pipeline.store.schema import Article
from pipeline.store.sql import chunks
from pipeline.stories import minhash
from pipeline.stories.features import MAX_POSTINGS_PER_KEY, Fingerprint, best_candidates
from pipeline.stories.match import NEAR_PREFILTER


def find_candidates(session: Session, prints: Sequence[Fingerprint]) -> list[StoredPrint]:
    """The stored articles ``prints`` may join, as fingerprints (with shingles where a
    signature band matched, to verify a near-duplicate exactly), oldest first."""
    matched = _exact_matches(session, prints)
    postings = _postings(session, sorted({key for item in prints for key in item.lookup_keys()}))
    by_band: dict[int, list[Fingerprint]] = defaultdict(list)
    for item in prints:
        chosen = best_candidates(item.lookup_keys(), postings)
        matched.update(chosen)
        for band in item.band_keys():
            for article in postings.get(band, ()):
                if article in chosen:
                    by_band[article].append(item)
    found_by: dict[int, list[int]] = defaultdict(list)
    for key, articles in postings.items():
        for article in articles:
            if article in matched:
                found_by[article].append(key)
    found = [
        replace(stored, found_by=tuple(found_by.get(stored.article_id, ())))
        for stored in load_prints(session, sorted(matched))
    ]
    found = with_shingles(session, found, _worth_verifying(found, by_band))
    return sorted(found, key=lambda stored: stored.order)


def _worth_verifying(
    found: Sequence[StoredPrint], by_band: dict[int, list[Fingerprint]]
) -> set[int]:
    """Stored articles whose signature comes near enough one of the batch's to need the exact
    Jaccard of their shingles (read from their text)."""
    return {
        stored.article_id
        for stored in found
        if stored.print.near is not None
        and any(
            item.near is not None
            and minhash.estimate(item.near, stored.print.near) >= NEAR_PREFILTER
            for item in by_band.get(stored.article_id, ())
        )
    }


def _exact_matches(session: Session, prints: Sequence[Fingerprint]) -> set[int]:
    """Stored articles with the same item key, canonical URL or content hash."""
    matched: set[int] = set()
    columns: tuple[tuple[Any, list[str | None]], ...] = (
        (Article.item_key, [item.key for item in prints]),
        (Article.canonical_url, [item.canonical for item in prints]),
        (Article.content_hash, [item.content_hash for item in prints]),
    )
    for column, values in columns:
        wanted = sorted({value for value in values if value})
        for chunk in chunks(wanted):
            matched.update(session.scalars(select(Article.id).where(column.in_(chunk))))
    return matched


def _postings(session: Session, keys: Sequence[int]) -> dict[int, list[int]]:
    """For each key, the newest ``MAX_POSTINGS_PER_KEY`` articles filed under it, newest first.

    Each key's articles are read from the newest back and no further than the bound, so a key
    filed under by thousands (a boilerplate band, a headline repeated all day) costs what any
    other does. Ranking every article of every key first (a window function) read all of them:
    three times the time on bench/pipeline.py's corpus, where such keys abound.

    All of a batch's keys go as one parameter (a JSON array in SQLite, an array in Postgres):
    one statement, compiled once, where an IN list of thousands would be compiled per call.
    A batch reads tens of thousands of these pairs, so they are read in one go from the
    driver's cursor: SQLAlchemy's row by row reading cost more than the query.
    """
    postings: dict[int, list[int]] = defaultdict(list)
    if not keys:
        return postings
    params: tuple[object, int]
    if session.get_bind().dialect.name == "postgresql":
        sql, params = _POSTGRES_POSTINGS, (list(keys), MAX_POSTINGS_PER_KEY)
    else:
        # SQLite has no LATERAL join: the bound is the key's Nth newest article, found by an
        # index walk of N steps, and the key's articles are read from there on.
        sql, params = _SQLITE_POSTINGS, (json.dumps(list(keys)), MAX_POSTINGS_PER_KEY - 1)
    result = session.connection().exec_driver_sql(sql, params)
    try:
        for key, article_id in result.cursor.fetchall():
            postings[key].append(article_id)
    finally:
        result.close()
    return postings


_POSTGRES_POSTINGS = (
    "SELECT wanted.key, newest.article_id FROM unnest(%s::BIGINT[]) AS wanted(key)"
    " CROSS JOIN LATERAL (SELECT article_id FROM article_keys WHERE key = wanted.key"
    " ORDER BY article_id DESC LIMIT %s) AS newest"
    " ORDER BY wanted.key, newest.article_id DESC"
)
_SQLITE_POSTINGS = (
    "SELECT filed.key, filed.article_id FROM json_each(?) AS wanted"
    " JOIN article_keys AS filed ON filed.key = wanted.value AND filed.article_id >= coalesce("
    "(SELECT bound.article_id FROM article_keys AS bound WHERE bound.key = wanted.value"
    " ORDER BY bound.article_id DESC LIMIT 1 OFFSET ?), -9223372036854775808)"
    " ORDER BY filed.key, filed.article_id DESC"
)
