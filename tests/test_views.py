"""The analysts' views (migration 0007) and their page, docs/analysts.md: the same columns on
SQLite and Postgres as documented, Hong Kong days right at the day's edges, values that agree
with the tables they read, every worked query of the page running, and a downgrade that keeps
the data."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session
from support import REPO
from support.alerting import alerts_toml, ingest, jsonl_channel
from support.store import downgrade

from pipeline.settings import HONG_KONG_TZ
from pipeline.store import db, schema

DOC = REPO / "docs" / "analysts.md"
HONG_KONG = ZoneInfo(HONG_KONG_TZ)
# The contract: every view's columns, in order, on both dialects.
VIEWS: dict[str, tuple[str, ...]] = {
    "article_overview": (
        "article_id",
        "source_id",
        "source_name",
        "story_id",
        "published_day_hk",
        "day_basis",
        "published_at_utc",
        "first_seen_at_utc",
        "lang",
        "doc_type",
        "regulator",
        "url",
        "title",
        "duplicate_of",
    ),
    "article_tag_evidence": (
        "article_id",
        "tag_id",
        "kind",
        "name",
        "mentions",
        "in_title",
        "in_lead",
        "evidence",
    ),
    "story_overview": (
        "story_id",
        "lead_article_id",
        "lead_title",
        "lead_source_id",
        "first_seen_at_utc",
        "last_seen_at_utc",
        "first_seen_day_hk",
        "article_count",
        "outlet_count",
        "outlets",
        "languages",
    ),
    "daily_tag_counts": ("day_hk", "tag_id", "kind", "name", "articles", "stories"),
    "regulator_items": (
        "article_id",
        "source_id",
        "source_name",
        "reference",
        "published_day_hk",
        "doc_type",
        "story_id",
        "lang",
        "title",
        "url",
        "alert_sent",
        "alert_sent_at_utc",
    ),
}
# Views of earlier revisions, which a downgrade to 0006 keeps.
EARLIER_VIEWS = {"entities", "topics", "story_tags"}
# Marks on the first line of a ```sql block of the page; an unmarked block runs on both.
DIALECT_MARKS = {"sqlite", "postgres", "duckdb"}
MIN_WORKED_QUERIES = 10


def hk_day(moment: datetime) -> str:
    """The Hong Kong calendar day of an aware UTC time, as 'YYYY-MM-DD'."""
    return moment.astimezone(HONG_KONG).date().isoformat()


def as_day(value: Any) -> str | None:
    """A view's day ('YYYY-MM-DD' text on SQLite, a date on Postgres) as text."""
    return value.isoformat() if isinstance(value, date) else value


def as_utc(value: Any) -> datetime | None:
    """A view's UTC time (text on SQLite, a naive timestamp on Postgres) as an aware datetime."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert moment.tzinfo is None, "a view gives UTC wall-clock times, without a zone"
    return moment.replace(tzinfo=UTC)


def dialect_of(engine: Engine) -> str:
    """The page's name for the engine's dialect."""
    return "postgres" if engine.dialect.name == "postgresql" else "sqlite"


def rows(engine: Engine, sql: str) -> list[dict[str, Any]]:
    """The rows of ``sql`` as dicts."""
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(sql))]


# --- the page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkedQuery:
    """A ```sql block of the page, the heading it is under, and the dialects it is for."""

    heading: str
    dialects: frozenset[str]
    sql: str


def worked_queries() -> list[WorkedQuery]:
    """Every ```sql block of docs/analysts.md."""
    found: list[WorkedQuery] = []
    heading = ""
    for part in re.split(
        r"(^#+ [^\n]*$|```sql\n.*?```)", DOC.read_text("utf-8"), flags=re.M | re.S
    ):
        if part.startswith("#"):
            heading = part.lstrip("# ").strip()
        elif part.startswith("```sql"):
            sql = part.removeprefix("```sql\n").removesuffix("```")
            mark = re.match(r"--\s*(\w+)\s*\n", sql)
            dialects = {mark[1]} if mark else {"sqlite", "postgres"}
            found.append(WorkedQuery(heading, frozenset(dialects), sql))
    return found


def documented_columns() -> dict[str, list[str]]:
    """Each view of the page's "The views" section, with the columns its table lists."""
    page = DOC.read_text("utf-8")
    section = page.split("\n## The views\n", 1)[1].split("\n## ", 1)[0]
    columns: dict[str, list[str]] = {}
    for block in re.split(r"^### ", section, flags=re.M)[1:]:
        name = re.match(r"`(\w+)`", block)
        assert name, f"a view heading is not a `name`: {block.splitlines()[0]}"
        columns[name[1]] = re.findall(r"^\| `(\w+)` \|", block, flags=re.M)
    return columns


def test_the_page_documents_every_view_and_column_in_order() -> None:
    assert {name: tuple(cols) for name, cols in documented_columns().items()} == VIEWS


def test_the_page_has_ten_worked_queries_for_each_database() -> None:
    queries = worked_queries()
    for query in queries:
        assert query.dialects <= DIALECT_MARKS, query
    for dialect in ("sqlite", "postgres"):
        runnable = {q.heading for q in queries if dialect in q.dialects}
        assert len(runnable) >= MIN_WORKED_QUERIES, (dialect, sorted(runnable))


# --- a database filled from the recorded fixtures --------------------------------------------


@pytest.fixture(scope="module")
def filled(
    module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The fixtures' run, once per dialect; the default 24-hour window sends the newest items'
    alerts and baselines the rest, so regulator items are found with and without one."""
    folder = tmp_path_factory.mktemp("views")
    alerts = alerts_toml(folder, {"jsonl": jsonl_channel(folder / "alerts.jsonl")}, window="24h")
    outcome = ingest(module_migrated_db_url, alerts)
    assert outcome.status == "completed", outcome.error
    engine = db.make_engine(module_migrated_db_url)
    yield engine
    engine.dispose()


def test_every_view_has_exactly_the_documented_columns(filled: Engine) -> None:
    names = set(inspect(filled).get_view_names())
    assert set(VIEWS) | EARLIER_VIEWS <= names
    for view, columns in VIEWS.items():
        with filled.connect() as connection:
            result = connection.execute(text(f"SELECT * FROM {view} WHERE 1 = 0"))
            assert tuple(result.keys()) == columns, view
        assert tuple(column["name"] for column in inspect(filled).get_columns(view)) == columns


def test_article_overview_gives_utc_times_and_hong_kong_days(filled: Engine) -> None:
    with Session(filled) as session:
        articles = {a.id: a for a in session.scalars(select(schema.Article))}
        sources = {s.id: s for s in session.scalars(select(schema.SourceRow))}
    with filled.connect() as connection:
        if filled.dialect.name == "postgresql":
            # The views' times must not follow the session's zone.
            connection.execute(text("SET TIME ZONE 'America/New_York'"))
        found = [
            dict(r._mapping) for r in connection.execute(text("SELECT * FROM article_overview"))
        ]
    assert sorted(row["article_id"] for row in found) == sorted(articles)
    for row in found:
        article = articles[row["article_id"]]
        when = article.published_at or article.first_seen_at
        assert as_day(row["published_day_hk"]) == hk_day(when), row
        basis = "published_at" if article.published_at else "first_seen_at"
        assert row["day_basis"] == basis
        assert as_utc(row["published_at_utc"]) == article.published_at
        assert as_utc(row["first_seen_at_utc"]) == article.first_seen_at
        assert bool(row["regulator"]) is sources[article.source_id].regulator
        assert (row["source_name"], row["story_id"]) == (
            sources[article.source_id].name,
            article.story_id,
        )
    # The HKMA release stamped 00:00 Hong Kong time on 20 November: 16:00 UTC the day before.
    [release] = [
        row
        for row in found
        if row["url"].endswith("/eng/news-and-media/press-releases/2025/11/20251120-3/")
    ]
    assert as_utc(release["published_at_utc"]) == datetime(2025, 11, 19, 16, tzinfo=UTC)
    assert as_day(release["published_day_hk"]) == "2025-11-20"


def test_daily_counts_agree_with_a_count_from_the_tables(filled: Engine) -> None:
    with Session(filled) as session:
        articles = {
            a.id: (a.published_at or a.first_seen_at, a.story_id)
            for a in session.scalars(select(schema.Article))
        }
        tags = {t.id: (t.kind, t.name) for t in session.scalars(select(schema.TagRow))}
        links = session.execute(select(schema.ArticleTag.article_id, schema.ArticleTag.tag_id))
        counted: dict[tuple[str, str], tuple[set[int], set[int | None]]] = defaultdict(
            lambda: (set(), set())
        )
        for article_id, tag_id in links:
            when, story_id = articles[article_id]
            ids, stories = counted[(hk_day(when), tag_id)]
            ids.add(article_id)
            stories.add(story_id)
    expected = {
        (day, tag_id, *tags[tag_id], len(ids), len(stories))
        for (day, tag_id), (ids, stories) in counted.items()
    }
    found = {
        (as_day(r["day_hk"]), r["tag_id"], r["kind"], r["name"], r["articles"], r["stories"])
        for r in rows(filled, "SELECT * FROM daily_tag_counts")
    }
    assert found == expected
    assert any(r[4] > r[5] for r in found), "the fixtures have stories of several articles"


def test_tag_evidence_is_the_first_sentence_kept(filled: Engine) -> None:
    with Session(filled) as session:
        links = {(t.article_id, t.tag_id): t for t in session.scalars(select(schema.ArticleTag))}
        kinds = {t.id: t.kind for t in session.scalars(select(schema.TagRow))}
    found = rows(filled, "SELECT * FROM article_tag_evidence")
    assert len(found) == len(links)
    for row in found:
        link = links[(row["article_id"], row["tag_id"])]
        assert row["evidence"] == (link.evidence[0] if link.evidence else None)
        assert row["mentions"] == link.count
        assert (bool(row["in_title"]), bool(row["in_lead"])) == (link.in_title, link.in_lead)
        assert row["kind"] == kinds[link.tag_id]


def test_story_overview_lists_outlets_and_languages_as_json_text(filled: Engine) -> None:
    with Session(filled) as session:
        stories = {s.id: s for s in session.scalars(select(schema.Story))}
        titles = dict(session.execute(select(schema.Article.id, schema.Article.title)).all())
    found = rows(filled, "SELECT * FROM story_overview")
    assert sorted(row["story_id"] for row in found) == sorted(stories)
    for row in found:
        story = stories[row["story_id"]]
        assert isinstance(row["outlets"], str) and isinstance(row["languages"], str)
        assert json.loads(row["outlets"]) == story.outlets
        assert json.loads(row["languages"]) == story.languages
        assert row["outlet_count"] == len(story.outlets)
        assert row["lead_title"] == titles[story.lead_article_id]
        assert story.first_seen_at is not None
        assert as_day(row["first_seen_day_hk"]) == hk_day(story.first_seen_at)
        assert as_utc(row["last_seen_at_utc"]) == story.last_seen_at
    assert max(row["outlet_count"] for row in found) >= 5


def test_regulator_items_say_whether_their_story_was_alerted(filled: Engine) -> None:
    with Session(filled) as session:
        regulators = set(
            session.scalars(select(schema.SourceRow.id).where(schema.SourceRow.regulator))
        )
        items = {
            a.id: a for a in session.scalars(select(schema.Article)) if a.source_id in regulators
        }
        sent = set(
            session.scalars(
                select(schema.AlertRow.story_id).where(schema.AlertRow.status == "sent")
            )
        )
    found = rows(filled, "SELECT * FROM regulator_items")
    assert sorted(row["article_id"] for row in found) == sorted(items)
    for row in found:
        item = items[row["article_id"]]
        assert row["reference"] == item.item_id
        assert bool(row["alert_sent"]) is (item.story_id in sent)
        assert (row["alert_sent_at_utc"] is not None) is (item.story_id in sent)
    assert {bool(row["alert_sent"]) for row in found} == {True, False}


def test_every_worked_query_of_the_page_runs_and_finds_rows(filled: Engine) -> None:
    dialect = dialect_of(filled)
    queries = [q for q in worked_queries() if dialect in q.dialects]
    assert len(queries) >= MIN_WORKED_QUERIES
    failures: list[str] = []
    raw = filled.raw_connection()
    try:
        for query in queries:
            cursor = raw.cursor()
            try:
                # Straight to the driver, as sqlite3 and psql run it: no bind parameters.
                cursor.execute(query.sql)
                if not cursor.fetchall():
                    failures.append(f"{query.heading}: no rows")
            except Exception as exc:
                failures.append(f"{query.heading}: {exc}")
            finally:
                cursor.close()
                raw.rollback()  # a failed query must not abort the next on Postgres
    finally:
        raw.close()
    assert not failures, f"worked queries on {dialect}: {failures}"


# --- edge times and the migration round trip, on rows built here -----------------------------

# (published_at, first_seen_at), each with the Hong Kong day expected.
EDGES: list[tuple[datetime | None, datetime, str]] = [
    (datetime(2025, 11, 19, 17, tzinfo=UTC), datetime(2025, 11, 21, tzinfo=UTC), "2025-11-20"),
    (datetime(2025, 11, 19, 16, tzinfo=UTC), datetime(2025, 11, 21, tzinfo=UTC), "2025-11-20"),
    (
        datetime(2025, 11, 19, 15, 59, 59, 999_999, tzinfo=UTC),
        datetime(2025, 11, 21, tzinfo=UTC),
        "2025-11-19",
    ),
    (datetime(2025, 11, 19, 0, 0, tzinfo=UTC), datetime(2025, 11, 21, tzinfo=UTC), "2025-11-19"),
    (datetime(2025, 4, 30, 23, 59, 59, tzinfo=UTC), datetime(2025, 5, 2, tzinfo=UTC), "2025-05-01"),
    (datetime(2025, 1, 31, 16, tzinfo=UTC), datetime(2025, 2, 2, tzinfo=UTC), "2025-02-01"),
    (datetime(2025, 12, 31, 16, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), "2026-01-01"),
    (datetime(2024, 2, 28, 16, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC), "2024-02-29"),
    (datetime(2024, 2, 29, 16, 30, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC), "2024-03-01"),
    (datetime(2023, 2, 28, 20, tzinfo=UTC), datetime(2023, 3, 2, tzinfo=UTC), "2023-03-01"),
    (datetime(2000, 2, 28, 16, tzinfo=UTC), datetime(2000, 3, 2, tzinfo=UTC), "2000-02-29"),
    (datetime(2100, 2, 28, 16, tzinfo=UTC), datetime(2100, 3, 2, tzinfo=UTC), "2100-03-01"),
    # No publication time: the day newswatch first stored it.
    (None, datetime(2025, 11, 19, 17, 0, 0, 123_456, tzinfo=UTC), "2025-11-20"),
]


def store_edges(url: str) -> None:
    """A regulator source, one article and story per edge time, a tag on each article and a
    sent alert for the first story."""
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            session.add(
                schema.SourceRow(
                    id="hkma-press",
                    name="HKMA press releases",
                    kind="rss",
                    lang="en",
                    regulator=True,
                    doc_type="press_release",
                    enabled=True,
                    urls=[],
                )
            )
            session.add(schema.TagRow(id="hkma", name="HKMA", kind="entity", type="regulator"))
            session.flush()
            for number, (published, seen, _) in enumerate(EDGES, start=1):
                session.add(
                    schema.Article(
                        id=number,
                        item_key=f"hkma-press:{number}",
                        source_id="hkma-press",
                        item_id=f"2025-{number}",
                        url=f"https://example.org/{number}",
                        title=f"Release {number}",
                        text="Text.",
                        lang="en",
                        doc_type="press_release",
                        regulator=True,
                        published_at=published,
                        first_seen_at=seen,
                        story_id=number,
                    )
                )
                session.flush()
                at = published or seen
                session.add(
                    schema.Story(
                        id=number,
                        lead_article_id=number,
                        first_seen_at=at,
                        last_seen_at=at,
                        article_count=1,
                        outlets=["hkma-press"],
                        languages=["en"],
                        updated_at=seen,
                    )
                )
                session.add(
                    schema.ArticleTag(
                        article_id=number,
                        tag_id="hkma",
                        count=2,
                        in_title=False,
                        in_lead=True,
                        evidence=[f"Sentence {number}.", "Another."],
                    )
                )
            session.add(
                schema.AlertRow(
                    key="nw-1",
                    rule="hkma-new-item",
                    story_id=1,
                    article_id=1,
                    channel="jsonl",
                    status="sent",
                    created_at=EDGES[0][1],
                    due_at=EDGES[0][1],
                    sent_at=EDGES[0][1] + timedelta(seconds=1),
                    attempts=1,
                )
            )
            session.commit()
    finally:
        engine.dispose()


def snapshot(url: str) -> tuple[dict[str, int], dict[str, list[tuple[Any, ...]]]]:
    """Row counts of every table, and every analysts' view's rows as text."""
    engine = db.make_engine(url)
    try:
        tables = sorted(set(inspect(engine).get_table_names()) - {"alembic_version"})
        views = set(inspect(engine).get_view_names())
        with engine.connect() as connection:
            counts = {
                table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in tables
            }
            contents = {
                view: sorted(
                    tuple(str(value) for value in row)
                    for row in connection.execute(text(f"SELECT * FROM {view}"))
                )
                for view in VIEWS
                if view in views
            }
        return counts, contents
    finally:
        engine.dispose()


def test_hong_kong_days_at_the_edges_of_days_months_and_years(migrated_db_url: str) -> None:
    store_edges(migrated_db_url)
    engine = db.make_engine(migrated_db_url)
    try:
        articles = {r["article_id"]: r for r in rows(engine, "SELECT * FROM article_overview")}
        stories = {r["story_id"]: r for r in rows(engine, "SELECT * FROM story_overview")}
        items = {r["article_id"]: r for r in rows(engine, "SELECT * FROM regulator_items")}
        daily = rows(engine, "SELECT day_hk, articles FROM daily_tag_counts")
    finally:
        engine.dispose()
    for number, (published, seen, expected) in enumerate(EDGES, start=1):
        assert hk_day(published or seen) == expected  # the table itself is right
        assert as_day(articles[number]["published_day_hk"]) == expected, published or seen
        assert as_day(stories[number]["first_seen_day_hk"]) == expected
        assert as_day(items[number]["published_day_hk"]) == expected
        assert articles[number]["day_basis"] == ("published_at" if published else "first_seen_at")
    assert {as_day(r["day_hk"]): r["articles"] for r in daily} == Counter(day for *_, day in EDGES)
    assert [number for number, item in items.items() if item["alert_sent"]] == [1]
    assert as_utc(items[1]["alert_sent_at_utc"]) == EDGES[0][1] + timedelta(seconds=1)


def test_downgrade_to_0006_drops_only_the_views_and_upgrade_brings_them_back(
    migrated_db_url: str,
) -> None:
    store_edges(migrated_db_url)
    at_head = snapshot(migrated_db_url)
    # Measured from 0007: the objects of later migrations (0008's trigram index) go with them.
    downgrade(migrated_db_url, "0007")
    before = snapshot(migrated_db_url)
    assert set(before[1]) == set(VIEWS) and all(before[1].values())

    downgrade(migrated_db_url, "0006")
    counts, contents = snapshot(migrated_db_url)
    assert counts == before[0] and contents == {}
    engine = db.make_engine(migrated_db_url)
    try:
        assert set(inspect(engine).get_view_names()) == EARLIER_VIEWS
        assert db.schema_state(engine) is db.SchemaState.behind
    finally:
        engine.dispose()

    db.upgrade(migrated_db_url)
    counts, contents = snapshot(migrated_db_url)
    # An FTS5 index filled in one go packs its storage rows unlike one filled row by row.
    packed = ("_data", "_idx")
    assert contents == at_head[1]
    assert {t: n for t, n in counts.items() if not t.endswith(packed)} == {
        t: n for t, n in at_head[0].items() if not t.endswith(packed)
    }
