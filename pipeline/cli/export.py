"""``newswatch export``: every article the search filters match, to a CSV, JSON Lines or
Parquet file, streamed so that a million rows take no more memory than a thousand."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.cli.common import DbOption, fail, open_engine, say
from pipeline.cli.filters import (
    DocTypeOption,
    EntityOption,
    LangOption,
    RegulatorOption,
    SinceOption,
    SourceOption,
    TaxonomyPathOption,
    TopicOption,
    UntilOption,
    build_filters,
)
from pipeline.errors import QueryError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pipeline.cli.progress import ProgressCallback
    from pipeline.store.export_reads import ExportRow

# What an --out name's extension says about its format, when --format is not given.
SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
STDOUT = "-"


class ExportFormat(StrEnum):
    """The file formats ``export`` writes."""

    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


def export(
    out: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            help="File to write (replaced whole, or left as it was on failure); - for stdout.",
            show_default=False,
        ),
    ],
    query: Annotated[str | None, typer.Argument(help="Full-text query.")] = None,
    entity: EntityOption = None,
    topic: TopicOption = None,
    source: SourceOption = None,
    doc_type: DocTypeOption = None,
    lang: LangOption = None,
    regulator: RegulatorOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    taxonomy_path: TaxonomyPathOption = None,
    output: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            help="File format; by default read from --out's extension (.csv, .jsonl, .parquet).",
            show_default=False,
        ),
    ] = None,
    with_text: Annotated[
        bool, typer.Option("--text", help="Add each article's full text (large).")
    ] = False,
    duplicates: Annotated[
        bool,
        typer.Option("--duplicates", help="Include syndicated copies, which search leaves out."),
    ] = False,
    db_url: DbOption = None,
) -> None:
    """Export the articles a search matches (no limit) to CSV, JSON Lines or Parquet."""
    from sqlalchemy.orm import Session

    from pipeline.store.export_reads import export_rows

    target = None if out == STDOUT else _target(out)
    fmt = _format(out, output)
    filters = build_filters(
        entity=entity,
        topic=topic,
        source=source,
        doc_type=doc_type,
        lang=lang,
        regulator=regulator,
        since=since,
        until=until,
        taxonomy_path=taxonomy_path,
        include_duplicates=duplicates,
    )
    from pipeline.cli.progress import progress_reporter

    # Rows written to the terminal itself leave no room for a bar beside them.
    shown = target is not None or not sys.stdout.isatty()
    engine = open_engine(db_url)
    try:
        with (
            Session(engine) as session,
            progress_reporter("export: rows", enabled=shown) as progress,
        ):
            rows = export_rows(session, query, filters=filters, with_text=with_text)
            count = _write(rows, target, fmt, with_text, progress)
    except QueryError as exc:
        fail(str(exc))
    except BrokenPipeError:
        _quiet_stdout()
        raise typer.Exit(1) from None
    except OSError as exc:
        fail(f"--out {out}: cannot write: {exc.strerror or exc}")
    finally:
        engine.dispose()
    say(f"{count} rows written to {'stdout' if target is None else out}", stderr=True)


def _format(out: str, given: ExportFormat | None) -> str:
    """The format asked for, else the one ``out``'s extension names; fails when neither."""
    if given is None:
        found = SUFFIX_FORMATS.get(Path(out).suffix.lower()) if out != STDOUT else None
        if found is None:
            fail(f"--format: give csv, jsonl or parquet (cannot tell it from --out {out})")
        return found
    if given is ExportFormat.parquet and out == STDOUT:
        fail("--format parquet: write it to a file (--out FILE); stdout takes csv or jsonl")
    return given.value


def _target(out: str) -> Path:
    """``out`` as a path, checked before the database is read: not a directory, in one."""
    path = Path(out)
    if path.is_dir():
        fail(f"--out {out}: is a directory")
    if not path.parent.is_dir():
        fail(f"--out {out}: no directory {path.parent}")
    return path


def _write(
    rows: Iterable[ExportRow],
    target: Path | None,
    fmt: str,
    with_text: bool,
    progress: ProgressCallback,
) -> int:
    """Write ``rows`` to ``target`` (replaced only once complete), or to standard output."""
    from pipeline.export import export_file, write_stream

    if target is not None:
        return export_file(rows, target, fmt, with_text=with_text, progress=progress)
    # UTF-8 whatever the terminal's locale says: titles are often Chinese.
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        count = write_stream(rows, stream, fmt, with_text=with_text, progress=progress)
        stream.flush()
    finally:
        # Detached, not closed: sys.stdout keeps its buffer. A flush that fails (a closed
        # pipe) leaves the rest in the wrapper, which is dropped with it.
        with contextlib.suppress(BrokenPipeError):
            stream.detach()
    return count


def _quiet_stdout() -> None:
    """After the reader of a pipe went away (``| head``): point stdout at /dev/null, so the
    interpreter's last flush does not fail again with a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
