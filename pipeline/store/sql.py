"""Statement helpers the repository modules share: the dialect's upsert INSERT, chunked IN lists,
checks of enumerated values, and the clock that stamps rows."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pipeline.errors import StoreError
from pipeline.store.schema import Base

# Keys per IN (...) query: far below SQLite's bound-parameter limit, large enough that a run's few
# thousand keys take a handful of round trips.
IN_CHUNK = 500

Item = TypeVar("Item")


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def dialect_insert(session: Session, entity: type[Any]) -> Any:
    """A dialect-specific INSERT for ``entity`` that supports ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    # The Core table, not the ORM class: ORM-enabled INSERTs pay a per-row bookkeeping cost
    # that dominated storing an article's tag links.
    table = entity.__table__
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise StoreError(f"database dialect {dialect!r} is not supported (use SQLite or Postgres)")


def insert_rows(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert plain rows (ints, strings, bytes, booleans: no values to convert) through the
    driver's own ``executemany``, skipping rows whose key is stored already.

    For the tables a batch fills by the thousand (tag links, keys, signatures): SQLAlchemy's
    per-row parameter processing cost more than the database's own work there
    (``bench/pipeline.py``).
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    names = ", ".join(columns)
    if dialect.name == "postgresql":
        # One statement over one array per column: Postgres runs an INSERT per row of an
        # executemany, which at a million articles was a third of a batch's cost
        # (bench/dedupe_scale.py).
        arrays = ", ".join(f"%s::{_array_type(table, column)}" for column in columns)
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"
        session.connection().exec_driver_sql(
            sql, tuple(list(values) for values in zip(*rows, strict=True))
        )
        return
    markers = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({markers}) ON CONFLICT DO NOTHING"
    session.connection().exec_driver_sql(sql, [tuple(row) for row in rows])


@functools.cache
def _array_type(table: str, column: str) -> str:
    """The Postgres array type of a column of the schema ("BIGINT[]", "JSON[]")."""
    return f"{Base.metadata.tables[table].columns[column].type.compile(postgresql.dialect())}[]"


def chunks(values: Sequence[Item], size: int = IN_CHUNK) -> Iterator[Sequence[Item]]:
    """``values`` in consecutive slices of at most ``size``, one per IN (...) query."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def check_allowed(value: str, allowed: tuple[str, ...], what: str) -> None:
    """``StoreError`` naming ``what`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise StoreError(f"{what}: {value!r} is not one of {', '.join(allowed)}")
