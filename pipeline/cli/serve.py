"""``newswatch serve``: run the Prefect deployments on their schedule (``flows/deployments.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import (
    ConfigDirOption,
    DbOption,
    VerboseOption,
    config_files,
    resolve_db,
    say,
)
from pipeline.settings import DAILY_CRON, default_contact_warning


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
    """Run every deployment on its schedule from this one process, until interrupted.

    daily: every enabled source at 07:00 Hong Kong time (--cron changes it).
    regulators: the regulator sources (regulator = true) every 30 minutes.
    send-alerts: every 5 minutes (digests at their hour, failed deliveries retried).
    news, backfill, retag: started on demand. Each ingestion sends its alerts when it ends.
    prefect.yaml describes the same deployments for a Prefect server and a work pool.
    """
    url = resolve_db(db_url, verbose=verbose)
    config_files(config_dir, verbose=verbose)
    if replay is None:
        warning = default_contact_warning()
        if warning:
            say(warning, "yellow", stderr=True)
    from flows.quiet import quiet_prefect

    # No summary follows a served run: a failed source keeps Prefect's one line about it.
    quiet_prefect(verbose=verbose, summary=False)
    from flows.prefect_server import keep_prefect_server

    # Without PREFECT_API_URL, a Prefect server with its scheduler, ending with this process.
    keep_prefect_server()
    from flows.served_runs import mark_serving

    mark_serving()  # and so do the runs Prefect starts in processes of their own
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
