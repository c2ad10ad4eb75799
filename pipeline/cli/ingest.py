"""``newswatch ingest``: one run of the daily (or backfill) flow, and its summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import (
    AlertsOption,
    ConfigDirOption,
    DbOption,
    OutputFormat,
    SourcesOption,
    TaxonomyOption,
    VerboseOption,
    config_files,
    console,
    fail,
    fail_on,
    parse_when,
    resolve_db,
    say,
)
from pipeline.errors import NewswatchError

SourceIdsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--source",
        "-s",
        help=(
            "Only these source ids (repeatable); read even when paused or backing off"
            " (`newswatch sources list` shows which)."
        ),
    ),
]
PartitionOption = Annotated[
    str | None,
    typer.Option(
        "--partition",
        help=(
            "Only one part of the enabled sources: `regulators` (regulator = true) or `news`"
            " (the rest); two machines can each run one."
        ),
    ),
]
ReplayOption = Annotated[
    Path | None,
    typer.Option("--replay", help="Serve recorded exchanges from DIR instead of the network."),
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Backfill: also read items published since DATE.")
]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now", help="Take DATE as the current time (e.g. when replaying answers recorded then)."
    ),
]
SummaryOption = Annotated[
    OutputFormat, typer.Option("--format", help="Summary as a table or JSON.")
]


def ingest(
    source: SourceIdsOption = None,
    partition: PartitionOption = None,
    replay: ReplayOption = None,
    db_url: DbOption = None,
    since: SinceOption = None,
    now: NowOption = None,
    config_dir: ConfigDirOption = None,
    sources_path: SourcesOption = None,
    taxonomy_path: TaxonomyOption = None,
    alerts_path: AlertsOption = None,
    verbose: VerboseOption = False,
    output: SummaryOption = OutputFormat.table,
) -> None:
    """Run the daily ingestion flow once and print a summary per source.

    A new, empty database gets its schema first; the configuration is checked before the flow
    starts, and every problem in it is printed. Paused sources and those backing off after
    failed runs are skipped, each with the reason and when it is tried next. Alerts are sent at
    the end; the command exits non-zero when the run failed or an alert could not be delivered
    (it stays owed and is retried by the next send).
    """
    url = resolve_db(db_url, verbose=verbose)
    since_at = parse_when(since, "--since")
    now_at = parse_when(now, "--now")
    if replay is not None and not replay.is_dir():
        fail(f"--replay: {replay} is not a directory")
    files = config_files(
        config_dir,
        sources=sources_path,
        taxonomy=taxonomy_path,
        alerts=alerts_path,
        verbose=verbose,
    )
    arguments: dict[str, Any] = {
        "db_url": url,
        "sources_path": str(files.sources.path),
        "taxonomy_path": str(files.taxonomy.path),
        "alerts_path": str(files.alerts.path),
        "replay": str(replay.resolve()) if replay else None,
        "source_ids": list(source or []),
        "partition": partition,
        "since": since_at,
        "now": now_at,
    }
    _check_before_flow(arguments)
    if replay is None:
        from pipeline.settings import default_contact_warning

        warning = default_contact_warning()
        if warning:
            say(warning, "yellow", stderr=True)
    from flows.quiet import quiet_prefect

    # Before the flow imports Prefect: the summary below names each failed source and fault.
    quiet_prefect(verbose=verbose, summary=True)
    result = _run_flow(arguments)
    if output is OutputFormat.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print_run_summary(result, url)
    delivery = result.get("alerts") or {}
    for error in delivery.get("errors", []):
        say(f"alert delivery failed: {error}", "red", stderr=True)
    undelivered = sum(delivery.get(k, 0) for k in ("failed", "unknown", "dead"))
    if result["status"] == "failed" or undelivered:
        raise typer.Exit(1)


def _check_before_flow(arguments: dict[str, Any]) -> None:
    """Configuration and database, checked in a fraction of a second rather than after the
    seconds Prefect takes to start: every configuration problem at once, a schema to upgrade."""
    from pipeline.ingest.launch import IngestOptions, load_run_config
    from pipeline.store import db

    options = IngestOptions(
        db_url=arguments["db_url"],
        sources_path=Path(arguments["sources_path"]),
        taxonomy_path=Path(arguments["taxonomy_path"]),
        alerts_path=Path(arguments["alerts_path"]),
        source_ids=arguments["source_ids"],
        partition=arguments["partition"],
    )
    try:
        db.make_engine(options.db_url).dispose()
        load_run_config(options)
        db.prepare_schema(options.db_url)
    except NewswatchError as exc:
        fail_on(exc)


def _run_flow(arguments: dict[str, Any]) -> dict[str, Any]:
    """Run the flow (the backfill when a ``since`` is given); Prefect is imported only here.

    Prefect's temporary server, when one is needed, belongs to this process: it is stopped
    however the run ends, also on Ctrl-C, SIGTERM or SIGKILL (``flows.prefect_server``). A
    backfill shows its progress on stderr (``pipeline.ingest.progress``)."""
    import asyncio

    from flows.prefect_server import prefect_server
    from flows.quiet import quiet_embedded_server
    from pipeline.cli.progress import progress_reporter
    from pipeline.ingest.progress import watch_progress

    quiet_embedded_server()
    backfilling = arguments["since"] is not None
    label = "backfill: items fetched and stored"
    try:
        # Started before the flows are imported: its start-up overlaps theirs.
        with prefect_server():
            from flows.daily_ingest import backfill, daily_ingest

            flow = backfill if backfilling else daily_ingest
            reporter = progress_reporter(label, enabled=backfilling)
            with reporter as progress, watch_progress(progress):
                result: dict[str, Any] = asyncio.run(flow(**arguments))
    except NewswatchError as exc:
        fail_on(exc)
    return result


def _print_run_summary(result: dict[str, Any], url: str) -> None:
    if result.get("error"):
        say(f"run {result['run_id']} failed: {result['error']}", "bold red", stderr=True)
        return
    table = Table(title=f"Run {result['run_id']}: {result['status']}", title_justify="left")
    for column in ("source", "status", "found", "new", "duplicates", "errors"):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    totals = [0, 0, 0, 0]
    for source_id, row in result["sources"].items():
        counts = [row["found"], row["new"], row["duplicates"], row["errors"]]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        style = "red" if row["status"] == "failed" else None
        table.add_row(Text(source_id), row["status"], *map(str, counts), style=style)
    table.add_section()
    table.add_row("total", "", *map(str, totals), style="bold")
    console.print(table)
    for source_id, row in result["sources"].items():
        if row.get("skipped"):
            # The reason says when the source is tried next (Hong Kong time) or how to resume it.
            console.print(
                Text.assemble((source_id, "yellow"), f": skipped, {row['skipped']}"),
                highlight=False,
            )
        if row["error"]:
            # One line, however long: the source and its fault, to be searched for as written.
            console.print(
                Text.assemble((source_id, "red"), f": {row['error']}"),
                highlight=False,
                soft_wrap=True,
            )
        for note in row.get("notes", []):
            console.print(Text.assemble((source_id, "yellow"), f": {note}"), highlight=False)
        if row.get("updated"):
            say(f"{source_id}: {row['updated']} stored item(s) updated")
    from pipeline.store import db

    delivery = result.get("alerts") or {}
    problems = delivery.get("failed", 0) + delivery.get("unknown", 0) + delivery.get("dead", 0)
    say(
        f"{result['new_articles']} new articles; {result['alerts_queued']} alerts queued;"
        f" alert messages: {delivery.get('sent', 0)} sent, {problems} failed,"
        f" {delivery.get('waiting', 0)} waiting. Database: {db.display_url(url)}",
        "red" if problems else None,
    )
