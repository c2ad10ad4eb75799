"""The ``newswatch`` command.

One module per command group; this one builds the Typer ``app`` from them. Commands that run no
flow (search, alerts list, sources check, db upgrade) never import Prefect: importing it alone
costs about a second, and analysts' commands should answer at once. So the command modules import
only Typer, Rich and the standard library at module level, and each command imports what it needs
when it runs.
"""

from __future__ import annotations

import typer

from pipeline.cli import (
    alerts,
    db,
    export,
    health,
    ingest,
    query,
    report,
    retag,
    runs,
    serve,
    show,
    sources,
    stories,
)

app = typer.Typer(
    name="newswatch",
    help="Hong Kong fintech and regulatory news: ingest, search, alert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(alerts.alerts_app, name="alerts")
app.add_typer(sources.sources_app, name="sources")
app.add_typer(db.db_app, name="db")
app.add_typer(stories.stories_app, name="stories")
app.add_typer(runs.runs_app, name="runs")
# Registration order is the order `newswatch --help` lists the commands in.
app.command()(ingest.ingest)
app.command()(query.search)
app.command()(export.export)
app.command()(report.report)
app.command()(health.health)
app.command()(show.show)
app.command()(retag.retag)
app.command()(serve.serve)


def main() -> None:
    """Entry point for ``python -m pipeline.cli``."""
    app()
