"""``newswatch runs`` and ``newswatch runs show ID``: the recent runs with their per-source
counts, durations and errors, times in Hong Kong time.

Read through a ``Reader``: on a SQLite file the commands start without SQLAlchemy. Before
reading, a run left ``running`` by a process that died is marked ``crashed`` (one small write,
only when there is one).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import (
    MAX_ID,
    PAGE_ROWS,
    DbOption,
    OutputFormat,
    console,
    fail,
    open_reader,
    print_csv,
    say,
)
from pipeline.errors import NewswatchError

if TYPE_CHECKING:
    from pipeline.store.reader import Reader
    from pipeline.store.run_reads import RunRecord

runs_app = typer.Typer(
    help="Recent ingestion runs; `runs show ID` for one run's sources.",
    invoke_without_command=True,
)

CSV_COLUMNS = ["run_id", "run_status", "started_at", "finished_at", "run_duration", "run_error"]
CSV_COLUMNS += ["source_id", "status", "found", "new", "duplicates", "errors", "duration", "error"]
# Source outcomes in the order a run's summary counts them, and the counts it adds up.
OUTCOMES = ("ok", "partial", "failed", "skipped")
_COUNTS = ("found", "new", "duplicates", "errors")
# Failed sources a run's row names before saying how many more.
NAMED_FAILURES = 3
STATUS_STYLES = {
    "completed": "green",
    "completed_with_errors": "yellow",
    "failed": "red",
    "crashed": "bold red",
    "running": "cyan",
}
SOURCE_STYLES = {"ok": "green", "partial": "yellow", "failed": "red", "skipped": "dim"}

FormatOption = Annotated[OutputFormat, typer.Option("--format", help="Output format.")]


def mark_crashed(reader: Reader) -> None:
    """Mark the runs whose process died ``crashed``; a database that refuses the write (a
    read-only file) is said on stderr and read as it is."""
    from pipeline.store.run_reads import mark_crashed_runs

    try:
        mark_crashed_runs(reader)
    except NewswatchError as exc:
        say(f"warning: {exc}", "yellow", stderr=True)


@runs_app.callback(invoke_without_command=True)
def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = PAGE_ROWS,
    output: FormatOption = OutputFormat.table,
    db_url: DbOption = None,
) -> None:
    """Show recent runs, newest first: status, start (Hong Kong time), duration, sources ok,
    failed and skipped, articles found, new and duplicate, and the error."""
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.store.run_reads import count_runs, latest_runs

    reader = open_reader(db_url)
    try:
        mark_crashed(reader)
        records = latest_runs(reader, limit=limit)
        total = count_runs(reader)
    except NewswatchError as exc:
        fail(str(exc))
    finally:
        reader.close()
    now = datetime.now(UTC)
    if output is OutputFormat.json:
        print(json.dumps([_run_json(r, now) for r in records], indent=2, ensure_ascii=False))
    elif output is OutputFormat.csv:
        print_csv([row for r in records for row in _csv_rows(r, now)], CSV_COLUMNS)
    else:
        console.print(_runs_table(records, now))
        for record in records:
            if error := _run_error(record):
                # Errors quote sites: text, not markup; a line each, however long.
                say(f"run {record.id}: {error}", "red")
    if total > len(records):
        # On stderr: JSON and CSV on stdout stay what a program expects.
        say(
            f"{total - len(records)} more run(s), not shown (--limit {total} shows all)",
            "yellow",
            stderr=True,
        )


@runs_app.command("show")
def runs_show(
    run_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The run's id.")],
    output: FormatOption = OutputFormat.table,
    db_url: DbOption = None,
) -> None:
    """Show one run: every source's outcome, counts, duration and error; a missing id exits 1."""
    from pipeline.store.run_reads import run_by_id

    reader = open_reader(db_url)
    try:
        mark_crashed(reader)
        record = run_by_id(reader, run_id)
    except NewswatchError as exc:
        fail(str(exc))
    finally:
        reader.close()
    if record is None:
        fail(f"no run {run_id}")
    now = datetime.now(UTC)
    if output is OutputFormat.json:
        print(json.dumps(_run_json(record, now), indent=2, ensure_ascii=False))
    elif output is OutputFormat.csv:
        print_csv(_csv_rows(record, now), CSV_COLUMNS)
    else:
        _print_run(record, now)


def _run_json(record: RunRecord, now: datetime) -> dict[str, Any]:
    """The run as ``--format json`` gives it: times in Hong Kong time, durations in seconds."""
    from pipeline.store.run_reads import run_record_dict

    data = run_record_dict(record)
    data["duration"] = round(record.seconds(now), 3)
    data["totals"] = {
        **_outcomes(record),
        **{name: sum(getattr(s, name) for s in record.sources) for name in _COUNTS},
    }
    return data


def _outcomes(record: RunRecord) -> dict[str, int]:
    return {name: sum(s.status == name for s in record.sources) for name in OUTCOMES}


def _csv_rows(record: RunRecord, now: datetime) -> list[dict[str, Any]]:
    """One row per source of the run; a run without any (it failed before reading) one row."""
    from pipeline.cli.common import local_iso

    run = {
        "run_id": record.id,
        "run_status": record.status,
        "started_at": local_iso(record.started_at),
        "finished_at": local_iso(record.finished_at),
        "run_duration": round(record.seconds(now), 3),
        "run_error": record.error,
    }
    if not record.sources:
        return [run]
    return [
        {
            **run,
            "source_id": s.source_id,
            "status": s.status,
            **{name: getattr(s, name) for name in _COUNTS},
            "duration": s.duration,
            "error": s.error,
        }
        for s in record.sources
    ]


def _runs_table(records: list[RunRecord], now: datetime) -> Table:
    # No outer edge, one space between columns, the counts joined and the year left out of
    # the start (``runs show`` and JSON give it): the columns fit an 80-column terminal.
    # Errors, which can be long, follow the table a line each.
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for column in ("run", "status", "started (HKT)", "took"):
        table.add_column(column, no_wrap=True)
    # Partial is a success (some items failed, the source was read).
    table.add_column("sources\nok/fail/skip", justify="right", no_wrap=True)
    table.add_column("articles\nfound/new/dup", justify="right", no_wrap=True)
    for record in records:
        outcomes = _outcomes(record)
        found, new, duplicates, _ = (sum(getattr(s, n) for s in record.sources) for n in _COUNTS)
        table.add_row(
            str(record.id),
            Text(record.status, STATUS_STYLES.get(record.status, "")),
            _when(record.started_at, shape="%m-%d %H:%M"),
            took(record.seconds(now)),
            f"{outcomes['ok'] + outcomes['partial']}/{outcomes['failed']}/{outcomes['skipped']}",
            f"{found}/{new}/{duplicates}",
        )
    return table


def _run_error(record: RunRecord) -> str:
    """The run's own error, else the sources that failed it."""
    if record.error:
        return record.error
    failed = [s.source_id for s in record.sources if s.status == "failed"]
    more = len(failed) - NAMED_FAILURES
    named = ", ".join(failed[:NAMED_FAILURES]) + (f" (+{more} more)" if more > 0 else "")
    return f"failed: {named}" if failed else ""


def _print_run(record: RunRecord, now: datetime) -> None:
    ending = "running for" if record.finished_at is None else "took"
    who = f"; process {record.pid} on {record.host}" if record.pid is not None else ""
    flow = f"; flow run {record.flow_run_id}" if record.flow_run_id else ""
    console.print(
        Text.assemble(
            (f"run {record.id} ", "bold"),
            (record.status, STATUS_STYLES.get(record.status, "")),
            f": started {_when(record.started_at)} HKT, {ending} {took(record.seconds(now))}",
            f"{who}{flow}",
        ),
        highlight=False,
        soft_wrap=True,
    )
    if record.error:
        # Errors quote sites and receivers: text, not markup.
        say(f"error: {record.error}", "red")
    if not record.sources:
        say("no source results recorded")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("source", overflow="fold")
    table.add_column("status")
    for column in ("found", "new", "dup", "errors", "took"):
        table.add_column(column, justify="right")
    for s in record.sources:
        table.add_row(
            Text(s.source_id),
            Text(s.status, SOURCE_STYLES.get(s.status, "")),
            *(str(getattr(s, name)) for name in _COUNTS),
            took(s.duration) if s.duration is not None else "-",
        )
    console.print(table)
    # After the table, a line each, unwrapped: an error quotes URLs and sites as written.
    for s in record.sources:
        if s.error:
            say(f"{s.source_id}: {s.error}", SOURCE_STYLES.get(s.status, ""))


def _when(moment: datetime, *, shape: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored time in Hong Kong time, as the tables show it."""
    from zoneinfo import ZoneInfo

    from pipeline.settings import HONG_KONG_TZ

    return moment.astimezone(ZoneInfo(HONG_KONG_TZ)).strftime(shape)


def took(seconds: float) -> str:
    """A duration as a person reads it: ``0.4s``, ``42s``, ``3m05s``, ``2h10m``, ``3d4h``."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
