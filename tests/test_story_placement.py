"""An ingested article's row is written once, story and all, on SQLite and Postgres.

A batch decides the stories of its new articles before storing them (``repo.plan_stories``), so
the INSERT carries ``story_id``: no later ``UPDATE`` writes a second version of every new row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session
from support.alerting import ingest
from support.store_state import story_problems

from pipeline.models import Article, Source, TaggedArticle
from pipeline.store import db, repo, schema

# New articles of the first batch another run stores first, in the race test.
RACED = 3


def replay(db_url: str, directory: Path) -> None:
    """One ingestion of the recorded fixtures into ``db_url``, without alert rules."""
    alerts = directory / "alerts.toml"
    alerts.write_text("", encoding="utf-8")
    outcome = ingest(db_url, alerts)
    assert outcome.status == "completed", outcome.as_dict()


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine sends while the test runs."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


def test_an_ingested_article_row_is_written_with_its_story(
    migrated_db_url: str, tmp_path: Path, statements: list[str]
) -> None:
    replay(migrated_db_url, tmp_path)
    updates = [s for s in statements if s.upper().startswith("UPDATE ARTICLES")]
    assert not [s for s in updates if "story_id" in s], updates
    inserts = [s for s in statements if s.upper().startswith("INSERT INTO ARTICLES ")]
    assert inserts and all("story_id" in s for s in inserts)
    engine = db.make_engine(migrated_db_url)
    with Session(engine) as session:
        stories = session.scalars(select(schema.Article.story_id)).all()
    engine.dispose()
    assert len(stories) > 20 and None not in stories
    assert story_problems(migrated_db_url) == []


def _tagged(key: str, title: str, text: str, source_id: str = "news") -> TaggedArticle:
    """A tagged news article with no tags, its URL and content hash named after ``key``."""
    article = Article(
        url=f"https://x.example/{key}",
        title=title,
        text=text,
        source_id=source_id,
        doc_type="news",
    )
    return TaggedArticle(article, (), f"hash-{key}", "v")


def _stored(session: Session, key: str, source_id: str) -> int:
    """An article stored under ``key`` in a story of its own; its id."""
    tagged = _tagged(key, f"Stored {key}", "The regulator said something. " * 5, source_id)
    article_id, _ = repo.insert_article(session, tagged, item_key=key)
    repo.place_articles(session, [repo.Placement(article_id)])
    return article_id


def test_plan_follows_stored_articles_then_earlier_ones_in_the_batch(engine: Engine) -> None:
    source = Source(id="news", name="News", kind="rss", urls=("https://x.example/",))
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, [source])
        stored = _stored(session, "news:stored", "news")
        (stored_story,) = repo.stories_of(session, [stored]).values()
        joinings = [
            repo.Joining("a", linked_id=stored),  # joins the stored article's story
            repo.Joining("b", linked_key="a"),  # follows a into that story
            repo.Joining("c"),  # starts a story
            repo.Joining("d", linked_key="c"),  # joins c's new story
            repo.Joining("e", linked_key="nowhere"),  # links to nothing known: its own
            repo.Joining("f", linked_id=stored + 1000),  # no such stored article: its own
            repo.Joining("g", linked_key="e"),
        ]
        plan = repo.plan_stories(session, joinings)
        created = session.scalars(
            select(schema.Story.id).where(schema.Story.id != stored_story)
        ).all()
    assert plan["a"] == plan["b"] == stored_story
    assert plan["c"] == plan["d"] and plan["e"] == plan["g"]
    assert len({plan["c"], plan["e"], plan["f"], stored_story}) == 4
    assert sorted(created) == sorted({plan["c"], plan["e"], plan["f"]})


def _new(key: str, story: int) -> repo.NewArticle:
    tagged = _tagged(key, f"New {key}", "The regulator said something new. " * 5)
    return repo.NewArticle(tagged, key, story_id=story)


def test_planned_articles_are_stored_in_their_stories_then_linked_and_summed(
    engine: Engine,
) -> None:
    source = Source(id="news", name="News", kind="rss", urls=("https://x.example/",))
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, [source])
        stored = _stored(session, "news:stored", "news")
        plan = repo.plan_stories(session, [repo.Joining("a", linked_id=stored), repo.Joining("b")])
        ids = repo.insert_articles(session, [_new(key, plan[key]) for key in ("a", "b")])
        placements = [
            repo.Placement(ids["a"], stored, "same_story", 0.5),
            repo.Placement(ids["b"]),
            # Stored without a story: follows the planned article it links to.
            repo.Placement(
                repo.insert_article(session, _new("c", 0).tagged, item_key="c")[0],
                ids["b"],
                "duplicate",
                0.9,
            ),
        ]
        placed = {ids[key]: plan[key] for key in ("a", "b")}
        stories = repo.place_articles(session, placements, placed)
        counts = dict(session.execute(select(schema.Story.id, schema.Story.article_count)).all())
        links = session.scalars(select(schema.StoryLink.linked_article_id)).all()
    assert stories[ids["a"]] == plan["a"] and stories[ids["b"]] == plan["b"]
    assert counts == {plan["a"]: 2, plan["b"]: 2}
    assert sorted(links) == sorted([stored, ids["b"]])


def _raced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first batch's insert finds its last new articles stored already, as when another
    run stored them after this one judged them (the last: no article of the batch joins them)."""
    insert = repo.insert_articles

    def raced(session: Session, new: Sequence[repo.NewArticle]) -> dict[str, int]:
        monkeypatch.setattr(repo, "insert_articles", insert)
        for entry in new[-RACED:]:
            _stored(session, entry.item_key, entry.tagged.article.source_id)
        return insert(session, new)

    monkeypatch.setattr(repo, "insert_articles", raced)


def test_articles_another_run_stored_first_leave_no_empty_story(
    migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _raced(monkeypatch)
    replay(migrated_db_url, tmp_path)
    assert story_problems(migrated_db_url) == []
    engine = db.make_engine(migrated_db_url)
    with Session(engine) as session:
        titles = session.scalars(select(schema.Article.title)).all()
        # Their stories were planned before the insert found them stored: none stays empty.
        members = select(schema.Article.id).where(schema.Article.story_id == schema.Story.id)
        empty = session.scalars(select(schema.Story.id).where(~members.exists())).all()
    engine.dispose()
    assert empty == []
    assert len([title for title in titles if title.startswith("Stored ")]) == RACED


def _wait_for_a_blocked_session(engine: Engine, seconds: float = 10.0) -> None:
    """Return once some session of the test database waits on a lock (Postgres)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.scalar(waiting):
                return
        time.sleep(0.05)
    raise AssertionError("the second run never waited for the first")


def test_two_runs_adding_to_one_story_at_once_leave_its_count_right(tmp_path: Path) -> None:
    """The second run counts the story's members only once the first has committed (Postgres:
    SQLite lets one writer in at a time)."""
    from conftest import database

    source = Source(id="news", name="News", kind="rss", urls=("https://x.example/",))
    with database("postgres", tmp_path) as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        try:
            with Session(engine) as session, session.begin():
                repo.sync_sources(session, [source])
                stored = _stored(session, "news:stored", "news")
                (story,) = repo.stories_of(session, [stored]).values()

            def join(session: Session, key: str) -> None:
                ids = repo.insert_articles(session, [_new(key, story)])
                placement = repo.Placement(ids[key], stored, "same_story", 0.5)
                repo.place_articles(session, [placement], {ids[key]: story})

            def second() -> None:
                with Session(engine) as session, session.begin():
                    join(session, "second")

            with Session(engine) as first, ThreadPoolExecutor(1) as pool:
                with first.begin():
                    join(first, "first")  # its summary written, its transaction open
                    running = pool.submit(second)
                    _wait_for_a_blocked_session(engine)
                running.result(timeout=30)
            with Session(engine) as session:
                count = session.scalar(
                    select(schema.Story.article_count).where(schema.Story.id == story)
                )
            problems = story_problems(url)
        finally:
            engine.dispose()
    assert count == 3
    assert problems == []
