"""What every command shares: the consoles, the common options, output formats and helpers.

Only the standard library, Typer and Rich are imported at module level; anything heavier is
imported inside the function that needs it, so a command loads only what it uses.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from pipeline.errors import ConfigError, NewswatchError

Loaded = TypeVar("Loaded")

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


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error on stderr and end the command with exit code ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def load_or_fail(load: Callable[[Path], Loaded], path: Path) -> Loaded:
    """``load(path)`` for a configuration file, or end the command with the file's problems."""
    try:
        return load(path)
    except ConfigError as exc:
        fail("\n".join(exc.problems))


def parse_when(value: str | None, name: str) -> datetime | None:
    """Read a date option, failing with the option's name when it is not a date."""
    if value is None:
        return None
    from pipeline.dates import parse_date

    parsed = parse_date(value)
    if parsed is None:
        fail(f"{name}: cannot read {value!r} as a date (try YYYY-MM-DD)")
    return parsed


def open_engine(db_url: str | None) -> Any:
    """An engine for the resolved database URL, failing if its schema is not migrated."""
    from pipeline.store import db

    url = db.resolve_db_url(db_url)
    engine = db.make_engine(url)
    try:
        db.check_schema(engine)
    except NewswatchError as exc:
        fail(str(exc))
    return engine


def print_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Write rows as CSV on stdout; a ``tags`` column holds the tag ids joined by ``;``."""
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
