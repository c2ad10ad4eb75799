"""Full-text and tag search over stored articles, on SQLite (FTS5) and Postgres (tsvector).

User text never reaches the FTS5 parser as syntax: it is reduced to quoted words and phrases,
joined with AND, OR (the word ``OR`` between terms) and NOT (a leading ``-``), the same reading
Postgres gives it with ``websearch_to_tsquery``. So no input can raise a syntax error. The
reading itself (``parse_query``, ``check_query`` and their limits) is ``pipeline.querytext``,
shared with alert rules.

A query holding a Chinese, Japanese or Korean term is matched term by term, those terms as
substrings (``pipeline.store.search_terms``), and ranked by how many of its terms the title
holds; a query without one keeps the word index and its ranking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select, table, text
from sqlalchemy.orm import Session

from pipeline.querytext import MAX_QUERY_CHARS as MAX_QUERY_CHARS
from pipeline.querytext import MAX_QUERY_TERMS as MAX_QUERY_TERMS
from pipeline.querytext import ParsedQuery as ParsedQuery
from pipeline.querytext import check_query, parse_query
from pipeline.store.schema import Article, ArticleTag, TagRow
from pipeline.store.search_terms import needs_terms, query_condition, title_rank

# Column weights for SQLite's bm25: a word in the title counts as much as five in the body.
TITLE_WEIGHT = 5.0
TEXT_WEIGHT = 1.0
# Characters of text shown around the first match; about two lines of a terminal table.
SNIPPET_CHARS = 200
# How much of the snippet comes before the first match, so the match has some context.
SNIPPET_LEAD = 60

TagInfo = tuple[str, str, str, int, tuple[str, ...]]


@dataclass(frozen=True)
class ArticleHit:
    """One search result with its tags (id, name, kind, count, evidence), best first."""

    id: int
    title: str
    url: str
    canonical_url: str | None
    source_id: str
    published_at: datetime | None
    doc_type: str
    regulator: bool
    text: str
    tags: tuple[TagInfo, ...]
    snippet: str
    rank: float
    story_id: int | None = None


def fts5_query(query: str) -> str | None:
    """An FTS5 MATCH expression for ``query`` (every term quoted), or None if it has no words."""
    parsed = parse_query(query)
    if not parsed.groups:
        return None

    def quoted(term: str) -> str:
        return '"' + term + '"'  # terms hold only word characters and spaces

    wanted = " AND ".join(
        "(" + " OR ".join(quoted(term) for term in group) + ")" for group in parsed.groups
    )
    if not parsed.excluded:
        return wanted
    return f"({wanted}) NOT ({' OR '.join(quoted(term) for term in parsed.excluded)})"


def make_snippet(body: str, words: list[str], width: int = SNIPPET_CHARS) -> str:
    """A piece of ``body`` around the first of ``words`` it contains (else its opening)."""
    folded = body.casefold()
    found = [p for p in (folded.find(w.casefold()) for w in words) if p >= 0]
    start = max(0, min(found) - SNIPPET_LEAD) if found else 0
    if start:
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < start + SNIPPET_LEAD else start
    piece = " ".join(body[start : start + width].split())
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(body) else ""
    return f"{prefix}{piece}{suffix}"


def tag_filter(kind: str, value: str) -> ColumnElement[bool]:
    """Tagged with the tag of ``kind`` whose id or name is ``value`` (any case)."""
    wanted = value.strip().lower()
    tagged = (
        select(ArticleTag.article_id)
        .join(TagRow, TagRow.id == ArticleTag.tag_id)
        .where(
            TagRow.kind == kind,
            or_(func.lower(TagRow.id) == wanted, func.lower(TagRow.name) == wanted),
        )
    )
    return Article.id.in_(tagged)


def _many(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class Filters:
    """What an article must be to match, besides the text: every entity and every topic named,
    one of the sources, document types and languages named, the regulator flag, a time range
    (``until`` exclusive; the publication time, or the time first seen for an undated one)."""

    entities: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    regulator: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    include_duplicates: bool = False

    @classmethod
    def of(
        cls,
        *,
        entity: str | Sequence[str] | None = None,
        topic: str | Sequence[str] | None = None,
        source: str | Sequence[str] | None = None,
        doc_type: str | Sequence[str] | None = None,
        lang: str | Sequence[str] | None = None,
        regulator: bool | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        include_duplicates: bool = False,
    ) -> Filters:
        """Filters from options given one value or several."""
        return cls(
            _many(entity),
            _many(topic),
            _many(source),
            _many(doc_type),
            _many(lang),
            regulator,
            since,
            until,
            include_duplicates,
        )

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions these filters make."""
        when = func.coalesce(Article.published_at, Article.first_seen_at)
        found: list[ColumnElement[bool]] = []
        if not self.include_duplicates:
            found.append(Article.duplicate_of.is_(None))
        if self.sources:
            found.append(Article.source_id.in_(self.sources))
        if self.doc_types:
            found.append(Article.doc_type.in_(self.doc_types))
        if self.langs:
            # "zh" takes zh-hant and zh-hk, as a rule's languages do.
            found.append(
                or_(*(func.lower(Article.lang).like(f"{lang.lower()}%") for lang in self.langs))
            )
        if self.regulator is not None:
            found.append(Article.regulator.is_(self.regulator))
        found += [tag_filter("entity", value) for value in self.entities]
        found += [tag_filter("topic", value) for value in self.topics]
        if self.since is not None:
            found.append(when >= self.since)
        if self.until is not None:
            found.append(when < self.until)
        return found


def text_filter(session: Session, query: str) -> ColumnElement[bool]:
    """Matched by ``query`` in the dialect's full-text index; false when the query holds
    nothing to search for."""
    matched = _text_match(session, query)
    if matched is None:
        return literal_column("1") == literal_column("0")
    stmt, _ = matched
    return Article.id.in_(stmt.with_only_columns(Article.id))


def _selection(
    session: Session, query: str | None, filters: Filters
) -> tuple[HitQuery, ColumnElement[Any] | None, list[str]] | None:
    """The filtered selection of hits, its rank (for a text query) and the query's words;
    None when the query holds nothing to search for."""
    words: list[str] = []
    rank: ColumnElement[Any] | None = None
    stmt: HitQuery
    if query is not None and query.strip():
        words = check_query(query).words
        matched = _text_match(session, query)
        if matched is None:
            return None
        stmt, rank = matched
    else:
        stmt = select(*_HIT_COLUMNS, literal_column("0.0").label("rank"))
    return stmt.where(*filters.conditions()), rank, words


def count_articles(
    session: Session, query: str | None = None, *, filters: Filters | None = None
) -> int:
    """How many articles ``search_articles`` would find with no limit."""
    selected = _selection(session, query, filters or Filters())
    if selected is None:
        return 0
    stmt = selected[0].with_only_columns(Article.id).subquery()
    return int(session.scalar(select(func.count()).select_from(stmt)) or 0)


def search_articles(
    session: Session,
    query: str | None = None,
    *,
    filters: Filters | None = None,
    limit: int = 20,
    entity: str | None = None,
    topic: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_duplicates: bool = False,
) -> list[ArticleHit]:
    """Articles matching ``filters`` (or the one entity, topic, source and time range given):
    best match first for text, else newest first. ``QueryError`` when the query passes its
    limits.
    """
    if limit <= 0:
        return []
    if filters is None:
        filters = Filters.of(
            entity=entity,
            topic=topic,
            source=source,
            since=since,
            until=until,
            include_duplicates=include_duplicates,
        )
    selected = _selection(session, query, filters)
    if selected is None:
        return []
    stmt, rank, words = selected
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    order: list[ColumnElement[Any]] = [when.desc(), Article.id.desc()]
    if rank is not None:
        order.insert(0, rank.desc())
    rows = session.execute(stmt.order_by(*order).limit(limit)).all()
    tags = _tags_for(session, [row.id for row in rows])
    return [_hit(row, tags.get(row.id, ()), words) for row in rows]


# A selection of the hit columns plus a rank.
HitQuery = Select[*tuple[Any, ...]]

_HIT_COLUMNS = (
    Article.id,
    Article.title,
    Article.url,
    Article.canonical_url,
    Article.source_id,
    Article.published_at,
    Article.doc_type,
    Article.regulator,
    Article.text,
    Article.story_id,
)


def _text_match(session: Session, query: str) -> tuple[HitQuery, ColumnElement[Any]] | None:
    """The full-text selection of ``query`` and its rank, in the dialect's own index; None
    when the query holds nothing to search for."""
    postgres = session.get_bind().dialect.name == "postgresql"
    parsed = parse_query(query)
    if needs_terms(parsed):
        by_terms = title_rank(parsed, postgres)
        selected: HitQuery = select(*_HIT_COLUMNS, by_terms.label("rank"))
        return selected.where(query_condition(parsed, postgres)), by_terms
    if postgres:
        vector: ColumnElement[Any] = literal_column("articles.search_vector")
        tsquery = func.websearch_to_tsquery(literal_column("'english'::regconfig"), query)
        rank: ColumnElement[Any] = func.ts_rank(vector, tsquery)
        found: HitQuery = select(*_HIT_COLUMNS, rank.label("rank"))
        return found.where(vector.op("@@")(tsquery)), rank
    match = fts5_query(query)
    if match is None:
        return None
    fts = table("articles_fts", literal_column("rowid"))
    rank = -func.bm25(literal_column("articles_fts"), TITLE_WEIGHT, TEXT_WEIGHT)
    stmt: HitQuery = (
        select(*_HIT_COLUMNS, rank.label("rank"))
        .select_from(fts)
        .join(Article, Article.id == literal_column("articles_fts.rowid"))
        .where(text("articles_fts MATCH :fts_query").bindparams(fts_query=match))
    )
    return stmt, rank


def _hit(row: Any, tags: Sequence[TagInfo], words: list[str]) -> ArticleHit:
    return ArticleHit(
        id=row.id,
        title=row.title,
        url=row.url,
        canonical_url=row.canonical_url,
        source_id=row.source_id,
        published_at=row.published_at,
        doc_type=row.doc_type,
        regulator=row.regulator,
        text=row.text,
        tags=tuple(tags),
        snippet=make_snippet(row.text, words),
        rank=float(row.rank or 0.0),
        story_id=row.story_id,
    )


def _tags_for(session: Session, article_ids: list[int]) -> dict[int, list[TagInfo]]:
    """The tags of each article, most frequent first."""
    found: dict[int, list[TagInfo]] = defaultdict(list)
    if not article_ids:
        return found
    stmt = (
        select(
            ArticleTag.article_id,
            TagRow.id,
            TagRow.name,
            TagRow.kind,
            ArticleTag.count,
            ArticleTag.evidence,
        )
        .join(TagRow, TagRow.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id.in_(article_ids))
        .order_by(ArticleTag.article_id, ArticleTag.count.desc(), TagRow.name)
    )
    for article_id, tag_id, name, kind, count, evidence in session.execute(stmt):
        found[article_id].append((tag_id, name, kind, count, tuple(evidence or ())))
    return found
