"""Reading back what the store wrote, for assertions: counts and run records by id."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.store import db, repo, schema


def count_articles(session: Session) -> int:
    """How many articles are stored (duplicates included)."""
    return int(session.scalar(select(func.count()).select_from(schema.Article)) or 0)


def run_record(session: Session, run_id: int) -> repo.RunRecord:
    """The run ``run_id`` with its per-source rows (``LookupError`` when there is none)."""
    for record in repo.latest_runs(session, limit=1_000):
        if record.id == run_id:
            return record
    raise LookupError(f"no run {run_id}")


def downgrade(url: str, revision: str) -> None:
    """Revert the migrations of ``url`` down to ``revision`` (``base`` removes everything)."""
    command.downgrade(db.alembic_config(url), revision)
