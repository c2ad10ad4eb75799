"""``newswatch serve``: run the Prefect deployments on their schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import ConfigDirOption, DbOption, VerboseOption, config_files, resolve_db
from pipeline.settings import DAILY_CRON


def serve(
    db_url: DbOption = None,
    config_dir: ConfigDirOption = None,
    cron: Annotated[
        str, typer.Option("--cron", help="Schedule of the daily run (cron syntax, Hong Kong time).")
    ] = DAILY_CRON,
    replay: Annotated[
        Path | None, typer.Option("--replay", help="Serve recorded exchanges instead (demos).")
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Run the deployments on their schedule until interrupted (daily by default)."""
    url = resolve_db(db_url, verbose=verbose)
    config_files(config_dir, verbose=verbose)
    # Prefect and the flows load here, inside the one command that needs them.
    from prefect import serve as prefect_serve

    from flows.deployments import build_deployments

    prefect_serve(
        *build_deployments(
            url,
            config_dir=str(config_dir.resolve()) if config_dir else None,
            replay=str(replay.resolve()) if replay else None,
            cron=cron,
        )
    )
