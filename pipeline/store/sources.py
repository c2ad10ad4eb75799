"""The ``sources`` table mirrors ``sources.toml``: every configured source has a row."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from pipeline.models import Source
from pipeline.store.schema import SourceRow
from pipeline.store.sql import dialect_insert


def sync_sources(session: Session, sources: Iterable[Source]) -> None:
    """Insert or update the ``sources`` rows from the configuration."""
    rows = {
        s.id: {
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "lang": s.lang,
            "regulator": s.regulator,
            "doc_type": s.doc_type,
            "enabled": s.enabled,
            "urls": list(s.urls),
        }
        for s in sources
    }
    if not rows:
        return
    stmt = dialect_insert(session, SourceRow).values(list(rows.values()))
    updated = ("name", "kind", "lang", "regulator", "doc_type", "enabled", "urls")
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"], set_={name: stmt.excluded[name] for name in updated}
        ),
        rows,
    )
