"""Fetch state: the validators (ETag, Last-Modified) of each URL's latest response, for the next
conditional GET. ``DbValidatorStore`` is what a fetcher reads them through."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.models import SeenValidators, Validators
from pipeline.store.schema import FetchState
from pipeline.store.sql import dialect_insert, utc_now


def fetch_state_get(session: Session, url: str) -> Validators | None:
    """The stored validators for ``url``, if it was fetched before."""
    row = session.get(FetchState, url)
    if row is None:
        return None
    return Validators(row.etag, row.last_modified, row.last_status, row.content_hash)


def fetch_state_put(
    session: Session,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    status: int | None = None,
    content_hash: str | None = None,
) -> None:
    """Store (or replace) the validators of the latest response for ``url``."""
    values = {
        "etag": etag,
        "last_modified": last_modified,
        "last_status": status,
        "content_hash": content_hash,
        "updated_at": utc_now(),
    }
    stmt = dialect_insert(session, FetchState).values(url=url, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["url"], set_={name: stmt.excluded[name] for name in values}
        )
    )


def save_validators(session: Session, entries: Iterable[SeenValidators]) -> int:
    """Write a run's new validators to ``fetch_state``; returns how many were written."""
    written = 0
    for entry in entries:
        fetch_state_put(
            session,
            entry.url,
            etag=entry.etag,
            last_modified=entry.last_modified,
            status=entry.status,
        )
        written += 1
    return written


class DbValidatorStore:
    """Reads validators from the ``fetch_state`` table of ``engine`` (a fetcher's store)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, url: str) -> Validators | None:
        """The stored validators for ``url``, if any."""
        with Session(self.engine) as session:
            return fetch_state_get(session, url)
