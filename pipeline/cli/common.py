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
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from pipeline.errors import ConfigError, NewswatchError
from pipeline.settings import (
    CONFIG_DIR_ENV,
    DB_URL_ENV,
    DEFAULT_DB_URL,
    ConfigFiles,
    find_config_files,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from pipeline.store.reader import Reader

Loaded = TypeVar("Loaded")

# A screenful: query commands show this many rows unless --limit asks for more, and say how
# many more matched. Laying out a table of 100 wrapped rows costs Rich more than the query.
PAGE_ROWS = 20
# The largest id a database integer holds (64 bits); a larger one is refused as a bad option
# rather than overflowing the driver.
MAX_ID = 2**63 - 1

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=(
            f"Database URL or SQLite file path; falls back to {DB_URL_ENV}, then {DEFAULT_DB_URL}."
        ),
        show_default=False,
    ),
]
ConfigDirOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help=(
            "Directory with sources.toml, taxonomy.toml and alerts.toml; falls back to"
            f" {CONFIG_DIR_ENV}, then the current directory, then the shipped defaults."
        ),
        show_default=False,
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Say which configuration files and database are used."),
]
SourcesOption = Annotated[
    Path | None, typer.Option("--sources", help="Sources file (overrides --config).")
]
TaxonomyOption = Annotated[
    Path | None, typer.Option("--taxonomy", help="Taxonomy file (overrides --config).")
]
AlertsOption = Annotated[
    Path | None,
    typer.Option("--alerts", help="Alert rules and channels file (overrides --config)."),
]


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
    """Print an error on stderr, as written (no markup), and end the command with ``code``."""
    # Unwrapped: one line per message, however long, so it can be searched for as written.
    err_console.print(
        Text.assemble(("error: ", "bold red"), message), highlight=False, soft_wrap=True
    )
    raise typer.Exit(code)


def fail_on(exc: NewswatchError) -> NoReturn:
    """End the command with ``exc``: each problem of a configuration error on its own line."""
    if isinstance(exc, ConfigError):
        exit_with_problems(exc.problems)
    fail(str(exc))


def say(message: str, style: str | None = None, *, stderr: bool = False) -> None:
    """Print a line as written: text from files and sites is never read as markup."""
    (err_console if stderr else console).print(
        Text(message, style=style or ""), highlight=False, soft_wrap=True
    )


def config_files(
    config_dir: Path | None,
    *,
    sources: Path | None = None,
    taxonomy: Path | None = None,
    alerts: Path | None = None,
    verbose: bool = False,
) -> ConfigFiles:
    """The configuration files a command reads; with ``verbose``, say which on stderr."""
    try:
        files = find_config_files(config_dir, sources=sources, taxonomy=taxonomy, alerts=alerts)
    except ConfigError as exc:
        exit_with_problems(exc.problems)
    if verbose:
        for line in files.describe():
            say(line, stderr=True)
    return files


def resolve_db(db_url: str | None, *, verbose: bool = False) -> str:
    """The database URL a command uses; with ``verbose``, say which on stderr."""
    from pipeline.store.dburl import mask_password, resolve_db_url

    url = resolve_db_url(db_url)
    if verbose:
        say(f"database: {mask_password(url)}", stderr=True)
    return url


def exit_with_problems(problems: list[str]) -> NoReturn:
    """Print each problem on stderr as an error, as written, and end the command with code 1."""
    for problem in problems:
        # One line per problem, however long, so it can be searched for as written.
        err_console.print(
            Text.assemble(("error: ", "bold red"), problem), highlight=False, soft_wrap=True
        )
    raise typer.Exit(1)


def load_or_fail(load: Callable[[Path], Loaded], path: Path) -> Loaded:
    """``load(path)`` for a configuration file, or end the command with the file's problems."""
    try:
        return load(path)
    except ConfigError as exc:
        exit_with_problems(exc.problems)


def local_iso(moment: datetime | None) -> str | None:
    """A stored time as Hong Kong time, ISO 8601 with its offset, as every JSON output gives it."""
    if moment is None:
        return None
    # zoneinfo, not pipeline.dates: the query commands print times and nothing else of it,
    # and that module's imports cost them 15 ms.
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from pipeline.settings import HONG_KONG_TZ

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(HONG_KONG_TZ)).isoformat()


def parse_when(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """Read a time option (a date, a date and time, ``7d``, ``today``; the future allowed),
    failing with the option's name when it is none. With ``end`` a bare date stands for the
    end of that Hong Kong day, so an ``--until`` day is included."""
    if value is None:
        return None
    from datetime import UTC

    from pipeline.timespec import parse_moment

    try:
        return parse_moment(value, now=datetime.now(UTC), end=end)
    except ValueError as exc:
        from pipeline.dates import parse_date

        # Written-out dates ("3 November 2025") as sources give them.
        parsed = parse_date(value)
        if parsed is None:
            fail(f"{name}: {exc}")
        return parsed


def open_engine(db_url: str | None, *, verbose: bool = False) -> Engine:
    """An engine for the resolved database URL, failing if its schema is not current."""
    from pipeline.store import db

    try:
        return db.open_engine(resolve_db(db_url, verbose=verbose))
    except NewswatchError as exc:
        fail(str(exc))


def open_reader(db_url: str | None) -> Reader:
    """A reader for the resolved database URL (the query commands' cheap path), failing if its
    schema is not current."""
    from pipeline.store.reader import open_reader as open_database

    try:
        return open_database(resolve_db(db_url))
    except NewswatchError as exc:
        fail(str(exc))


def print_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Write rows as CSV on stdout; a ``tags`` column holds the tag ids joined by ``;``, as
    any other list does its items."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        values = []
        for column in columns:
            value = row.get(column)
            if column == "tags":
                value = ";".join(t["id"] for t in row["tags"])
            elif isinstance(value, list):
                value = ";".join(str(item) for item in value)
            values.append("" if value is None else value)
        writer.writerow(values)
    sys.stdout.write(buffer.getvalue())
