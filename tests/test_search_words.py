"""A search of English words ranks the articles whose title holds the query first, newest first
among them, then the others by relevance, on SQLite and Postgres alike; on SQLite the page read
from the title matches alone, when they fill it, is the page ranking every match gives (rows,
ranks and match counts). Over the replayed fixtures and a story of English articles added to
them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session
from support.alerting import alerts_toml, ingest, jsonl_channel

from pipeline.models import Article, TaggedArticle
from pipeline.store import db, repo, search, search_recent, search_title_first
from pipeline.store.reader import Row, reader_for
from pipeline.store.search import Filters, _hits_sql, search_articles, select_matching
from pipeline.store.search_words import TITLE_RANK

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


def test_title_matches_come_first_newest_first_then_the_rest_by_relevance(filled: str) -> None:
    engine = db.make_engine(filled)
    try:
        with Session(engine) as session:
            hits = search_articles(session, '"virtual asset"', source=SOURCE)
    finally:
        engine.dispose()
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


def test_an_excluded_word_leaves_out_a_title_match(filled: str) -> None:
    engine = db.make_engine(filled)
    try:
        with Session(engine) as session:
            hits = search_articles(session, '"virtual asset" -custodians', source=SOURCE)
            story = search_articles(
                session, '"virtual asset" -custodians', source=SOURCE, group="story"
            )
    finally:
        engine.dispose()
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


@pytest.mark.parametrize("first_page", [1, 100], ids=["pages-of-one", "default-pages"])
def test_a_word_search_read_from_its_titles_first_gives_the_full_ranking(
    filled: str, first_page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_recent, "MIN_FIRST_PAGE", first_page)
    monkeypatch.setattr(search_recent, "FIRST_PAGE_PER_STORY", 1)
    answered: list[bool] = []

    def title_first_rows(*args: Any, **kwargs: Any) -> list[Row] | None:
        rows = search_title_first.title_first_rows(*args, **kwargs)
        answered.append(rows is not None)
        return rows

    monkeypatch.setattr(search, "title_first_rows", title_first_rows)
    engine = db.make_engine(filled)
    compared = 0
    try:
        with Session(engine) as session:
            reader = reader_for(session)
            for query in QUERIES:
                for filters in FILTERS:
                    selection = select_matching(reader, query, filters)
                    assert selection is not None
                    # Postgres ranks every match (its titles are not read apart).
                    assert (selection.title_first is None) == reader.postgres
                    for group in ("article", "story"):
                        for limit in (1, 2, 5, 20, 1000):
                            fast = search_articles(
                                session, query, filters=filters, limit=limit, group=group
                            )
                            every = reader.rows(
                                _hits_sql(selection, group), {**selection.params, "limit": limit}
                            )
                            assert [(h.id, h.matched_in_story, h.rank) for h in fast] == [
                                (row["id"], row["matched"], float(row["rank"])) for row in every
                            ], (query, filters, group, limit)
                            compared += len(every)
    finally:
        engine.dispose()
    assert compared > 500
    # On SQLite the titles alone answered some pages, and some pages needed every match.
    assert (any(answered) and not all(answered)) != reader.postgres
