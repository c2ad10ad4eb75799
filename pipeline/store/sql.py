"""Statement helpers the repository modules share: the dialect's upsert INSERT, chunked IN lists,
checks of enumerated values, and the clock that stamps rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pipeline.errors import StoreError

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


def chunks(values: Sequence[Item], size: int = IN_CHUNK) -> Iterator[Sequence[Item]]:
    """``values`` in consecutive slices of at most ``size``, one per IN (...) query."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def check_allowed(value: str, allowed: tuple[str, ...], what: str) -> None:
    """``StoreError`` naming ``what`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise StoreError(f"{what}: {value!r} is not one of {', '.join(allowed)}")
