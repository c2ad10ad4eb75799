"""``newswatch export``: each format read back whole, the same articles as ``search`` for the
same filters, nothing partial left by a failure, and memory that does not grow with the rows."""

from __future__ import annotations

import csv
import json
import re
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session
from support.alerting import alerts_toml, ingest, jsonl_channel
from typer.testing import CliRunner

from pipeline import export as writers
from pipeline.cli import app
from pipeline.dates import HONG_KONG
from pipeline.store import db
from pipeline.store import export_reads as reads
from pipeline.store.schema import Article, ArticleTag, SourceRow, TagRow

runner = CliRunner()
CJK = re.compile(r"[\u4e00-\u9fff]")
COLUMNS = [
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
    "entities",
    "entity_names",
    "topics",
    "topic_names",
    "duplicate_of",
]
# The streaming test: rows generated, and the characters of text each carries.
STREAMED_ROWS = 20_000
STREAMED_TEXT_CHARS = 1_000


@pytest.fixture(scope="module")
def filled(module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database holding one run over the recorded fixtures."""
    folder = tmp_path_factory.mktemp("export")
    ingest(
        module_migrated_db_url, alerts_toml(folder, {"jsonl": jsonl_channel(folder / "a.jsonl")})
    )
    yield module_migrated_db_url


@pytest.fixture(scope="module")
def searched(filled: str) -> dict[int, dict[str, Any]]:
    """Every article ``search`` finds with no filter, by id (as its JSON gives them), with the
    fields the export is compared on, its text included."""
    fields = "id,story_id,title,url,canonical_url,source,published_at,regulator,tags,text"
    return {hit["id"]: hit for hit in search(filled, "--fields", fields)}


def invoke(*args: str) -> Any:
    """Run ``newswatch`` with ``args``; the Click result (stdout and stderr apart)."""
    return runner.invoke(app, list(args))


def search(url: str, *filters: str) -> list[dict[str, Any]]:
    """What ``newswatch search --format json`` answers for ``filters``, without a limit."""
    result = invoke(
        "search",
        *filters,
        "--group",
        "article",
        "--format",
        "json",
        "--limit",
        "100000",
        "--db",
        url,
    )
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def export(url: str, out: Path, *options: str) -> Any:
    """Run ``newswatch export`` to ``out`` and check it said how many rows it wrote."""
    result = invoke("export", *options, "--out", str(out), "--db", url)
    assert result.exit_code == 0, result.output
    # A long export reports its progress on stderr first, a plain line every few seconds.
    *progress, last = result.stderr.splitlines()
    assert re.fullmatch(rf"\d+ rows written to {re.escape(str(out))}", last)
    assert all(line.startswith("export: rows: ") for line in progress)
    return result


def tag_ids(hit: dict[str, Any], kind: str) -> list[str]:
    return [tag["id"] for tag in hit["tags"] if tag["kind"] == kind]


def tag_names(hit: dict[str, Any], kind: str) -> list[str]:
    return [tag["name"] for tag in hit["tags"] if tag["kind"] == kind]


def check_against_search(row: dict[str, Any], hit: dict[str, Any]) -> None:
    """An exported row (lists as lists, times as datetimes) says what search says."""
    assert row["title"] == hit["title"]
    assert row["source_id"] == hit["source"]
    assert row["story_id"] == hit["story_id"]
    assert row["url"] == (hit["canonical_url"] or hit["url"])
    assert row["regulator"] is hit["regulator"]
    assert row["entities"] == tag_ids(hit, "entity")
    assert row["entity_names"] == tag_names(hit, "entity")
    assert row["topics"] == tag_ids(hit, "topic")
    assert row["topic_names"] == tag_names(hit, "topic")
    if hit["published_at"] is None:
        assert row["published_at"] is None and row["published_day_hk"] is None
        return
    published = row["published_at"]
    assert published.utcoffset() == timedelta(0)
    assert published == datetime.fromisoformat(hit["published_at"])
    assert row["published_day_hk"] == published.astimezone(HONG_KONG).date()


def check_rows(rows: list[dict[str, Any]], searched: dict[int, dict[str, Any]]) -> None:
    """The rows are search's articles, in id order, each as search describes it, and a
    Chinese title among them came through intact."""
    ids = [row["id"] for row in rows]
    assert ids == sorted(searched)
    for row in rows:
        check_against_search(row, searched[row["id"]])
    assert any(CJK.search(row["title"]) for row in rows)
    assert any(row["entities"] for row in rows) and any(row["topics"] for row in rows)


def optional_time(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def test_csv_reads_back_as_search_describes(
    filled: str, searched: dict[int, dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "articles.csv"
    export(filled, out)
    with out.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        raw = list(reader)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\S+\+00:00", r["first_seen_at"]) for r in raw)
    assert {r["regulator"] for r in raw} == {"true", "false"}
    rows = [
        {
            **r,
            "id": int(r["id"]),
            "story_id": int(r["story_id"]) if r["story_id"] else None,
            "regulator": r["regulator"] == "true",
            "published_at": optional_time(r["published_at"]),
            "published_day_hk": date.fromisoformat(r["published_day_hk"])
            if r["published_day_hk"]
            else None,
            **{name: r[name].split("; ") if r[name] else [] for name in writers.LIST_COLUMNS},
        }
        for r in raw
    ]
    check_rows(rows, searched)


def test_jsonl_reads_back_as_search_describes(
    filled: str, searched: dict[int, dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "articles.jsonl"
    export(filled, out)
    raw = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(list(r) == COLUMNS for r in raw)
    assert all(isinstance(r["entities"], list) for r in raw)
    rows = [
        {
            **r,
            "published_at": optional_time(r["published_at"] or ""),
            "published_day_hk": date.fromisoformat(r["published_day_hk"])
            if r["published_day_hk"]
            else None,
        }
        for r in raw
    ]
    check_rows(rows, searched)


def test_parquet_is_typed_and_reads_back_as_search_describes(
    filled: str, searched: dict[int, dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "articles.parquet"
    export(filled, out)
    table = pq.read_table(out)
    types = {field.name: field.type for field in table.schema}
    assert list(types) == COLUMNS
    utc = pa.timestamp("us", tz="UTC")
    assert types["id"] == pa.int64() and types["story_id"] == pa.int64()
    assert types["duplicate_of"] == pa.int64()
    assert types["published_at"] == utc and types["first_seen_at"] == utc
    assert types["published_day_hk"] == pa.date32()
    assert types["regulator"] == pa.bool_()
    for name in writers.LIST_COLUMNS:
        assert pa.types.is_list(types[name]) and types[name].value_type == pa.string()
    for name in ("source_id", "source_name", "title", "url", "lang", "doc_type"):
        assert types[name] == pa.string()
    assert not table.schema.field("id").nullable
    check_rows(table.to_pylist(), searched)


def test_an_empty_export_still_has_its_columns(filled: str, tmp_path: Path) -> None:
    export(filled, tmp_path / "none.parquet", "--since", "2099-01-01")
    assert pq.read_table(tmp_path / "none.parquet").schema.names == COLUMNS
    export(filled, tmp_path / "none.csv", "--since", "2099-01-01")
    assert (tmp_path / "none.csv").read_text(encoding="utf-8").strip() == ",".join(COLUMNS)


FILTERS = [
    pytest.param(("--entity", "Ant Group"), id="entity-name"),
    pytest.param(("--entity", "hkma"), id="entity-id"),
    pytest.param(("--topic", "stablecoins"), id="topic"),
    pytest.param(("--source", "hkma-press"), id="source"),
    pytest.param(("--since", "2025-11-10", "--until", "2025-11-19"), id="since-until"),
    pytest.param(("stablecoin",), id="text"),
    pytest.param(("licence", "--source", "sfc-news", "--since", "2025-11-01"), id="combined"),
    pytest.param(("HKMA OR SFC -stablecoin",), id="text-operators"),
    pytest.param(("--since", "2025-11-18T12:00"), id="since-time"),
]


@pytest.mark.parametrize("filters", FILTERS)
def test_filters_give_the_articles_search_gives(
    filled: str, tmp_path: Path, filters: tuple[str, ...]
) -> None:
    out = tmp_path / "filtered.jsonl"
    export(filled, out, *filters)
    exported = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    found = sorted(hit["id"] for hit in search(filled, *filters))
    assert exported == found
    assert found, "a filter that matches nothing proves little"


def test_text_is_added_only_when_asked(
    filled: str, searched: dict[int, dict[str, Any]], tmp_path: Path
) -> None:
    export(filled, tmp_path / "with.jsonl", "--text")
    export(filled, tmp_path / "without.csv")
    rows = [json.loads(line) for line in (tmp_path / "with.jsonl").read_text("utf-8").splitlines()]
    assert all(row["text"] == searched[row["id"]]["text"] for row in rows)
    header = (tmp_path / "without.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "text" not in header.split(",")
    export(filled, tmp_path / "with.parquet", "--text")
    assert pq.read_table(tmp_path / "with.parquet").schema.field("text").type == pa.string()


def test_duplicates_are_added_only_when_asked(
    filled: str, searched: dict[int, dict[str, Any]], tmp_path: Path
) -> None:
    export(filled, tmp_path / "all.jsonl", "--duplicates")
    rows = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text("utf-8").splitlines()]
    copies = [row for row in rows if row["duplicate_of"] is not None]
    assert copies, "the fixtures hold syndicated copies"
    assert {row["id"] for row in rows} - {row["id"] for row in copies} == set(searched)
    assert all(row["duplicate_of"] in searched for row in copies)


def test_stdout_takes_csv_and_jsonl_but_not_parquet(filled: str, tmp_path: Path) -> None:
    result = invoke("export", "--entity", "hkma", "--format", "csv", "--out", "-", "--db", filled)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert result.stderr == f"{len(lines) - 1} rows written to stdout\n"
    result = invoke("export", "--format", "parquet", "--out", "-", "--db", filled)
    assert result.exit_code == 1 and "stdout takes csv or jsonl" in result.stderr


def test_the_format_comes_from_the_extension_or_is_asked_for(filled: str, tmp_path: Path) -> None:
    result = invoke("export", "--out", str(tmp_path / "articles.txt"), "--db", filled)
    assert result.exit_code == 1 and "--format" in result.stderr
    export(filled, tmp_path / "articles.txt", "--format", "jsonl")
    assert json.loads((tmp_path / "articles.txt").read_text("utf-8").splitlines()[0])["id"]


def test_a_directory_or_a_missing_one_is_refused(filled: str, tmp_path: Path) -> None:
    result = invoke("export", "--format", "csv", "--out", str(tmp_path), "--db", filled)
    assert result.exit_code == 1 and "is a directory" in result.stderr
    missing = tmp_path / "no" / "such.csv"
    result = invoke("export", "--out", str(missing), "--db", filled)
    assert result.exit_code == 1 and "no directory" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_nothing_partial(
    filled: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "articles.csv"
    out.write_text("the previous export\n", encoding="utf-8")
    written = 0

    def disk_fills(title: str) -> str:
        nonlocal written
        written += 1
        if written > 50:
            raise OSError(28, "No space left on device")
        return title

    monkeypatch.setitem(writers.CSV_CELLS, "title", disk_fills)
    result = invoke("export", "--out", str(out), "--db", filled)
    assert result.exit_code == 1
    assert "cannot write: No space left on device" in result.stderr
    assert written > 50, "the failure came before any row was written"
    assert out.read_text(encoding="utf-8") == "the previous export\n"
    assert [path.name for path in tmp_path.iterdir()] == ["articles.csv"]


def test_a_failed_read_leaves_no_parquet_file(
    filled: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = reads._row
    count = 0

    def fails_late(*args: Any) -> reads.ExportRow:
        nonlocal count
        count += 1
        if count > 100:
            raise RuntimeError("the connection went away")
        return made(*args)

    monkeypatch.setattr(reads, "_row", fails_late)
    monkeypatch.setattr(writers, "ROW_GROUP_ROWS", 10)  # row groups were already written
    result = invoke("export", "--out", str(tmp_path / "articles.parquet"), "--db", filled)
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    assert list(tmp_path.iterdir()) == []


def test_a_query_past_its_limits_is_refused(filled: str, tmp_path: Path) -> None:
    result = invoke("export", "word " * 1000, "--out", str(tmp_path / "a.csv"), "--db", filled)
    assert result.exit_code == 1 and "error:" in result.stderr
    assert list(tmp_path.iterdir()) == []


def fill_generated(url: str, rows: int) -> None:
    """``rows`` articles with long texts and a tag each, inserted in bulk."""
    engine = db.make_engine(url)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    # Few, long words: the full-text indexes (FTS5, tsvector) then cost little to fill.
    body = (("custody" * 15 + " ") * 10)[: STREAMED_TEXT_CHARS - 7]
    try:
        with Session(engine) as session, session.begin():
            session.execute(
                insert(SourceRow),
                [
                    {
                        "id": "gen",
                        "name": "Generated",
                        "kind": "rss",
                        "lang": "en",
                        "doc_type": "news",
                    }
                ],
            )
            session.execute(
                insert(TagRow),
                [
                    {"id": "gen-entity", "name": "Gen Entity", "kind": "entity", "type": "company"},
                    {"id": "gen-topic", "name": "Gen Topic", "kind": "topic", "type": "topic"},
                ],
            )
            session.execute(
                insert(Article),
                [
                    {
                        "id": n,
                        "item_key": f"gen:{n}",
                        "source_id": "gen",
                        "url": f"https://gen.example/{n}",
                        "title": f"Generated article {n} 穩定幣",
                        "text": f"{n:07d}{body}",
                        "doc_type": "news",
                        "published_at": start + timedelta(minutes=n),
                        "first_seen_at": start + timedelta(minutes=n),
                    }
                    for n in range(1, rows + 1)
                ],
            )
            session.execute(
                insert(ArticleTag),
                [
                    {"article_id": n, "tag_id": "gen-entity" if n % 2 else "gen-topic"}
                    for n in range(1, rows + 1)
                ],
            )
    finally:
        engine.dispose()


def test_memory_stays_flat_however_many_rows(migrated_db_url: str, tmp_path: Path) -> None:
    fill_generated(migrated_db_url, STREAMED_ROWS)
    out = tmp_path / "generated.csv"  # the csv module's writer allocates least of the three
    # A first, small export: what is imported and cached once is not what a row costs.
    export(migrated_db_url, out, "--text", "--until", "2024-01-02")
    tracemalloc.start()
    try:
        export(migrated_db_url, out, "--text")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    with out.open(encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 1 + STREAMED_ROWS
    # Held whole, the rows would take their texts alone and several times that with the rest;
    # streamed, one chunk of CHUNK_ROWS rows is held at a time.
    texts = STREAMED_ROWS * STREAMED_TEXT_CHARS
    assert peak < texts / 2, f"peak {peak / 2**20:.1f} MB; the texts alone {texts / 2**20:.1f} MB"
