"""Conditional GET state: the validators (ETag, Last-Modified) kept per URL in the database.

The fetcher reads the stored validators of a URL before a conditional request. New validators
are held in memory and written by the ingest at the end of the run, and only for sources that
finished without error: a feed answered 304 next time lists nothing, so its validators must not
be kept before its items are stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.store import repo
from pipeline.store.repo import Validators


class ValidatorStore(Protocol):
    """Where a fetcher reads the validators of the last response for a URL."""

    def get(self, url: str) -> Validators | None:
        """The stored validators for ``url``, if any."""
        ...


@dataclass(frozen=True)
class NewValidators:
    """Validators of a response in this run, owed to the database once its source succeeds."""

    source_id: str | None
    url: str
    etag: str | None
    last_modified: str | None
    status: int


class DbValidatorStore:
    """Reads validators from the ``fetch_state`` table of ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, url: str) -> Validators | None:
        """The stored validators for ``url``, if any."""
        with Session(self.engine) as session:
            return repo.fetch_state_get(session, url)


def save_validators(session: Session, entries: Iterable[NewValidators]) -> int:
    """Write ``entries`` to ``fetch_state``; returns how many were written."""
    written = 0
    for entry in entries:
        repo.fetch_state_put(
            session,
            entry.url,
            etag=entry.etag,
            last_modified=entry.last_modified,
            status=entry.status,
        )
        written += 1
    return written
