"""Writing exported articles as CSV, JSON Lines or Parquet, a row at a time.

The rows come from ``pipeline.store.export_reads`` as a stream, and every writer consumes them
as they come: CSV and JSON Lines write each row at once, Parquet a row group at a time, so an
export of a million articles holds no more than one row group. A file is written under a
temporary name beside its target and renamed onto it only once complete: a failed export
leaves no partial file behind (and an earlier file of that name as it was).

Columns, in every format: ``id``, ``story_id``, ``source_id``, ``source_name``, ``title``,
``url`` (the canonical URL when there is one), ``published_at`` (UTC; empty when the source gave
no date, the filters then use ``first_seen_at``), ``published_day_hk`` (the day of
``published_at`` in Hong Kong), ``first_seen_at`` (UTC), ``lang``, ``doc_type``, ``regulator``,
``entities`` and ``topics`` (tag ids) with ``entity_names`` and ``topic_names`` (their names,
in the same order), ``duplicate_of``, and ``text`` when asked for. CSV joins a list with
``"; "`` and writes times as ISO 8601 with their offset; JSON Lines writes one object a line,
lists as arrays; Parquet types every column (timestamps with their zone, the day as a date,
lists as lists of strings).
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from operator import attrgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

    from pipeline.store.export_reads import ExportRow

# Rows per Parquet row group: what a reader loads (and skips by statistics) at once, and what
# the writer holds before writing; 10,000 short rows are a few MB.
ROW_GROUP_ROWS = 10_000
# With full texts a row group is written early once its texts pass this many characters, so
# long articles do not make one row group (and the memory holding it) hundreds of MB.
ROW_GROUP_TEXT_CHARS = 32_000_000
# Rows between two calls of an export's progress callback: often enough for a bar to move,
# rarely enough to cost nothing next to writing the rows.
PROGRESS_EVERY = 1_000
# Told (rows written, None: the total is not known before the stream ends).
Progress = Callable[[int, int | None], None]
# Tag ids are slugs and names words, neither holds a semicolon; the space keeps it readable.
LIST_SEPARATOR = "; "
LIST_COLUMNS = ("entities", "entity_names", "topics", "topic_names")
BASE_COLUMNS = (
    "id",
    "story_id",
    "source_id",
    "source_name",
    "title",
    "url",
    "published_at",
    "published_day_hk",
    "first_seen_at",
    "lang",
    "doc_type",
    "regulator",
    *LIST_COLUMNS,
    "duplicate_of",
)
# Where a partial file is written before it is renamed onto the target.
PARTIAL_SUFFIX = ".partial"


def columns(with_text: bool) -> tuple[str, ...]:
    """The exported columns, in order; ``text`` last when asked for."""
    return (*BASE_COLUMNS, "text") if with_text else BASE_COLUMNS


def _iso(value: date | None) -> str | None:
    """ISO 8601; a datetime with its offset."""
    return None if value is None else value.isoformat()


def _true_false(value: bool) -> str:
    return "true" if value else "false"


def _joined(values: tuple[str, ...]) -> str:
    return LIST_SEPARATOR.join(values)


# How a column's value is written where it is not written as it is (the csv module writes None
# as an empty field itself, JSON as null): times and days as ISO text, CSV's lists joined.
TIME_COLUMNS = ("published_at", "published_day_hk", "first_seen_at")
CSV_CELLS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(TIME_COLUMNS, _iso),
    "regulator": _true_false,
    **dict.fromkeys(LIST_COLUMNS, _joined),
}
JSON_VALUES: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(TIME_COLUMNS, _iso),
    **dict.fromkeys(LIST_COLUMNS, list),
}


def _values(
    rows: Iterable[ExportRow], names: tuple[str, ...], convert: dict[str, Callable[[Any], Any]]
) -> Iterator[list[Any]]:
    """Each row's values of ``names``, in order, converted where ``convert`` says."""
    # attrgetter and a short list of conversions: this loop runs once per row, a million
    # times for a large export, and a call per value would double its cost.
    get = attrgetter(*names)
    converted = [(index, convert[name]) for index, name in enumerate(names) if name in convert]
    for row in rows:
        values = list(get(row))
        for index, function in converted:
            values[index] = function(values[index])
        yield values


def write_csv(rows: Iterable[ExportRow], out: IO[str], *, with_text: bool = False) -> int:
    """Write ``rows`` as CSV with a header line; how many rows were written."""
    names = columns(with_text)
    writer = csv.writer(out)
    writer.writerow(names)
    count = 0
    for values in _values(rows, names, CSV_CELLS):
        writer.writerow(values)
        count += 1
    return count


def write_jsonl(rows: Iterable[ExportRow], out: IO[str], *, with_text: bool = False) -> int:
    """Write ``rows`` as JSON Lines, one object a line; how many rows were written."""
    names = columns(with_text)
    encode = json.JSONEncoder(ensure_ascii=False).encode
    count = 0
    for values in _values(rows, names, JSON_VALUES):
        out.write(encode(dict(zip(names, values, strict=True))))
        out.write("\n")
        count += 1
    return count


def parquet_schema(with_text: bool) -> pa.Schema:
    """The Parquet columns and their types; a column never empty is declared non-nullable."""
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    tag_list = pa.list_(pa.string())
    fields = [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("story_id", pa.int64()),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("source_name", pa.string()),
        pa.field("title", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("published_at", utc),
        pa.field("published_day_hk", pa.date32()),
        pa.field("first_seen_at", utc, nullable=False),
        pa.field("lang", pa.string()),
        pa.field("doc_type", pa.string(), nullable=False),
        pa.field("regulator", pa.bool_(), nullable=False),
        *(pa.field(name, tag_list, nullable=False) for name in LIST_COLUMNS),
        pa.field("duplicate_of", pa.int64()),
    ]
    if with_text:
        fields.append(pa.field("text", pa.string(), nullable=False))
    return pa.schema(fields)


def write_parquet(rows: Iterable[ExportRow], out: IO[bytes], *, with_text: bool = False) -> int:
    """Write ``rows`` as Parquet, ``ROW_GROUP_ROWS`` to a row group; how many were written."""
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    schema = parquet_schema(with_text)
    names = columns(with_text)
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        buffer: dict[str, list[Any]] = {name: [] for name in names}
        text_chars = 0

        def flush() -> None:
            writer.write_batch(pa.RecordBatch.from_pydict(buffer, schema=schema))
            for values in buffer.values():
                values.clear()

        for row in rows:
            for name in names:
                buffer[name].append(getattr(row, name))
            count += 1
            text_chars += len(row.text or "")
            if len(buffer["id"]) >= ROW_GROUP_ROWS or text_chars >= ROW_GROUP_TEXT_CHARS:
                flush()
                text_chars = 0
        if buffer["id"]:
            flush()
    return count


Writer = Callable[..., int]
WRITERS: dict[str, tuple[Writer, bool]] = {
    # format: (writer, whether it writes bytes)
    "csv": (write_csv, False),
    "jsonl": (write_jsonl, False),
    "parquet": (write_parquet, True),
}


def counted(rows: Iterable[ExportRow], progress: Progress | None) -> Iterable[ExportRow]:
    """``rows`` as they come, telling ``progress`` how many went by every ``PROGRESS_EVERY``
    rows and once at the end; ``rows`` itself when no one listens."""
    if progress is None:
        return rows
    return _counting(rows, progress)


def _counting(rows: Iterable[ExportRow], progress: Progress) -> Iterator[ExportRow]:
    count = 0
    progress(count, None)
    for row in rows:
        yield row
        count += 1
        if count % PROGRESS_EVERY == 0:
            progress(count, None)
    progress(count, None)


def export_file(
    rows: Iterable[ExportRow],
    path: Path,
    fmt: str,
    *,
    with_text: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write ``rows`` to ``path`` in ``fmt``, whole or not at all; how many rows were written.

    ``IsADirectoryError`` when ``path`` is a directory, another ``OSError`` when it cannot be
    written; the temporary file is removed whatever stops the export. ``progress(done, None)``
    hears of the rows written as they go.
    """
    if path.is_dir():
        raise IsADirectoryError(21, "is a directory", str(path))
    write, binary = WRITERS[fmt]
    rows = counted(rows, progress)
    with _replacing(path) as partial:
        if binary:
            with open(partial, "wb") as out:
                count = write(rows, out, with_text=with_text)
                _sync(out)
            return count
        # newline="": the csv module writes its own line endings (RFC 4180's CRLF).
        with open(partial, "w", encoding="utf-8", newline="") as text_out:
            count = write(rows, text_out, with_text=with_text)
            _sync(text_out)
        return count


def _sync(out: IO[Any]) -> None:
    """On disk before the rename: a crash just after it must not leave an empty file there."""
    out.flush()
    os.fsync(out.fileno())


def write_stream(
    rows: Iterable[ExportRow],
    out: IO[str],
    fmt: str,
    *,
    with_text: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write ``rows`` to an open text stream (standard output) in ``fmt``, CSV or JSON Lines;
    ``progress(done, None)`` hears of the rows written as they go."""
    write, binary = WRITERS[fmt]
    if binary:
        raise ValueError(f"{fmt} cannot be written to a text stream")
    return write(counted(rows, progress), out, with_text=with_text)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A new, empty file beside ``path``, renamed onto it when the block ends normally and
    removed when it does not (an error, an interrupt)."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    # Created here rather than by tempfile, whose 0600 mode would stay on the renamed file;
    # O_EXCL: never truncate a file that happens to hold the name.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
