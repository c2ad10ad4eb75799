"""``newswatch serve``: run the Prefect deployments on their schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import DbOption


def serve(
    db_url: DbOption = None,
    cron: Annotated[
        str, typer.Option("--cron", help="Schedule (cron syntax, Hong Kong time).")
    ] = "0 7 * * *",
    replay: Annotated[
        Path | None, typer.Option("--replay", help="Serve recorded exchanges instead (demos).")
    ] = None,
) -> None:
    """Run the deployments on their schedule until interrupted (daily by default)."""
    # Prefect and the flows load here, inside the one command that needs them.
    from prefect import serve as prefect_serve

    from flows.deployments import build_deployments
    from pipeline.store import db

    url = db.resolve_db_url(db_url)
    prefect_serve(*build_deployments(url, replay=str(replay) if replay else None, cron=cron))
