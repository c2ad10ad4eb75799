"""Reading the database with SQL text: the query commands' path, cheap to start.

An analyst runs ``search``, ``show``, ``alerts list`` and ``runs`` many times a day, so they
answer through a ``Reader``: SQL text with ``:name`` parameters, rows as dicts. On a plain
SQLite file it is the standard library's ``sqlite3`` alone; SQLAlchemy, whose import costs
about 0.2 s, is loaded only for other URLs (Postgres) or when a caller already holds a
session. The SQL is written once for both dialects; where they differ a query asks
``reader.postgres``.

Values come back as the drivers give them; ``utc``, ``flag`` and ``json_value`` read the
columns SQLite stores as text or integers the way the ORM would.
"""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pipeline.errors import StoreError
from pipeline.store.dburl import SchemaState, judge_schema, schema_problem, sqlite_file

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# As long as the store's own connections wait for a writer (pipeline.store.db).
SQLITE_BUSY_TIMEOUT_S = 30.0
# How SQLAlchemy stores a time in SQLite: naive UTC, always with microseconds. A bound time
# must be written the same way, or text comparison puts equal moments apart.
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

Row = dict[str, Any]


class Reader(ABC):
    """A connection that answers SQL text; ``postgres`` says which dialect to write."""

    postgres: bool = False

    @abstractmethod
    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Every row of ``sql`` with ``params`` bound, as dicts keyed by column label."""

    def close(self) -> None:  # noqa: B027 - a reader over a caller's session releases nothing
        """Release the connection (a reader over a caller's session leaves it open)."""

    def time(self, moment: datetime) -> Any:
        """``moment`` as this database compares stored times."""
        aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return aware if self.postgres else aware.replace(tzinfo=None).strftime(SQLITE_TIME_FORMAT)

    def __enter__(self) -> Reader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class SqliteReader(Reader):
    """A SQLite file read through the standard library."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        connection.row_factory = sqlite3.Row

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Every row of ``sql`` as dicts; ``StoreError`` naming the driver's reason."""
        try:
            return [dict(row) for row in self.connection.execute(sql, dict(params or {}))]
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the database: {exc}") from exc

    def close(self) -> None:
        """Close the file."""
        self.connection.close()


class SessionReader(Reader):
    """A reader over an SQLAlchemy session the caller holds (and closes)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Every row of ``sql`` as dicts, in the session's transaction."""
        from sqlalchemy import text

        result = self.session.execute(text(sql), dict(params or {}))
        return [dict(row) for row in result.mappings()]


class EngineReader(SessionReader):
    """A reader with a session of its own on an engine it disposes of when closed."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.orm import Session

        from pipeline.store.db import open_engine

        self.engine = open_engine(url)
        super().__init__(Session(self.engine))
        if self.postgres:
            from sqlalchemy import text

            # A query command runs a few short statements: compiling them (JIT) costs
            # 20-40 ms each on a large database and never pays back.
            self.session.execute(text("SET jit = off"))
            # A search's best plan depends on its values (how many articles a tag or a term
            # has, where a walk of the time index resumes); psycopg prepares a statement run
            # five times, after which Postgres may reuse one plan for any values: the windows
            # of a walk took 30 ms where they had taken 11.
            self.session.execute(text("SET plan_cache_mode = force_custom_plan"))

    def close(self) -> None:
        """Close the session and dispose of the engine."""
        self.session.close()
        self.engine.dispose()


def open_reader(url: str) -> Reader:
    """A reader for ``url`` whose schema is current; ``StoreError`` saying what to do if not,
    worded as ``pipeline.store.db.open_engine`` words it."""
    path = sqlite_file(url)
    if path is None:
        return EngineReader(url)
    if not Path(path).expanduser().exists():
        # Connecting would create an empty file where a path was mistyped.
        raise StoreError(schema_problem(url, SchemaState.empty))
    try:
        connection = sqlite3.connect(Path(path).expanduser(), timeout=SQLITE_BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read database {url}: {exc}") from exc
    reader = SqliteReader(connection)
    try:
        state = judge_schema(*_sqlite_revision(reader, url))
    except StoreError:
        reader.close()
        raise
    if state is not SchemaState.current:
        reader.close()
        raise StoreError(schema_problem(url, state))
    return reader


def reader_for(source: Session | Reader) -> Reader:
    """``source`` itself when it is a reader, else a reader over the session."""
    return source if isinstance(source, Reader) else SessionReader(source)


def _sqlite_revision(reader: SqliteReader, url: str) -> tuple[str | None, bool]:
    """(Alembic revision or None, whether the file holds any other table)."""
    try:
        names = {
            row[0]
            for row in reader.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        revision = None
        if "alembic_version" in names:
            found = reader.connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = found[0] if found else None
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read database {url}: {exc}") from exc
    return revision, bool(names - {"alembic_version"})


def utc(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite gives text, Postgres a datetime)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"not a stored time: {value!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def flag(value: Any) -> bool:
    """A stored boolean (SQLite gives 0 or 1)."""
    return bool(value)


def json_value(value: Any) -> Any:
    """A stored JSON column as Python values (SQLite gives text, Postgres parsed values)."""
    return json.loads(value) if isinstance(value, str) else value


def bind_list(name: str, values: Iterable[Any], params: dict[str, Any]) -> str:
    """Placeholders ``:name0, :name1, …`` for ``values``, which are added to ``params``: an
    IN list both drivers accept (neither binds a Python list to SQLite)."""
    names = []
    for index, value in enumerate(values):
        key = f"{name}{index}"
        params[key] = value
        names.append(":" + key)
    return ", ".join(names) if names else "NULL"


def stored_time(value: Any) -> datetime:
    """A stored time of a NOT NULL column as an aware UTC datetime."""
    moment = utc(value)
    if moment is None:
        raise TypeError("a time the schema says is never NULL is NULL")
    return moment
