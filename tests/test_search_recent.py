"""A search without text, one row per story: reading the matches newest first until enough
stories have shown up gives the rows, in order, with the match counts, that ranking every match
within its story gives; on SQLite and Postgres, over the replayed fixtures (stories of several
articles, many articles of the same day)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from support.alerting import alerts_toml, ingest, jsonl_channel
from support.ranking import check_pages_against_full_ranking, record_title_pages
from support.walks import GIVING_UP, WALK_IDS, WALKS, record_walks

from pipeline.models import Article, TaggedArticle
from pipeline.store import (
    db,
    repo,
    search,
    search_counts,
    search_recent,
    search_title_first,
)
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
    _add_a_story_holding_a_term_in_one_title(module_migrated_db_url)
    yield module_migrated_db_url


def _add_a_story_holding_a_term_in_one_title(url: str) -> None:
    """The newest story: two articles holding 穩定幣, one in its title, one in its text only,
    so a story's matches are more than its articles whose title holds the term."""
    published = datetime(2025, 12, 1, tzinfo=UTC)
    pieces = [
        ("extra:title", "金管局公布穩定幣發牌最新情況", "金管局今日公布發牌制度的最新情況。"),
        ("extra:text", "金管局回應傳媒查詢", "金管局表示，穩定幣發牌制度運作暢順。"),
    ]
    engine = db.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            ids = []
            for key, title, body in pieces:
                link = f"https://www.hkma.gov.hk/chi/{key}"
                article = Article(
                    url=link,
                    title=title,
                    text=body,
                    canonical_url=link,
                    source_id="hkma-press-tc",
                    published_at=published,
                )
                tagged = TaggedArticle(article, (), content_hash=key, taxonomy_version="v1")
                ids.append(repo.insert_article(session, tagged, item_key=key)[0])
            # Both join one story of the fixtures (the store leaves new articles in none).
            session.execute(
                text(
                    "UPDATE articles SET story_id = (SELECT MIN(id) FROM stories)"
                    " WHERE id IN (:a, :b)"
                ),
                {"a": ids[0], "b": ids[1]},
            )
    finally:
        engine.dispose()


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


# Samples of a Postgres story count (matches in the first per story wanted, samples tried): a
# match a story and doubling, many times; one sample of as many, then every match; the module's.
SAMPLES = [
    (1, 20),
    (1, 1),
    (search_counts.FIRST_SAMPLE_PER_STORY, search_counts.MOST_SAMPLES),
]


@pytest.mark.parametrize("samples", SAMPLES, ids=["doubling", "one-sample", "default-samples"])
@pytest.mark.parametrize("first_page", [1, 100], ids=["pages-of-one", "default-pages"])
def test_counts_that_stop_early_agree_with_counting_everything(
    filled: str, first_page: int, samples: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts stopping at a cap: newest first without text; with text on Postgres, from
    samples of the matches (when they do not tell, every match's story)."""
    monkeypatch.setattr(search_recent, "MIN_FIRST_PAGE", first_page)
    monkeypatch.setattr(search_recent, "FIRST_PAGE_PER_STORY", 1)
    monkeypatch.setattr(search_recent, "FIRST_COUNT_PAGE_PER_STORY", 1)
    monkeypatch.setattr(search_counts, "FIRST_SAMPLE_PER_STORY", samples[0])
    monkeypatch.setattr(search_counts, "MOST_SAMPLES", samples[1])
    told: list[bool] = []

    def capped_story_count(*args: Any, **kwargs: Any) -> int | None:
        counted = search_counts.capped_story_count(*args, **kwargs)
        told.append(counted is not None)
        return counted

    monkeypatch.setattr(search, "capped_story_count", capped_story_count)
    # The samples alone, as where a count's walk of the newest articles gives up.
    monkeypatch.setattr(search, "walked_count", lambda *_args, **_kwargs: None)
    queries = (None, "stablecoin", "金管局", '"virtual asset"', "金管局 -牌照")
    postgres = _check_capped_counts(filled, queries)
    # Postgres counted text searches' stories from samples; they told, but where made to
    # give up after one sample of one match a story.
    assert any(told) == postgres
    assert (not all(told)) == (postgres and samples == (1, 1))


# Postgres's count walks (first window, the sparsest matches walked on): windows of one and
# doubling, never giving up; giving up after any window holding an article that does not
# match; the module's own.
COUNT_WALKS = [
    (1, math.inf),
    (1, 1),
    (search_counts.COUNT_FIRST_WINDOW, search_counts.WALK_SPARSEST),
]


@pytest.mark.parametrize("walk", COUNT_WALKS, ids=["windows-from-one", "giving-up", "default"])
def test_counts_walking_the_newest_articles_agree_with_counting_everything(
    filled: str, walk: tuple[int, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word search's count on Postgres walks the time index newest first, each article
    asked the whole condition, until the cap or the oldest article; where it gives up, the
    samples count. Either way the count is the full count, capped."""
    monkeypatch.setattr(search_counts, "COUNT_FIRST_WINDOW", walk[0])
    monkeypatch.setattr(search_counts, "WALK_SPARSEST", walk[1])
    told: list[bool] = []

    def walked_count(*args: Any, **kwargs: Any) -> int | None:
        counted = search_counts.walked_count(*args, **kwargs)
        told.append(counted is not None)
        return counted

    monkeypatch.setattr(search, "walked_count", walked_count)
    postgres = _check_capped_counts(
        filled, ("stablecoin", '"virtual asset"', "hkma -stablecoin", "licen*")
    )
    # Postgres walked for every count with a cap; the walk told, but where made to give up.
    assert bool(told) == postgres
    assert (bool(told) and all(told)) == (postgres and walk != (1, 1))


def _check_capped_counts(url: str, queries: tuple[str | None, ...]) -> bool:
    """Assert that counting each query's matches and stories, with each of ``FILTERS``, up to
    several caps gives the full count capped; whether the database is Postgres."""
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            for query in queries:
                for filters in FILTERS:
                    for group in ("story", "article"):
                        every = count_articles(session, query, filters=filters, group=group)
                        for at_most in (1, 2, 7, 50, 100_000):
                            counted = count_articles(
                                session, query, filters=filters, group=group, at_most=at_most
                            )
                            assert counted == min(every, at_most), (query, filters, group)
            assert count_articles(session, None, group="story") > 50
            return reader_for(session).postgres
    finally:
        engine.dispose()


CHINESE_QUERIES = [
    "金管局",
    "穩定幣",
    "稳定币",
    "金管局 穩定幣",
    "金管局 -牌照",
    "金管局 OR 證監會",
    "香港",
]


@pytest.mark.parametrize("walk", WALKS, ids=WALK_IDS)
@pytest.mark.parametrize("walk_density", [0, 10**9], ids=["title-list", "time-index"])
@pytest.mark.parametrize("first_page", [1, 100], ids=["pages-of-one", "default-pages"])
def test_a_chinese_search_read_from_its_titles_first_gives_the_full_ranking(
    filled: str,
    first_page: int,
    walk_density: int,
    walk: tuple[int, int, float | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rows whose title holds every term are read first, from the list of title matches or
    walking the time index (SQLite when dense, Postgres a window at a time, giving up after
    a few); when they fill the page it is the page the ranking of every match gives, rank and
    match counts included, with filters or without."""
    monkeypatch.setattr(search_title_first, "WALK_DENSITY", walk_density)
    ended = record_walks(monkeypatch, walk)
    monkeypatch.setattr(search_recent, "MIN_FIRST_PAGE", first_page)
    monkeypatch.setattr(search_recent, "FIRST_PAGE_PER_STORY", 1)
    answered = record_title_pages(monkeypatch)
    engine = db.make_engine(filled)
    compared = 0
    try:
        with Session(engine) as session:
            postgres = reader_for(session).postgres
            for query, filters in [(q, Filters()) for q in CHINESE_QUERIES] + [
                ("金管局", Filters.of(source="hkma-press-tc")),
                ("金管局", Filters.of(since=datetime(2025, 11, 10, tzinfo=UTC))),
            ]:
                compared += check_pages_against_full_ranking(
                    session, query, filters, title_first=query != "香港"
                )
    finally:
        engine.dispose()
    assert compared > 200
    # The titles alone answered some pages, and some pages needed every match.
    assert any(answered) and not all(answered)
    # Postgres walked the time index for the unfiltered searches (to their end when a page
    # was not filled), and gave up where made to.
    assert bool(ended) == postgres
    assert (True in ended) == (postgres and walk in GIVING_UP)
