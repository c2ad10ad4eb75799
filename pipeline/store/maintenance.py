"""The search indexes brought to their fastest shape, for ``newswatch db optimize``.

SQLite: FTS5 writes each batch of rows as a new segment of its index and merges segments only
level by level, so a database filled batch by batch holds many segments, and every full-text
query reads each of them. On a generated history of a million articles, asking whether one
article holds a frequent phrase (a story's match count, an excluded word) took 200 µs over its
segments and 31 µs once they were merged into one ('optimize'); the search 金管局 went from 63
to 34 ms, and a phrase with a topic, by story, from 91 to 74 ms (``bench/search.py
--optimize``). Merging rewrites each index: 10.5 s in all for those million articles, while
writers wait. ``PRAGMA optimize`` then lets SQLite refresh what statistics it judges stale.

Postgres: ``VACUUM (ANALYZE)`` marks the pages written since the last vacuum all-visible, so a
tag's articles are read from the (tag, article) index alone (migration 0016), and refreshes the
planner's statistics. Autovacuum does both in time; this does them now, after a large import.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import StoreError
from pipeline.store.db import display_url, open_engine, reason_of
from pipeline.store.search_terms import TRIGRAM_TABLE, WORD_TABLE
from pipeline.store.search_words import TITLE_TABLE

# Each full-text index of SQLite, with what it serves.
SQLITE_INDEXES = (
    (WORD_TABLE, "English words"),
    (TRIGRAM_TABLE, "Chinese terms"),
    (TITLE_TABLE, "title words"),
)


@dataclass(frozen=True)
class Step:
    """One thing done, and how long it took."""

    done: str
    seconds: float


def optimize(url: str) -> list[Step]:
    """Merge SQLite's full-text indexes into one segment each and refresh its statistics, or
    vacuum and analyse a Postgres database; the steps taken. ``StoreError`` when the schema is
    not current or the database refuses."""
    engine = open_engine(url)
    try:
        return [_step(engine, done, sql) for done, sql in _statements(engine.dialect.name)]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot optimize database {display_url(url)}: {reason_of(exc)}") from exc
    finally:
        engine.dispose()


def _statements(dialect: str) -> list[tuple[str, str]]:
    """What to do on ``dialect``, each with the statement that does it."""
    if dialect == "sqlite":
        merges = [
            (
                f"merged the index of {serves} ({table})",
                f"INSERT INTO {table}({table}) VALUES ('optimize')",
            )
            for table, serves in SQLITE_INDEXES
        ]
        return [
            *merges,
            ("refreshed the planner's statistics (PRAGMA optimize)", "PRAGMA optimize"),
        ]
    return [("vacuumed and analysed every table (VACUUM (ANALYZE))", "VACUUM (ANALYZE)")]


def _step(engine: Engine, done: str, sql: str) -> Step:
    """Run ``sql`` on a connection of its own, committed at once: a writer waits for one
    merge, not for all three; and VACUUM cannot run inside a transaction."""
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(sql))
    return Step(done, time.perf_counter() - started)
