"""A search of English words ranks the articles whose title holds the query first, newest first
among them, then the others by relevance, on SQLite and Postgres alike; the page read from the
title matches alone (SQLite's index of titles, Postgres's walk of the time index), when they
fill it, is the page ranking every match gives (rows, ranks and match counts). Over the
replayed fixtures and a story of English articles added to them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session
from support.alerting import alerts_toml, ingest, jsonl_channel
from support.ranking import check_pages_against_full_ranking, record_title_pages
from support.walks import GIVING_UP, WALK_IDS, WALKS, record_walks

from pipeline.models import Article, TaggedArticle
from pipeline.store import db, repo, search, search_recent, search_title_first
from pipeline.store.reader import reader_for
from pipeline.store.search import Filters, search_articles
from pipeline.store.search_words import TITLE_RANK

DENSE = search_title_first._dense
SOURCE = "regulation-asia"
ADDED = "https://news.example/"
# Oldest first; the last two hold the phrase in their text only, the last of them often.
PIECES = [
    ("older-title", "Virtual asset dealers bill gazetted", "The bill sets out licensing."),
    ("newer-title", "Lawmakers debate virtual asset custodians", "Custodians will need licences."),
    ("text-once", "Council meets", "Members discussed a virtual asset regime among others."),
    (
        "text-often",
        "Weekly roundup",
        "Virtual asset news. The virtual asset bill and virtual asset custody, virtual asset.",
    ),
]
QUERIES = [
    '"virtual asset"',
    "hkma",
    "stablecoin",
    "stablecoin* OR tokenis*",
    "hkma -stablecoin",
    '"monetary authority" licence*',
    "bill custodians",
    "the",
    "other markets",
]
FILTERS = [
    Filters(),
    Filters.of(entity="hkma"),
    Filters.of(topic="stablecoins"),
    Filters.of(source=["hkma-press", "sfc-news", SOURCE]),
    Filters.of(since=datetime(2025, 11, 1, tzinfo=UTC), lang="en"),
]


@pytest.fixture(scope="module")
def filled(module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("words")
    ingest(module_migrated_db_url, alerts_toml(folder, {"jsonl": jsonl_channel(folder / "a")}))
    _add_english_story(module_migrated_db_url)
    yield module_migrated_db_url


@pytest.fixture
def session(filled: str) -> Iterator[Session]:
    engine = db.make_engine(filled)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _add_english_story(url: str) -> None:
    """The ``PIECES``, a day apart, in one story of the fixtures."""
    engine = db.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            ids = []
            for day, (key, title, body) in enumerate(PIECES):
                link = f"{ADDED}{key}"
                article = Article(
                    url=link,
                    title=title,
                    text=body,
                    canonical_url=link,
                    source_id=SOURCE,
                    published_at=datetime(2025, 12, 1, tzinfo=UTC) + timedelta(days=day),
                    lang="en",
                )
                tagged = TaggedArticle(article, (), content_hash=key, taxonomy_version="v1")
                ids.append(repo.insert_article(session, tagged, item_key=key)[0])
            # One story of the fixtures (the store leaves new articles in none).
            joined = text(
                "UPDATE articles SET story_id = (SELECT MIN(id) FROM stories) WHERE id IN :ids"
            ).bindparams(bindparam("ids", expanding=True))
            session.execute(joined, {"ids": ids})
    finally:
        engine.dispose()


def _titles(hits: list[search.ArticleHit]) -> list[str]:
    return [hit.title for hit in hits]


def test_title_matches_come_first_newest_first_then_the_rest_by_relevance(
    session: Session,
) -> None:
    hits = search_articles(session, '"virtual asset"', source=SOURCE)
    added = [hit for hit in hits if hit.url.startswith(ADDED)]
    assert _titles(added) == [
        "Lawmakers debate virtual asset custodians",
        "Virtual asset dealers bill gazetted",
        "Weekly roundup",
        "Council meets",
    ]
    # The added title matches are the newest of the source's title matches.
    assert hits[:2] == added[:2]
    assert [hit.rank for hit in added[:2]] == [TITLE_RANK, TITLE_RANK]
    assert TITLE_RANK > added[2].rank > added[3].rank > 0
    assert [hit.rank for hit in hits] == sorted((hit.rank for hit in hits), reverse=True)


def test_an_excluded_word_leaves_out_a_title_match(session: Session) -> None:
    query = '"virtual asset" -custodians'
    hits = search_articles(session, query, source=SOURCE)
    story = search_articles(session, query, source=SOURCE, group="story")
    added = [hit for hit in hits if hit.url.startswith(ADDED)]
    assert _titles(added) == [
        "Virtual asset dealers bill gazetted",
        "Weekly roundup",
        "Council meets",
    ]
    assert all("custodians" not in hit.text.lower() for hit in hits)
    # The added story's best match is its title match; three of its articles match.
    assert [(hit.title, hit.matched_in_story) for hit in story if hit.url.startswith(ADDED)] == [
        ("Virtual asset dealers bill gazetted", 3)
    ]


@pytest.mark.parametrize("walk", WALKS, ids=WALK_IDS)
@pytest.mark.parametrize("walk_density", [0, 10**9], ids=["title-list", "time-index"])
@pytest.mark.parametrize("first_page", [1, 100], ids=["pages-of-one", "default-pages"])
def test_a_word_search_read_from_its_titles_first_gives_the_full_ranking(
    session: Session,
    first_page: int,
    walk_density: int,
    walk: tuple[int, int, float | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The title matches are read apart (SQLite: from the index of titles, or without filters
    through the time index where they are dense; Postgres: walking the time index, the
    filters asked of each article); when they fill the page it is the page the ranking of
    every match gives, with filters or without."""
    monkeypatch.setattr(search_recent, "MIN_FIRST_PAGE", first_page)
    monkeypatch.setattr(search_recent, "FIRST_PAGE_PER_STORY", 1)
    monkeypatch.setattr(search_title_first, "WALK_DENSITY", walk_density)
    dense: list[bool] = []

    def record_dense(*args: Any) -> bool:
        found = DENSE(*args)
        dense.append(found)
        return found

    monkeypatch.setattr(search_title_first, "_dense", record_dense)
    answered = record_title_pages(monkeypatch)
    ended = record_walks(monkeypatch, walk)
    postgres = reader_for(session).postgres
    compared = sum(
        check_pages_against_full_ranking(session, query, filters, title_first=True)
        for query in QUERIES
        for filters in FILTERS
    )
    assert compared > 500
    # The titles alone answered some pages (on Postgres, a walk made to give up may still
    # fill a page of one first), and some pages needed every match.
    assert any(answered) or (postgres and walk in GIVING_UP)
    assert not all(answered)
    # Postgres walked, with every filter (to the end when a page was not filled), and gave
    # up where made to; SQLite never walks for words.
    assert bool(ended) == postgres
    assert (True in ended) == (postgres and walk in GIVING_UP)
    # SQLite asked, for the searches without filters, whether the title matches were dense,
    # and read them through the time index where made to find them so.
    assert bool(dense) != postgres
    assert (True in dense) == (not postgres and walk_density > 0)
