"""``newswatch alerts list|send|test|retry|preview``: the alert outbox and its channels.

An alert is owed once per rule, story and channel; ``send`` claims owed rows before sending,
so it may run beside an ingestion or another ``send``. ``list`` shows every row with its
attempts and last error, ``retry`` revives rows that ran out of attempts, ``test`` sends a
sample through a channel, ``preview`` shows what a rule would have matched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import (
    MAX_ID,
    PAGE_ROWS,
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
    open_reader,
    parse_when,
    print_csv,
    say,
)
from pipeline.errors import ConfigError, NewswatchError

if TYPE_CHECKING:
    from pipeline.alerts.config import AlertsConfig
    from pipeline.store.alert_reads import OutboxRow

alerts_app = typer.Typer(
    help="Inspect, send, retry, test and preview alerts.", no_args_is_help=True
)

# Kept in step with pipeline.store.schema.ALERT_STATUSES, which the CLI does not import.
STATUSES = ("pending", "sending", "sent", "failed", "unknown", "dead", "baselined")
LIST_COLUMNS = ["id", "status", "rule", "channel", "story_id", "source", "published_at"]
LIST_COLUMNS += ["title", "url", "attempts", "last_error", "key"]

FormatOption = Annotated[OutputFormat, typer.Option("--format", help="Output format.")]


def _local(moment: datetime | None, *, day: bool = False) -> str:
    """``moment`` in Hong Kong time, as the other commands show times."""
    if moment is None:
        return ""
    # zoneinfo, not pipeline.dates (as local_iso): its imports would cost ``list`` 15 ms.
    from zoneinfo import ZoneInfo

    from pipeline.settings import HONG_KONG_TZ

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(HONG_KONG_TZ))
    return local.date().isoformat() if day else local.isoformat(timespec="minutes")


def _record(row: OutboxRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "rule": row.rule,
        "channel": row.channel,
        "story_id": row.story_id,
        "article_id": row.article_id,
        "event": row.event,
        "severity": row.severity,
        "source": row.source_id,
        "published_at": _local(row.published_at),
        "title": row.title,
        "url": row.url,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "created_at": _local(row.created_at),
        "sent_at": _local(row.sent_at),
        "next_attempt_at": _local(row.next_attempt_at),
        "key": row.key,
    }


@alerts_app.command("list")
def alerts_list(
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help=f"Only this status (repeatable): {', '.join(STATUSES)}."),
    ] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule's alerts.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel.")] = None,
    story: Annotated[
        int | None, typer.Option("--story", min=1, max=MAX_ID, help="Only this story's.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only alerts queued since DATE.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = PAGE_ROWS,
    output: FormatOption = OutputFormat.table,
    db_url: DbOption = None,
) -> None:
    """List alerts in the outbox, newest first, saying how many more matched."""
    from pipeline.store import alert_reads

    for value in status or []:
        if value not in STATUSES:
            fail(f"--status: {value!r} is not one of {', '.join(STATUSES)}")
    where = alert_reads.OutboxFilter(
        statuses=tuple(status or ()),
        rule=rule,
        channel=channel,
        story_id=story,
        since=parse_when(since, "--since"),
    )
    reader = open_reader(db_url)
    try:
        rows = alert_reads.outbox_rows(reader, where, limit=limit)
        total = alert_reads.count_outbox_rows(reader, where)
    except NewswatchError as exc:
        fail(str(exc))
    finally:
        reader.close()
    records = [_record(row) for row in rows]
    if output is OutputFormat.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    elif output is OutputFormat.csv:
        print_csv(records, LIST_COLUMNS)
    else:
        console.print(_table(rows))
    if total > len(rows):
        # On stderr: JSON and CSV on stdout stay what a program expects.
        say(
            f"{total - len(rows)} more alert(s) match, not shown (--limit {total} shows all)",
            "yellow",
            stderr=True,
        )


def _table(rows: list[OutboxRow]) -> Table:
    table = Table()
    for column in ("id", "status", "rule", "channel", "story", "published", "tries"):
        table.add_column(column, overflow="fold")
    table.add_column("alert (source, title, url)", overflow="fold", ratio=3)
    table.add_column("last error", overflow="fold", ratio=2)
    for row in rows:
        # Titles and errors come from the sites and receivers: "[Update]" is text, not markup.
        table.add_row(
            str(row.id),
            row.status,
            Text(row.rule),
            Text(row.channel),
            str(row.story_id),
            _local(row.published_at, day=True),
            str(row.attempts),
            Text(f"{row.source_id}: {row.title}\n{row.url}"),
            Text(row.last_error or ""),
        )
    return table


def _load_config(
    config_dir: Path | None,
    alerts_path: Path | None,
    sources_path: Path | None,
    taxonomy_path: Path | None,
    verbose: bool,
) -> AlertsConfig:
    """alerts.toml, checked against sources.toml and the taxonomy when those load; ends the
    command with every problem found. A channel that cannot be used is named, not fatal."""
    from pipeline.alerts.config import channel_problems
    from pipeline.configuration import load_alerts_config

    files = config_files(
        config_dir,
        sources=sources_path,
        taxonomy=taxonomy_path,
        alerts=alerts_path,
        verbose=verbose,
    )
    try:
        config = load_alerts_config(files)
    except ConfigError as exc:
        exit_with_problems(exc.problems)
    for problem in channel_problems(config):
        say(f"warning: {problem}", "yellow", stderr=True)
    return config


@alerts_app.command("send")
def alerts_send(
    db_url: DbOption = None,
    config_dir: ConfigDirOption = None,
    alerts_path: AlertsOption = None,
    sources_path: SourcesOption = None,
    taxonomy_path: TaxonomyOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Deliver every owed alert that is due, failed ones too without waiting for their retry
    time; exits 1 when a delivery failed."""
    from pipeline.alerts import send_alerts

    config = _load_config(config_dir, alerts_path, sources_path, taxonomy_path, verbose)
    report = send_alerts(open_engine(db_url, verbose=verbose), config, retry_waiting=True)
    problems = report.failed + report.unknown + report.dead
    say(
        f"{report.sent} sent, {report.failed} failed, {report.unknown} of unknown outcome"
        f" (retried with the same key), {report.dead} dead, {report.waiting} waiting",
        "red" if problems else None,
    )
    for error in report.errors:
        say(error, "red", stderr=True)
    if problems:
        raise typer.Exit(1)


@alerts_app.command("retry")
def alerts_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Alert ids (see alerts list).")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Every such row of this rule.")] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Every such row of this channel.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every dead or failed row.")] = False,
    db_url: DbOption = None,
) -> None:
    """Make dead (and waiting failed) alerts owed now, with a fresh count of attempts."""
    from sqlalchemy.orm import Session

    from pipeline.store import repo

    if not (ids or rule or channel or every):
        fail("name the alerts to retry: ids, --rule, --channel or --all")
    with Session(open_engine(db_url)) as session, session.begin():
        revived = repo.retry_alerts(session, ids=ids or (), rule=rule, channel=channel)
    say(f"{revived} alert(s) owed again; `newswatch alerts send` delivers them")
    if ids and revived < len(ids):
        say("an alert that is not dead, failed or unknown is left as it is", "yellow")


@alerts_app.command("test")
def alerts_test(
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="Only this channel (repeatable).")
    ] = None,
    config_dir: ConfigDirOption = None,
    alerts_path: AlertsOption = None,
    sources_path: SourcesOption = None,
    taxonomy_path: TaxonomyOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Send a sample alert through each enabled channel, or those named (nothing is stored)."""
    from pipeline.alerts.sample import send_sample

    config = _load_config(config_dir, alerts_path, sources_path, taxonomy_path, verbose)
    for name in channel or []:
        if name not in config.channels:
            fail(f"--channel: {name!r} is not declared; declared: {', '.join(config.channels)}")
    failures = 0
    for channel_id, channel_config in config.channels.items():
        if channel and channel_id not in channel:
            continue
        if not channel_config.enabled and not channel:
            say(f"{channel_id}: disabled, skipped")
            continue
        error = send_sample(channel_config, console=console)
        if error is None:
            say(f"{channel_id}: ok")
        else:
            failures += 1
            say(f"{channel_id}: {error}", "red", stderr=True)
    if failures:
        raise typer.Exit(1)


@alerts_app.command("preview")
def alerts_preview(
    rule_id: Annotated[str, typer.Argument(help="The rule's id in alerts.toml.")],
    days: Annotated[int, typer.Option("--days", min=1, help="Look back this many days.")] = 30,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 50,
    output: FormatOption = OutputFormat.table,
    db_url: DbOption = None,
    config_dir: ConfigDirOption = None,
    alerts_path: AlertsOption = None,
    sources_path: SourcesOption = None,
    taxonomy_path: TaxonomyOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Which stored stories RULE would have alerted on in the last --days (nothing is queued)."""
    from pipeline.alerts.preview import preview_rule

    config = _load_config(config_dir, alerts_path, sources_path, taxonomy_path, verbose)
    rules = {rule.id: rule for rule in config.rules}
    if rule_id not in rules:
        fail(f"rule {rule_id!r} is not in alerts.toml; rules: {', '.join(rules) or 'none'}")
    hits = preview_rule(
        open_engine(db_url), rules[rule_id], since=datetime.now(UTC) - timedelta(days=days)
    )
    records = [
        {
            "story_id": hit.story_id,
            "matched_articles": hit.matched_articles,
            "article_id": hit.article.article_id,
            "source": hit.article.source_id,
            "published_at": _local(hit.article.published_at),
            "title": hit.article.title,
            "url": hit.article.url,
        }
        for hit in hits
    ]
    shown = records[-limit:]  # the most recent
    if output is OutputFormat.json:
        print(json.dumps(shown, indent=2, ensure_ascii=False))
    elif output is OutputFormat.csv:
        print_csv(shown, list(records[0]) if records else ["story_id"])
    else:
        table = Table(title=f"{rule_id}: {len(hits)} stories in the last {days} days")
        for column in ("story", "articles", "source", "published", "title"):
            table.add_column(column, overflow="fold")
        for hit in hits[-limit:]:
            table.add_row(
                str(hit.story_id),
                str(hit.matched_articles),
                Text(hit.article.source_id),
                _local(hit.article.published_at, day=True),
                Text(hit.article.title),
            )
        console.print(table)
    if len(records) > len(shown):
        say(f"{len(records) - len(shown)} older stories not shown (--limit)", "yellow", stderr=True)
