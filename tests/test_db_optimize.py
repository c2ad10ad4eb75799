"""``newswatch db optimize``: SQLite's full-text indexes merged into one segment each, Postgres
vacuumed and analysed; every search answers as before; a database not migrated is refused and
left as it was."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session
from support.alerting import alerts_toml, ingest, jsonl_channel
from support.cli_process import newswatch

from pipeline.models import Article, TaggedArticle
from pipeline.store import db, repo
from pipeline.store.maintenance import SQLITE_INDEXES
from pipeline.store.search import search_articles
from pipeline.store.search_terms import WORD_TABLE
from pipeline.store.search_words import TITLE_TABLE

QUERIES = ["hkma", '"virtual asset"', "stablecoin* -hkma", "金管局", "穩定幣", "監管"]
WHOLE_CONTENT = {WORD_TABLE, TITLE_TABLE}
# Batches stored apart after the fixtures: each adds a segment to every full-text index.
BATCHES = 3


def _segments(session: Session, table: str) -> int:
    """How many segments the FTS5 table ``table`` holds (its ``_idx`` table lists each
    segment's leaves)."""
    return int(session.execute(text(f"SELECT count(DISTINCT segid) FROM {table}_idx")).scalar_one())


def _store_in_batches(url: str, sqlite: bool) -> None:
    """``BATCHES`` articles in English and Chinese, each committed alone; SQLite's automatic
    merging is turned off first, so that the segments stay apart until optimized."""
    engine = db.make_engine(url)
    try:
        if sqlite:
            with Session(engine) as session, session.begin():
                for table, _ in SQLITE_INDEXES:
                    session.execute(
                        text(f"INSERT INTO {table}({table}, rank) VALUES ('automerge', 0)")
                    )
        for batch in range(BATCHES):
            with Session(engine) as session, session.begin():
                article = Article(
                    url=f"https://news.example/batch-{batch}",
                    title=f"Virtual asset licensing update {batch}",
                    text=f"The HKMA on virtual asset platforms. 金管局就穩定幣監管{batch}。",
                    source_id="regulation-asia",
                    published_at=datetime(2025, 12, 1 + batch, tzinfo=UTC),
                    lang="en",
                )
                tagged = TaggedArticle(article, (), f"batch-{batch}", "v1")
                repo.insert_article(session, tagged, item_key=f"batch-{batch}")
    finally:
        engine.dispose()


def _answers(url: str) -> dict[str, list[tuple[int, float]]]:
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            return {
                query: [(hit.id, hit.rank) for hit in search_articles(session, query, limit=50)]
                for query in QUERIES
            }
    finally:
        engine.dispose()


def test_optimize_merges_the_indexes_and_every_search_answers_the_same(
    migrated_db_url: str, tmp_path: Path
) -> None:
    ingest(migrated_db_url, alerts_toml(tmp_path, {"jsonl": jsonl_channel(tmp_path / "a")}))
    sqlite = migrated_db_url.startswith("sqlite")
    _store_in_batches(migrated_db_url, sqlite)
    before = _answers(migrated_db_url)
    assert all(before.values())
    engine = db.make_engine(migrated_db_url)
    try:
        if sqlite:
            with Session(engine) as session:
                assert all(_segments(session, table) > BATCHES for table, _ in SQLITE_INDEXES)

        result = newswatch(
            "db", "optimize", "--db", migrated_db_url, env=dict(os.environ), cwd=tmp_path
        )

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("is optimized")
        with Session(engine) as session:
            if sqlite:
                for table, serves in SQLITE_INDEXES:
                    assert f"merged the index of {serves} ({table}): " in result.stdout
                    assert _segments(session, table) == 1
                    # FTS5 checks the merged index, against the articles it indexes where it
                    # indexes every one (the trigram index holds the Chinese ones alone).
                    against = int(table in WHOLE_CONTENT)
                    session.execute(
                        text(
                            f"INSERT INTO {table}({table}, rank)"
                            f" VALUES ('integrity-check', {against})"
                        )
                    )
            else:
                assert "vacuumed and analysed every table" in result.stdout
                done = session.execute(
                    text(
                        "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
                        " FROM pg_stat_user_tables WHERE relname = 'article_tags'"
                    )
                ).scalar_one()
                assert done
    finally:
        engine.dispose()
    assert _answers(migrated_db_url) == before


def test_a_database_not_migrated_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    db.upgrade(url, "0015")
    size = path.stat().st_size

    result = newswatch("db", "optimize", "--db", url, env=dict(os.environ), cwd=tmp_path)

    assert result.returncode == 1
    assert "run `newswatch db upgrade`" in result.stderr
    assert "optimized" not in result.stdout
    assert path.stat().st_size == size
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert revision.scalar_one() == "0015"
    finally:
        engine.dispose()
