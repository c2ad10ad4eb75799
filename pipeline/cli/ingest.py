"""``newswatch ingest``: one run of the daily (or backfill) flow, and its summary."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.common import (
    AlertsOption,
    DbOption,
    OutputFormat,
    SourcesOption,
    TaxonomyOption,
    console,
    err_console,
    fail,
    parse_when,
)
from pipeline.errors import NewswatchError


def ingest(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only these source ids (repeatable).")
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", help="Serve recorded exchanges from DIR instead of the network."),
    ] = None,
    db_url: DbOption = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Backfill: also read items published since DATE.")
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Take DATE as the current time (e.g. when replaying answers recorded then).",
        ),
    ] = None,
    sources_path: SourcesOption = Path("sources.toml"),
    taxonomy_path: TaxonomyOption = Path("taxonomy.toml"),
    alerts_path: AlertsOption = Path("alerts.toml"),
    output: Annotated[
        OutputFormat, typer.Option("--format", help="Summary as a table or JSON.")
    ] = OutputFormat.table,
) -> None:
    """Run the daily ingestion flow once and print a summary per source."""
    from pipeline.store import db

    url = db.resolve_db_url(db_url)
    since_at = parse_when(since, "--since")
    now_at = parse_when(now, "--now")
    if replay is not None and not replay.is_dir():
        fail(f"--replay: {replay} is not a directory")
    arguments: dict[str, Any] = {
        "db_url": url,
        "sources_path": str(sources_path),
        "taxonomy_path": str(taxonomy_path),
        "alerts_path": str(alerts_path),
        "replay": str(replay) if replay else None,
        "source_ids": list(source or []),
        "now": now_at,
    }
    # Prefect is imported here, only once the arguments are known to be good: the other
    # commands never pay for it.
    try:
        if since_at is not None:
            from flows.quiet import quiet_embedded_server

            quiet_embedded_server()
            from flows.backfill import backfill

            result = asyncio.run(backfill(since=since_at, **arguments))
        else:
            from flows.quiet import quiet_embedded_server

            quiet_embedded_server()
            from flows.daily_ingest import daily_ingest

            result = asyncio.run(daily_ingest(**arguments))
    except NewswatchError as exc:
        fail(str(exc))
    if output is OutputFormat.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print_run_summary(result, url)
    if result["status"] == "failed":
        raise typer.Exit(1)


def _print_run_summary(result: dict[str, Any], url: str) -> None:
    if result.get("error"):
        err_console.print(f"[bold red]run {result['run_id']} failed:[/] {result['error']}")
        return
    table = Table(title=f"Run {result['run_id']}: {result['status']}", title_justify="left")
    for column in ("source", "status", "found", "new", "duplicates", "errors"):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    totals = [0, 0, 0, 0]
    for source_id, row in result["sources"].items():
        counts = [row["found"], row["new"], row["duplicates"], row["errors"]]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        style = "red" if row["status"] == "failed" else None
        table.add_row(source_id, row["status"], *map(str, counts), style=style)
    table.add_section()
    table.add_row("total", "", *map(str, totals), style="bold")
    console.print(table)
    for source_id, row in result["sources"].items():
        if row["error"]:
            console.print(f"[red]{source_id}[/]: {row['error']}", highlight=False)
        for note in row.get("notes", []):
            console.print(f"[yellow]{source_id}[/]: {note}", highlight=False)
        if row.get("updated"):
            console.print(f"{source_id}: {row['updated']} stored item(s) updated", highlight=False)
    console.print(
        f"{result['new_articles']} new articles; {result['alerts_queued']} alert deliveries "
        f"queued (one per article, rule and channel), {result['alerts_sent']} delivered. "
        f"Database: {url}",
        highlight=False,
    )
