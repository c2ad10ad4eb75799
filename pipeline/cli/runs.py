"""``newswatch runs``: the recent runs with their per-source counts and errors.

Read through a ``Reader``: on a SQLite file the command starts without SQLAlchemy.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.text import Text

from pipeline.cli.common import DbOption, OutputFormat, console, fail, open_reader, say
from pipeline.errors import NewswatchError


def runs(
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 10,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    db_url: DbOption = None,
) -> None:
    """Show recent runs with their per-source counts and errors."""
    from pipeline.store.run_reads import latest_runs, run_record_dict

    reader = open_reader(db_url)
    try:
        records = latest_runs(reader, limit=limit)
    except NewswatchError as exc:
        fail(str(exc))
    finally:
        reader.close()
    rows = [run_record_dict(r) for r in records]
    if output is not OutputFormat.table:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    for row in rows:
        say(
            f"run {row['id']} {row['status']} started {row['started_at']}"
            + (f" error: {row['error']}" if row.get("error") else "")
        )
        for src in row["sources"]:
            if src["error"]:
                console.print(
                    Text.assemble(("  " + src["source_id"], "red"), f": {src['error']}"),
                    highlight=False,
                )
