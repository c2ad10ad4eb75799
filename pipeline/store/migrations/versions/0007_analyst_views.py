"""Views for analysts: articles, their tags, stories, daily tag counts and regulator items.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Five views with the same names, columns and meaning on SQLite and Postgres, so the database can
be queried directly (sqlite3, psql, Datasette, DuckDB); ``docs/analysts.md`` documents every
column. Times are stored in UTC; the views add the Hong Kong day (UTC+8 all year, no daylight
saving) of each article and story.

- ``article_overview``: one row per article, with its source, story and Hong Kong day.
- ``article_tag_evidence``: one row per (article, tag), with the first sentence of evidence.
- ``story_overview``: one row per story, with its lead article's title and its outlets.
- ``daily_tag_counts``: per Hong Kong day and tag, how many articles and stories carry it.
- ``regulator_items``: the articles of regulators' sources, and whether their story was alerted.

Each view reads its tables through their keys or indexed columns (``articles.id``,
``sources.id``, ``tags.id``, ``articles.story_id``, ``alerts.story_id``); none evaluates a
subquery per row. A later migration that rebuilds or drops a column of ``articles``,
``sources``, ``tags``, ``article_tags``, ``stories`` or ``alerts`` must drop these views first
(Postgres refuses otherwise) and create them again after.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision: the views' SQL must not follow later changes to the application.
HONG_KONG = "Asia/Hong_Kong"


def _sqlite_day(column: str) -> str:
    # Written with what SQLite and DuckDB share (substr, CAST, printf, CASE), because DuckDB
    # parses a SQLite view's SQL itself when it attaches the file: SQLite's date modifiers
    # (date(x, '+8 hours')) do not exist there. The text is the stored naive UTC time (DuckDB
    # reads it as a timestamp and renders it the same way); its date is the Hong Kong day
    # before 16:00 UTC, else the next calendar day. Reading the digits, not SQLite's date
    # parser, also keeps fractional seconds out: SQLite rounds them to the millisecond, which
    # would move an instant in the last half millisecond before midnight into the next day.
    text = f"CAST({column} AS TEXT)"
    year = f"CAST(substr({text}, 1, 4) AS INTEGER)"
    month = f"CAST(substr({text}, 6, 2) AS INTEGER)"
    day = f"CAST(substr({text}, 9, 2) AS INTEGER)"
    leap = f"({year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0))"
    month_days = (
        f"CASE WHEN {month} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END"
        f" WHEN {month} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
    )
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" WHEN substr({text}, 12, 2) < '16' THEN substr({text}, 1, 10)"
        f" WHEN {day} < {month_days} THEN substr({text}, 1, 8) || printf('%02d', {day} + 1)"
        f" WHEN {month} < 12 THEN substr({text}, 1, 5) || printf('%02d', {month} + 1) || '-01'"
        f" ELSE printf('%04d', {year} + 1) || '-01-01' END"
    )


def _postgres_day(column: str) -> str:
    return f"CAST(({column} AT TIME ZONE '{HONG_KONG}') AS date)"


def _sqlite_utc(column: str) -> str:
    return column  # already naive UTC text


def _postgres_utc(column: str) -> str:
    # timestamptz → a UTC wall-clock timestamp, as SQLite holds it: a comparison with a literal
    # then means the same on both, whatever the session's time zone.
    return f"({column} AT TIME ZONE 'UTC')"


def _sqlite_first(column: str) -> str:
    # A function, not the ->> operator: a SQLite older than 3.38 that opens the file must
    # still parse every view, or it cannot read the database at all.
    return f"json_extract({column}, '$[0]')"


def _postgres_first(column: str) -> str:
    return f"({column} ->> 0)"


def _sqlite_json_text(column: str) -> str:
    return column  # SQLite keeps JSON as text already


def _postgres_json_text(column: str) -> str:
    # A json value keeps the text it was given, so this is the same string SQLite holds.
    return f"CAST({column} AS text)"


def _sqlite_flag(condition: str) -> str:
    # 1/0 like the stored booleans. The CAST gives the column integer affinity, so a filter
    # given as text (Datasette's ?alert_sent=0) still matches.
    return f"CAST(({condition}) AS INTEGER)"


def _postgres_flag(condition: str) -> str:
    return f"({condition})"


class Dialect(NamedTuple):
    """How each computed column is written in one dialect."""

    day: Callable[[str], str]
    utc: Callable[[str], str]
    first: Callable[[str], str]
    json_text: Callable[[str], str]
    flag: Callable[[str], str]


SQLITE = Dialect(_sqlite_day, _sqlite_utc, _sqlite_first, _sqlite_json_text, _sqlite_flag)
POSTGRES = Dialect(
    _postgres_day, _postgres_utc, _postgres_first, _postgres_json_text, _postgres_flag
)


def views(dialect: Dialect) -> dict[str, str]:
    """Each view's SELECT in ``dialect``, by view name."""
    day, utc, first, json_text = dialect.day, dialect.utc, dialect.first, dialect.json_text
    article_day = day("COALESCE(articles.published_at, articles.first_seen_at)")
    return {
        "article_overview": f"""
            SELECT articles.id AS article_id,
                   articles.source_id AS source_id,
                   sources.name AS source_name,
                   articles.story_id AS story_id,
                   {article_day} AS published_day_hk,
                   CASE WHEN articles.published_at IS NULL THEN 'first_seen_at'
                        ELSE 'published_at' END AS day_basis,
                   {utc("articles.published_at")} AS published_at_utc,
                   {utc("articles.first_seen_at")} AS first_seen_at_utc,
                   articles.lang AS lang,
                   articles.doc_type AS doc_type,
                   sources.regulator AS regulator,
                   articles.url AS url,
                   articles.title AS title,
                   articles.duplicate_of AS duplicate_of
            FROM articles
            JOIN sources ON sources.id = articles.source_id
        """,
        "article_tag_evidence": f"""
            SELECT article_tags.article_id AS article_id,
                   article_tags.tag_id AS tag_id,
                   tags.kind AS kind,
                   tags.name AS name,
                   article_tags.count AS mentions,
                   article_tags.in_title AS in_title,
                   article_tags.in_lead AS in_lead,
                   {first("article_tags.evidence")} AS evidence
            FROM article_tags
            JOIN tags ON tags.id = article_tags.tag_id
        """,
        "story_overview": f"""
            SELECT stories.id AS story_id,
                   stories.lead_article_id AS lead_article_id,
                   lead_article.title AS lead_title,
                   lead_article.source_id AS lead_source_id,
                   {utc("stories.first_seen_at")} AS first_seen_at_utc,
                   {utc("stories.last_seen_at")} AS last_seen_at_utc,
                   {day("stories.first_seen_at")} AS first_seen_day_hk,
                   stories.article_count AS article_count,
                   json_array_length(stories.outlets) AS outlet_count,
                   {json_text("stories.outlets")} AS outlets,
                   {json_text("stories.languages")} AS languages
            FROM stories
            LEFT JOIN articles AS lead_article ON lead_article.id = stories.lead_article_id
        """,
        # (article, tag) is article_tags' key, so COUNT(*) counts distinct articles.
        "daily_tag_counts": f"""
            SELECT {article_day} AS day_hk,
                   tags.id AS tag_id,
                   tags.kind AS kind,
                   tags.name AS name,
                   COUNT(*) AS articles,
                   COUNT(DISTINCT articles.story_id) AS stories
            FROM article_tags
            JOIN articles ON articles.id = article_tags.article_id
            JOIN tags ON tags.id = article_tags.tag_id
            GROUP BY {article_day}, tags.id, tags.kind, tags.name
        """,
        # The alerted stories are gathered once and joined, not looked up row by row.
        "regulator_items": f"""
            SELECT articles.id AS article_id,
                   articles.source_id AS source_id,
                   sources.name AS source_name,
                   articles.item_id AS reference,
                   {article_day} AS published_day_hk,
                   articles.doc_type AS doc_type,
                   articles.story_id AS story_id,
                   articles.lang AS lang,
                   articles.title AS title,
                   articles.url AS url,
                   {dialect.flag("sent.story_id IS NOT NULL")} AS alert_sent,
                   {utc("sent.first_sent_at")} AS alert_sent_at_utc
            FROM articles
            JOIN sources ON sources.id = articles.source_id
            LEFT JOIN (
                SELECT alerts.story_id AS story_id, MIN(alerts.sent_at) AS first_sent_at
                FROM alerts
                WHERE alerts.status = 'sent'
                GROUP BY alerts.story_id
            ) AS sent ON sent.story_id = articles.story_id
            WHERE sources.regulator
        """,
    }


def _dialect_views() -> dict[str, str]:
    return views(POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE)


def upgrade() -> None:
    """Create the analysts' views."""
    for name, select in _dialect_views().items():
        op.execute(f"CREATE VIEW {name} AS {select.strip()}")


def downgrade() -> None:
    """Drop the analysts' views; no table is touched."""
    for name in reversed(list(_dialect_views())):
        op.execute(f"DROP VIEW IF EXISTS {name}")
