"""Migration 0015: the words of the titles alone (SQLite's FTS5 table, Postgres's stored
``title_vector``), filled from the articles stored before it and kept in step with every later
insert, change of title and delete, so that a word search ranks the articles whose title holds
it first."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session
from support.store import downgrade

from pipeline.models import Article, Source, TaggedArticle
from pipeline.store import db, repo
from pipeline.store.search import search_articles
from pipeline.store.search_words import TITLE_RANK, TITLE_TABLE

SOURCE = Source(id="news", name="News", kind="rss", urls=("https://news.example/",))


def _store(session: Session, key: str, title: str, body: str) -> int:
    article = Article(
        url=f"https://news.example/{key}",
        title=title,
        text=body,
        published_at=datetime(2025, 11, 3, tzinfo=UTC),
        lang="en",
        source_id=SOURCE.id,
    )
    tagged = TaggedArticle(article, (), f"hash-{key}", "v1")
    return repo.insert_article(session, tagged, item_key=f"news:{key}")[0]


def _ranked(session: Session, query: str) -> list[tuple[int, bool]]:
    """The hits' ids, each with whether it ranked as a title match."""
    return [(hit.id, hit.rank == TITLE_RANK) for hit in search_articles(session, query)]


def _check_title_index(session: Session) -> None:
    """SQLite compares the title index with the titles stored (an error if they differ)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(f"INSERT INTO {TITLE_TABLE}({TITLE_TABLE}, rank) VALUES ('integrity-check', 1)")
        )


def test_titles_stored_before_and_after_the_upgrade_rank_first(db_url: str) -> None:
    db.upgrade(db_url)
    downgrade(db_url, "0014")
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            repo.sync_sources(session, [SOURCE])
            licences = _store(session, "a", "Stablecoin licences granted", "Two stablecoin firms.")
            council = _store(session, "b", "Council meets", "On stablecoin rules and more.")
        db.upgrade(db_url)
        with Session(engine) as session, session.begin():
            assert _ranked(session, "stablecoin") == [(licences, True), (council, False)]
            later = _store(session, "c", "Stablecoins: the week", "A roundup.")
            session.execute(
                text("UPDATE articles SET title = 'Council rules on stablecoins' WHERE id = :id"),
                {"id": council},
            )
            session.execute(
                text("UPDATE articles SET title = 'Licences granted' WHERE id = :id"),
                {"id": licences},
            )
            _check_title_index(session)
        with Session(engine) as session, session.begin():
            ranked = _ranked(session, "stablecoin")
            assert sorted(ranked) == [(licences, False), (council, True), (later, True)]
            # Title matches first, then the article that holds the word in its text only.
            assert ranked[-1] == (licences, False)
            session.execute(text("DELETE FROM articles WHERE id = :id"), {"id": later})
            _check_title_index(session)
            assert _ranked(session, "stablecoin") == [(council, True), (licences, False)]
            db.check_schema(engine)
    finally:
        engine.dispose()


def test_downgrade_removes_the_title_words(db_url: str) -> None:
    db.upgrade(db_url)
    downgrade(db_url, "0014")
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                found = connection.execute(
                    text("SELECT name FROM sqlite_master WHERE name LIKE :name"),
                    {"name": f"{TITLE_TABLE}%"},
                ).all()
            else:
                found = connection.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns"
                        " WHERE table_name = 'articles' AND column_name = 'title_vector'"
                    )
                ).all()
            assert found == []
    finally:
        engine.dispose()
    db.upgrade(db_url)
