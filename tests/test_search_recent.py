"""A search without text, one row per story: reading the matches newest first until enough
stories have shown up gives the rows, in order, with the match counts, that ranking every match
within its story gives; on SQLite and Postgres, over the replayed fixtures (stories of several
articles, many articles of the same day)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session
from support.alerting import alerts_toml, ingest, jsonl_channel

from pipeline.store import db, search_recent
from pipeline.store.reader import reader_for
from pipeline.store.search import (
    Filters,
    _hits_sql,
    count_articles,
    search_articles,
    select_matching,
)

FILTERS = [
    Filters(),
    Filters.of(entity="hkma"),
    Filters.of(topic="stablecoins"),
    Filters.of(source=["hkma-press", "hkma-press-tc", "sfc-news"]),
    Filters.of(since=datetime(2025, 11, 1, tzinfo=UTC), lang="en"),
    Filters.of(entity="no such entity at all"),
]
LIMITS = (1, 3, 20, 1000)


@pytest.fixture(scope="module")
def filled(module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("recent")
    ingest(module_migrated_db_url, alerts_toml(folder, {"jsonl": jsonl_channel(folder / "a")}))
    yield module_migrated_db_url


@pytest.mark.parametrize("first_page", [1, 100], ids=["pages-of-one", "default-pages"])
def test_the_newest_match_of_each_story_is_what_ranking_every_match_gives(
    filled: str, first_page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of one row, doubling, walk many pages: the order across pages is kept.
    monkeypatch.setattr(search_recent, "MIN_FIRST_PAGE", first_page)
    monkeypatch.setattr(search_recent, "FIRST_PAGE_PER_STORY", 1)
    engine = db.make_engine(filled)
    compared = 0
    try:
        with Session(engine) as session:
            reader = reader_for(session)
            for filters in FILTERS:
                selection = select_matching(reader, None, filters)
                assert selection is not None
                for limit in LIMITS:
                    fast = search_articles(
                        session, None, filters=filters, limit=limit, group="story"
                    )
                    every = reader.rows(
                        _hits_sql(selection, "story"), {**selection.params, "limit": limit}
                    )
                    assert [(hit.id, hit.matched_in_story) for hit in fast] == [
                        (row["id"], row["matched"]) for row in every
                    ], (filters, limit)
                    compared += len(every)
    finally:
        engine.dispose()
    assert compared > 300  # the filters match something, and stories of several articles


@pytest.mark.parametrize("first_page", [1, 100], ids=["pages-of-one", "default-pages"])
def test_counts_that_stop_early_agree_with_counting_everything(
    filled: str, first_page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_recent, "MIN_FIRST_PAGE", first_page)
    monkeypatch.setattr(search_recent, "FIRST_PAGE_PER_STORY", 1)
    engine = db.make_engine(filled)
    try:
        with Session(engine) as session:
            for query in (None, "stablecoin", "金管局"):
                for filters in FILTERS:
                    for group in ("story", "article"):
                        every = count_articles(session, query, filters=filters, group=group)
                        for at_most in (1, 2, 7, 50, 100_000):
                            counted = count_articles(
                                session, query, filters=filters, group=group, at_most=at_most
                            )
                            assert counted == min(every, at_most), (query, filters, group)
            assert count_articles(session, None, group="story") > 50
    finally:
        engine.dispose()
