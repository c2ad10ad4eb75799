"""Fetch state: the validators (ETag, Last-Modified) of each URL's latest response, for the next
conditional GET."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pipeline.store.schema import FetchState
from pipeline.store.sql import dialect_insert, utc_now


@dataclass(frozen=True)
class Validators:
    """What the last response for a URL said, for the next conditional request."""

    etag: str | None
    last_modified: str | None
    last_status: int | None = None
    content_hash: str | None = None


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
