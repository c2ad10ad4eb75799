"""``newswatch db upgrade``: the database schema."""

from __future__ import annotations

import typer

from pipeline.cli.common import DbOption, console, fail
from pipeline.errors import NewswatchError

db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db_url: DbOption = None) -> None:
    """Apply the database migrations (creates the database if needed)."""
    from pipeline.store import db

    url = db.resolve_db_url(db_url)
    try:
        db.upgrade(url)
    except NewswatchError as exc:
        fail(str(exc))
    console.print(f"database {url} is at the latest schema")
