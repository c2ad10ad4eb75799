"""Reading articles for an export: every article the search filters match, streamed in chunks.

Like ``search``, a public read module. The articles come from one query read a chunk at a time
(a server-side cursor on Postgres, SQLite's own step-by-step cursor) and each chunk's tags from
one more query, so memory holds one chunk whatever the number of rows. The filters read as
``search_articles`` reads them (same tag, source, date and full-text rules, syndicated copies
left out unless asked for), but nothing is ranked or cut: rows come in id order, the order
they were stored, which needs no sort of the whole result.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from pipeline.dates import HONG_KONG
from pipeline.store.reader import SessionReader
from pipeline.store.schema import Article, ArticleTag, SourceRow, TagRow
from pipeline.store.search import Filters, matching_ids_sql, select_matching

# Rows fetched per round trip, and articles whose tags are read in one query. Large enough that
# the per-chunk queries cost little next to the rows (a larger chunk is no faster); small enough
# that a chunk, held in Python about four times over its texts, stays near 10-20 MB with full
# texts of a few KB, and its tag query's IN list far below SQLite's 32,766 bound parameters.
CHUNK_ROWS = 1_000


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One exported article. Tags come as ids with their names in a parallel tuple (same
    order: most frequent in the article first); ``text`` is None unless asked for."""

    id: int
    story_id: int | None
    source_id: str
    source_name: str | None
    title: str
    url: str
    published_at: datetime | None
    published_day_hk: date | None
    first_seen_at: datetime
    lang: str | None
    doc_type: str
    regulator: bool
    entities: tuple[str, ...]
    entity_names: tuple[str, ...]
    topics: tuple[str, ...]
    topic_names: tuple[str, ...]
    duplicate_of: int | None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class _ChunkTags:
    """One article's tags of each kind, ids and names in step."""

    entities: tuple[str, ...]
    entity_names: tuple[str, ...]
    topics: tuple[str, ...]
    topic_names: tuple[str, ...]


_NO_TAGS = _ChunkTags((), (), (), ())


def export_rows(
    session: Session,
    query: str | None = None,
    *,
    filters: Filters | None = None,
    with_text: bool = False,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[ExportRow]:
    """Every article matching the filters (read as ``search_articles`` reads them), in id
    order, read ``chunk_rows`` at a time. ``QueryError`` at once, before any row is read,
    when the query passes its limits."""
    # In the order _row unpacks them.
    columns = [
        Article.id,
        Article.story_id,
        Article.source_id,
        SourceRow.name.label("source_name"),
        Article.title,
        # The canonical form is the one that joins the same page across sources and visits.
        func.coalesce(Article.canonical_url, Article.url).label("url"),
        Article.published_at,
        Article.first_seen_at,
        Article.lang,
        Article.doc_type,
        Article.regulator,
        Article.duplicate_of,
    ]
    if with_text:
        columns.append(Article.text)
    stmt = (
        select(*columns)
        .outerjoin(SourceRow, SourceRow.id == Article.source_id)
        .where(*_filters(session, query, filters or Filters()))
        .order_by(Article.id)
    )
    # Built (and the query checked) here; the generator below runs it on the first row asked.
    return _stream(session, stmt, chunk_rows, with_text)


def _filters(
    session: Session, query: str | None, filters: Filters
) -> list[ColumnElement[bool] | TextClause]:
    """The WHERE conditions ``search_articles`` applies for the same query and filters (the
    query checked here); a query with nothing to search for matches nothing."""
    selection = select_matching(SessionReader(session), query, filters)
    if selection is None:
        return [literal_column("1") == literal_column("0")]
    if selection.source == "articles":
        where = " AND ".join(selection.where) or "1 = 1"
    else:
        # The word index is joined in its own query; the export reads articles alone.
        where = f"articles.id IN ({matching_ids_sql(selection)})"
    # Only the values the conditions name: the rank's own are not in them.
    named = {k: v for k, v in selection.params.items() if re.search(rf":{k}\b", where)}
    return [text(where).bindparams(**named)]


def _stream(
    session: Session, stmt: Select[*tuple[Any, ...]], chunk_rows: int, with_text: bool
) -> Iterator[ExportRow]:
    """The rows of ``stmt`` with their tags, one chunk in memory at a time."""
    # Core, not the ORM: these are plain columns, and the ORM's row handling would cost a
    # third of the time. yield_per streams: a named (server-side) cursor on Postgres,
    # fetchmany on SQLite, whose cursor steps through the rows as they are asked for.
    connection = session.connection()
    every_tag = select(TagRow.id, TagRow.name, TagRow.kind)
    tags = {tag_id: (name, kind) for tag_id, name, kind in connection.execute(every_tag)}
    result = connection.execute(stmt.execution_options(yield_per=chunk_rows))
    try:
        for chunk in result.partitions():
            chunk_tags = _tags_of(connection, [row.id for row in chunk], tags)
            for row in chunk:
                yield _row(row, chunk_tags.get(row.id), with_text)
    finally:
        # An export stopped early (a failed write) must not leave the cursor open.
        result.close()


def _tags_of(
    connection: Connection, article_ids: Sequence[int], tags: dict[str, tuple[str, str]]
) -> dict[int, _ChunkTags]:
    """The tags of each of ``article_ids``, read in one query: most frequent first, then by
    name (as search lists them). ``tags``: each tag's name and kind, read once."""
    links: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    stmt = select(ArticleTag.article_id, ArticleTag.tag_id, ArticleTag.count).where(
        ArticleTag.article_id.in_(article_ids)
    )
    for article_id, tag_id, count in connection.execute(stmt):
        links[article_id].append((-(count or 0), tags[tag_id][0], tag_id))
    found: dict[int, _ChunkTags] = {}
    for article_id, linked in links.items():
        entities: list[tuple[str, str]] = []
        topics: list[tuple[str, str]] = []
        for _, name, tag_id in sorted(linked):
            (entities if tags[tag_id][1] == "entity" else topics).append((tag_id, name))
        found[article_id] = _ChunkTags(
            tuple(tag_id for tag_id, _ in entities),
            tuple(name for _, name in entities),
            tuple(tag_id for tag_id, _ in topics),
            tuple(name for _, name in topics),
        )
    return found


def _row(row: Any, tags: _ChunkTags | None, with_text: bool) -> ExportRow:
    """An export row from a row of ``export_rows``'s columns, unpacked by position: by name,
    each value costs a lookup, and this runs once per article."""
    (ident, story, source, source_name, title, url, published, first_seen) = row[:8]
    (lang, doc_type, regulator, duplicate_of) = row[8:12]
    tags = tags or _NO_TAGS
    return ExportRow(
        id=ident,
        story_id=story,
        source_id=source,
        source_name=source_name,
        title=title,
        url=url,
        published_at=published,
        published_day_hk=published.astimezone(HONG_KONG).date() if published else None,
        first_seen_at=first_seen,
        lang=lang,
        doc_type=doc_type,
        regulator=bool(regulator),
        entities=tags.entities,
        entity_names=tags.entity_names,
        topics=tags.topics,
        topic_names=tags.topic_names,
        duplicate_of=duplicate_of,
        text=row[12] if with_text else None,
    )
