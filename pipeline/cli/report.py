"""``newswatch report``: a period's news as one self-contained HTML file, readable offline on a
laptop or a phone: mentions per day of the top entities and topics, regulator items per day and
in full, the stories most outlets told, and each source's health."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import DbOption, fail, open_engine, parse_when, say

DEFAULT_SINCE = "7d"
DEFAULT_TITLE = "newswatch report"
# Entities and topics a chart shows: enough for a week's main names, few enough that each line
# keeps a colour of its own.
DEFAULT_TOP = 6
PARTIAL_SUFFIX = ".partial"


def report(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="HTML file to write (replaced whole, or left as it was on failure).",
            show_default=False,
        ),
    ],
    since: Annotated[
        str, typer.Option("--since", help="Period start: a date, a time, 7d, today.")
    ] = DEFAULT_SINCE,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="Period end (a date: all of it); default now.", show_default=False
        ),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Entities and topics charted, the most named.")
    ] = DEFAULT_TOP,
    title: Annotated[str, typer.Option("--title", help="The page's title.")] = DEFAULT_TITLE,
    db_url: DbOption = None,
) -> None:
    """Write one HTML file (no network needed) on a period: mentions per day of the top
    entities and topics, regulator items, top stories with their outlets, source health."""
    from sqlalchemy.orm import Session

    from pipeline.report.charts import PALETTE
    from pipeline.report.page import period_text, render_report
    from pipeline.store.report_reads import read_report

    target = _target(out)
    if top > len(PALETTE):
        fail(f"--top {top}: a chart tells at most {len(PALETTE)} series apart")
    now = datetime.now(UTC)
    start = parse_when(since, "--since")
    end = parse_when(until, "--until", end=True) or now
    if start is None or start >= end:
        fail(f"--since {since}: the period must start before it ends ({until or 'now'})")
    engine = open_engine(db_url)
    try:
        with Session(engine) as session:
            data = read_report(session, since=start, until=end, top=top)
    finally:
        engine.dispose()
    try:
        _write_whole(target, render_report(data, title=title, generated_at=now))
    except OSError as exc:
        fail(f"--out {out}: cannot write: {exc.strerror or exc}")
    say(
        f"report written to {out}: {period_text(start, end)}; {data.articles} articles, "
        f"{len(data.releases)} regulator items, {len(data.stories)} top stories, "
        f"{len(data.sources)} sources"
    )


def _target(out: Path) -> Path:
    """``out``, checked before the database is read: not a directory, in one."""
    if out.is_dir():
        fail(f"--out {out}: is a directory")
    if not out.parent.is_dir():
        fail(f"--out {out}: no directory {out.parent}")
    return out


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it there: a reader never sees half a page."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    # Not tempfile: its 0600 mode would stay on the renamed file. O_EXCL: never truncate a file
    # that happens to hold the name.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            # On disk before the rename: a crash just after it must not leave an empty file.
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
