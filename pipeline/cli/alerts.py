"""``newswatch alerts list|send|test``: the alert outbox and its channels."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import (
    AlertsOption,
    DbOption,
    OutputFormat,
    console,
    err_console,
    fail,
    load_or_fail,
    open_engine,
    print_csv,
)
from pipeline.errors import NewswatchError

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
        for row in rows:
            published = (row["published_at"] or "")[:10]
            table.add_row(
                str(row["id"]),
                row["status"],
                row["channel"],
                row["source"],
                published,
                row["title"],
            )
        console.print(table)


@alerts_app.command("send")
def alerts_send(db_url: DbOption = None, alerts_path: AlertsOption = Path("alerts.toml")) -> None:
    """Deliver every pending alert through its channel."""
    from pipeline.alerts import deliver_pending
    from pipeline.config import load_alerts

    config = load_or_fail(load_alerts, alerts_path)
    report = deliver_pending(open_engine(db_url), config, console=console)
    console.print(f"{report.sent} sent, {report.failed} failed, {report.waiting} waiting")
    for error in report.errors:
        err_console.print(f"[red]{error}[/]", highlight=False)
    if report.failed:
        raise typer.Exit(1)


@alerts_app.command("test")
def alerts_test(alerts_path: AlertsOption = Path("alerts.toml")) -> None:
    """Send a test alert through every enabled channel (nothing is stored)."""
    from pipeline.alerts.channels import build_channel
    from pipeline.config import load_alerts
    from pipeline.models import Alert

    config = load_or_fail(load_alerts, alerts_path)
    now = datetime.now(UTC)
    failures = 0
    for channel_id, channel_config in config.channels.items():
        if not channel_config.enabled:
            console.print(f"{channel_id}: disabled, skipped")
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
            console.print(f"{channel_id}: ok")
        except NewswatchError as exc:
            failures += 1
            err_console.print(f"[red]{channel_id}: {exc}[/]", highlight=False)
    if failures:
        raise typer.Exit(1)
