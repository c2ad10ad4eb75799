"""``newswatch db upgrade``: the database schema."""

from __future__ import annotations

import typer

from pipeline.cli.common import DbOption, VerboseOption, console, fail_on, resolve_db
from pipeline.errors import NewswatchError

db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db_url: DbOption = None, verbose: VerboseOption = False) -> None:
    """Apply the database migrations (creates the database if needed)."""
    from pipeline.store import db

    url = resolve_db(db_url, verbose=verbose)
    try:
        db.upgrade(url)
    except NewswatchError as exc:
        fail_on(exc)
    console.print(f"database {db.display_url(url)} is at the latest schema", highlight=False)
