"""The ``newswatch`` command.

Commands that run no flow (search, alerts list, sources check, db upgrade) never import Prefect:
importing it alone costs about a second, and analysts' commands should answer at once.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pipeline.errors import ConfigError, NewswatchError

app = typer.Typer(
    name="newswatch",
    help="Hong Kong fintech and regulatory news: ingest, search, alert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
alerts_app = typer.Typer(help="Inspect, send and test alerts.", no_args_is_help=True)
sources_app = typer.Typer(help="Inspect the configured sources.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
app.add_typer(sources_app, name="sources")
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL; falls back to NEWSWATCH_DB_URL, then sqlite:///newswatch.db.",
        show_default=False,
    ),
]
SourcesOption = Annotated[Path, typer.Option("--sources", help="Sources file.")]
TaxonomyOption = Annotated[Path, typer.Option("--taxonomy", help="Taxonomy file.")]
AlertsOption = Annotated[Path, typer.Option("--alerts", help="Alert rules and channels file.")]


class OutputFormat(StrEnum):
    """How query results are printed."""

    table = "table"
    json = "json"
    csv = "csv"


class ReportFormat(StrEnum):
    """How a report of what a command did is printed."""

    table = "table"
    json = "json"


def _fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _parse_when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    from pipeline.dates import parse_date

    parsed = parse_date(value)
    if parsed is None:
        _fail(f"{name}: cannot read {value!r} as a date (try YYYY-MM-DD)")
    return parsed


def _engine(db_url: str | None) -> Any:
    from pipeline.store import db

    url = db.resolve_db_url(db_url)
    engine = db.make_engine(url)
    try:
        db.check_schema(engine)
    except NewswatchError as exc:
        _fail(str(exc))
    return engine


@app.command()
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
    since_at = _parse_when(since, "--since")
    now_at = _parse_when(now, "--now")
    if replay is not None and not replay.is_dir():
        _fail(f"--replay: {replay} is not a directory")
    arguments: dict[str, Any] = {
        "db_url": url,
        "sources_path": str(sources_path),
        "taxonomy_path": str(taxonomy_path),
        "alerts_path": str(alerts_path),
        "replay": str(replay) if replay else None,
        "source_ids": list(source or []),
        "now": now_at,
    }
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
        _fail(str(exc))
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


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="Full-text query.")] = None,
    entity: Annotated[str | None, typer.Option("--entity", help="Tagged with this entity.")] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Tagged with this topic.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="From this source id.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Published on or after.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Published before.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    db_url: DbOption = None,
) -> None:
    """Search stored articles by text, entity, topic, source and date."""
    from sqlalchemy.orm import Session

    from pipeline.store.search import search_articles

    since_at, until_at = _parse_when(since, "--since"), _parse_when(until, "--until")
    engine = _engine(db_url)
    with Session(engine) as session:
        hits = search_articles(
            session,
            query,
            entity=entity,
            topic=topic,
            source=source,
            since=since_at,
            until=until_at,
            limit=limit,
        )
    rows = [_hit_record(hit) for hit in hits]
    if output is OutputFormat.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif output is OutputFormat.csv:
        _print_csv(rows, ["id", "published_at", "source", "title", "url", "tags"])
    else:
        table = Table(show_lines=False)
        for column in ("published", "source", "title", "tags"):
            table.add_column(column, overflow="fold")
        for row in rows:
            tags = ", ".join(t["name"] for t in row["tags"][:6])
            table.add_row((row["published_at"] or "")[:10], row["source"], row["title"], tags)
        console.print(table)
        console.print(f"{len(rows)} article(s)")


def _local_iso(dt: datetime | None) -> str | None:
    """A timestamp as Hong Kong time, ISO 8601 with its offset."""
    from pipeline.dates import local_time

    local = local_time(dt)
    return local.isoformat() if local else None


def _hit_record(hit: Any) -> dict[str, Any]:
    return {
        "id": hit.id,
        "title": hit.title,
        "url": hit.url,
        "canonical_url": hit.canonical_url,
        "source": hit.source_id,
        "published_at": _local_iso(hit.published_at),
        "doc_type": hit.doc_type,
        "regulator": hit.regulator,
        "snippet": hit.snippet,
        "text": hit.text,
        "tags": [
            {"id": t[0], "name": t[1], "kind": t[2], "count": t[3], "evidence": list(t[4])}
            for t in hit.tags
        ],
    }


def _print_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        values = []
        for column in columns:
            value = row.get(column)
            if column == "tags":
                value = ";".join(t["id"] for t in row["tags"])
            values.append("" if value is None else value)
        writer.writerow(values)
    sys.stdout.write(buffer.getvalue())


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
        _fail(f"--status: {status!r} is not one of pending, sent, failed")
    engine = _engine(db_url)
    with Session(engine) as session:
        alerts = repo.list_alerts(session, status=status, limit=limit)
    rows = [alert_record(alert) for alert in alerts]
    if output is OutputFormat.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif output is OutputFormat.csv:
        _print_csv(
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

    try:
        config = load_alerts(alerts_path)
    except ConfigError as exc:
        _fail("\n".join(exc.problems))
    report = deliver_pending(_engine(db_url), config, console=console)
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

    try:
        config = load_alerts(alerts_path)
    except ConfigError as exc:
        _fail("\n".join(exc.problems))
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


@sources_app.command("check")
def sources_check(
    sources_path: SourcesOption = Path("sources.toml"),
    taxonomy_path: TaxonomyOption = Path("taxonomy.toml"),
    alerts_path: AlertsOption = Path("alerts.toml"),
) -> None:
    """Validate the configuration files and print every problem with its file, entry and field."""
    from pipeline.config import check_sources, load_alerts
    from pipeline.tag import Tagger

    sources, problems = check_sources(sources_path)
    for label, loader, path in (
        ("taxonomy", Tagger.from_path, taxonomy_path),
        ("alerts", load_alerts, alerts_path),
    ):
        try:
            loader(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
        except NewswatchError as exc:
            problems.append(f"{path}: {label}: {exc}")
    if problems:
        for problem in problems:
            err_console.print(f"[red]✗[/] {problem}", highlight=False)
        err_console.print(f"{len(problems)} problem(s) found")
        raise typer.Exit(1)
    enabled = sum(1 for s in sources if s.enabled)
    console.print(f"✓ {len(sources)} sources ({enabled} enabled), taxonomy and alerts are valid")


@sources_app.command("list")
def sources_list(sources_path: SourcesOption = Path("sources.toml")) -> None:
    """List the configured sources."""
    from pipeline.config import load_sources

    try:
        sources = load_sources(sources_path)
    except ConfigError as exc:
        _fail("\n".join(exc.problems))
    table = Table()
    for column in ("id", "kind", "regulator", "doc_type", "enabled", "url"):
        table.add_column(column, overflow="fold")
    for s in sources:
        table.add_row(
            s.id, s.kind, "yes" if s.regulator else "", s.doc_type, str(s.enabled), s.urls[0]
        )
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(db_url: DbOption = None) -> None:
    """Apply the database migrations (creates the database if needed)."""
    from pipeline.store import db

    url = db.resolve_db_url(db_url)
    try:
        db.upgrade(url)
    except NewswatchError as exc:
        _fail(str(exc))
    console.print(f"database {url} is at the latest schema")


@app.command()
def runs(
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 10,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    db_url: DbOption = None,
) -> None:
    """Show recent runs with their per-source counts and errors."""
    from sqlalchemy.orm import Session

    from pipeline.store import repo

    engine = _engine(db_url)
    with Session(engine) as session:
        records = repo.latest_runs(session, limit=limit)
    rows = [repo.run_record_dict(r) for r in records]
    if output is not OutputFormat.table:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    for row in rows:
        console.print(
            f"run {row['id']} {row['status']} started {row['started_at']}"
            + (f" error: {row['error']}" if row.get("error") else ""),
            highlight=False,
        )
        for src in row["sources"]:
            if src["error"]:
                console.print(f"  [red]{src['source_id']}[/]: {src['error']}", highlight=False)


@app.command()
def retag(
    db_url: DbOption = None,
    taxonomy_path: TaxonomyOption = Path("taxonomy.toml"),
    all_articles: Annotated[
        bool,
        typer.Option("--all", help="Re-tag every article, not only those of older versions."),
    ] = False,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="Report as a table or JSON.")
    ] = ReportFormat.table,
) -> None:
    """Re-tag stored articles after taxonomy.toml changes; show which tags were gained or lost."""
    from pipeline.retag import retag_articles
    from pipeline.tag import Tagger

    try:
        tagger = Tagger.from_path(taxonomy_path)
    except ConfigError as exc:
        _fail("\n".join(exc.problems))
    engine = _engine(db_url)
    try:
        report = retag_articles(engine, tagger, all_articles=all_articles)
    except NewswatchError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    if output is ReportFormat.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    console.print(
        f"taxonomy {report.taxonomy_version}: {report.considered} articles considered,"
        f" {report.rewritten} rewritten, {report.unchanged} unchanged",
        highlight=False,
    )
    changes = report.changes()
    if not changes:
        return
    table = Table()
    for column in ("tag", "name", "gained", "lost"):
        table.add_column(column, justify="right" if column in ("gained", "lost") else "left")
    for change in changes:
        table.add_row(change.tag_id, change.name, str(change.gained), str(change.lost))
    console.print(table)


@app.command()
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
    from prefect import serve as prefect_serve

    from flows.deployments import build_deployments
    from pipeline.store import db

    url = db.resolve_db_url(db_url)
    prefect_serve(*build_deployments(url, replay=str(replay) if replay else None, cron=cron))


def main() -> None:
    """Entry point for ``python -m pipeline.cli``."""
    app()


if __name__ == "__main__":
    main()
