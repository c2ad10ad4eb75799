"""``newswatch db upgrade`` and ``db optimize``: the database schema and its indexes."""

from __future__ import annotations

import typer

from pipeline.cli.common import DbOption, VerboseOption, console, fail_on, resolve_db, say
from pipeline.errors import NewswatchError

db_app = typer.Typer(help="Database schema and index management.", no_args_is_help=True)


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


@db_app.command("optimize")
def db_optimize(db_url: DbOption = None, verbose: VerboseOption = False) -> None:
    """Merge the full-text indexes (SQLite) or vacuum and analyse (Postgres), for faster
    searches; writers wait meanwhile (about 10 s a million articles on SQLite)."""
    from pipeline.store import db, maintenance

    url = resolve_db(db_url, verbose=verbose)
    try:
        steps = maintenance.optimize(url)
    except NewswatchError as exc:
        fail_on(exc)
    for step in steps:
        say(f"{step.done}: {step.seconds:.1f} s")
    say(f"database {db.display_url(url)} is optimized")
