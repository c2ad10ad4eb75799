"""``newswatch alerts list|send|test``: the alert outbox and its channels."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
    exit_with_problems,
    fail,
    open_engine,
    print_csv,
    say,
)
from pipeline.errors import ConfigError, NewswatchError

if TYPE_CHECKING:
    from pipeline.alerts.config import AlertsConfig

alerts_app = typer.Typer(help="Inspect, send and test alerts.", no_args_is_help=True)


@alerts_app.command("list")
def alerts_list(
    status: Annotated[str | None, typer.Option("--status", help="pending, sent or failed.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    db_url: DbOption = None,
) -> None:
    """List alerts in the outbox, newest first."""
    from sqlalchemy.orm import Session

    from pipeline.alerts.channels import alert_record
    from pipeline.store import repo

    if status not in (None, "pending", "sent", "failed"):
        fail(f"--status: {status!r} is not one of pending, sent, failed")
    engine = open_engine(db_url)
    with Session(engine) as session:
        alerts = repo.list_alerts(session, status=status, limit=limit)
    rows = [alert_record(alert) for alert in alerts]
    if output is OutputFormat.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif output is OutputFormat.csv:
        print_csv(
            rows, ["id", "status", "rule", "channel", "source", "published_at", "title", "url"]
        )
    else:
        table = Table()
        for column in ("id", "status", "channel", "source", "published", "title"):
            table.add_column(column, overflow="fold")
        for alert in alerts:
            published = _local_day(alert.published_at)
            # Titles come from the sites: "[Update]" is text, not markup.
            table.add_row(
                str(alert.id),
                alert.status,
                Text(alert.channel),
                Text(alert.source_id),
                published,
                Text(alert.title),
            )
        console.print(table)


def _load_config(
    config_dir: Path | None,
    alerts_path: Path | None,
    sources_path: Path | None,
    taxonomy_path: Path | None,
    verbose: bool,
) -> AlertsConfig:
    """alerts.toml, checked against sources.toml and the taxonomy when those load; ends the
    command with every problem found."""
    from pipeline.configuration import load_alerts_config

    files = config_files(
        config_dir,
        sources=sources_path,
        taxonomy=taxonomy_path,
        alerts=alerts_path,
        verbose=verbose,
    )
    try:
        return load_alerts_config(files)
    except ConfigError as exc:
        exit_with_problems(exc.problems)


def _local_day(moment: datetime | None) -> str:
    """The Hong Kong date of ``moment``, as the other commands show dates."""
    from pipeline.dates import local_time

    local = local_time(moment)
    return local.date().isoformat() if local else ""


@alerts_app.command("send")
def alerts_send(
    db_url: DbOption = None,
    config_dir: ConfigDirOption = None,
    alerts_path: AlertsOption = None,
    sources_path: SourcesOption = None,
    taxonomy_path: TaxonomyOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Deliver every pending alert through its channel."""
    from pipeline.alerts import deliver_pending

    config = _load_config(config_dir, alerts_path, sources_path, taxonomy_path, verbose)
    report = deliver_pending(open_engine(db_url, verbose=verbose), config, console=console)
    console.print(f"{report.sent} sent, {report.failed} failed, {report.waiting} waiting")
    for error in report.errors:
        say(error, "red", stderr=True)
    if report.failed:
        raise typer.Exit(1)


@alerts_app.command("test")
def alerts_test(
    config_dir: ConfigDirOption = None,
    alerts_path: AlertsOption = None,
    sources_path: SourcesOption = None,
    taxonomy_path: TaxonomyOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Send a test alert through every enabled channel (nothing is stored)."""
    from pipeline.alerts.channels import build_channel
    from pipeline.models import Alert

    config = _load_config(config_dir, alerts_path, sources_path, taxonomy_path, verbose)
    now = datetime.now(UTC)
    failures = 0
    for channel_id, channel_config in config.channels.items():
        if not channel_config.enabled:
            say(f"{channel_id}: disabled, skipped")
            continue
        alert = Alert(
            id=0,
            article_id=0,
            source_id="newswatch",
            rule="test",
            channel=channel_id,
            title="newswatch test alert",
            url="https://example.org/newswatch/test",
            published_at=now,
            created_at=now,
            snippet="If you can read this, the channel works.",
        )
        try:
            build_channel(channel_config, console=console).send(alert)
            say(f"{channel_id}: ok")
        except NewswatchError as exc:
            failures += 1
            say(f"{channel_id}: {exc}", "red", stderr=True)
    if failures:
        raise typer.Exit(1)
