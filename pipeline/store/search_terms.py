"""Matching a query term by term, for queries holding Chinese, Japanese or Korean terms.

Those scripts have no spaces between words, so the word indexes (FTS5 ``articles_fts``,
Postgres ``search_vector``) see a whole clause as one word. Such a term is matched as a
substring instead: on SQLite through the FTS5 ``trigram`` table ``articles_fts_trigram`` when
it has three characters or more (the fewest a trigram index can look up), else with ``LIKE``
over the row; on Postgres with ``ILIKE``, which the ``pg_trgm`` index of migration 0008 serves
where the extension exists. Every other term of the same query still goes through the word
index, stemmed, so AND, OR, -exclusion and "phrases" keep their meaning across both kinds.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
)

from pipeline.querytext import ParsedQuery
from pipeline.store.schema import Article

# Chinese, Japanese and Korean characters (the ranges alert rules use).
_CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)
# The shortest term SQLite's trigram tokenizer can look up; a shorter one is read from the row.
TRIGRAM_CHARS = 3
TRIGRAM_TABLE = "articles_fts_trigram"
WORD_TABLE = "articles_fts"
# Written out, not built from the columns: the Postgres pg_trgm index (migration 0008) is on
# this very expression, and a bound ' ' would keep the planner from using it.
_TITLE_AND_TEXT: ColumnElement[str] = literal_column("(articles.title || ' ' || articles.text)")


def has_cjk(term: str) -> bool:
    """Whether ``term`` holds a Chinese, Japanese or Korean character."""
    return _CJK.search(term) is not None


def needs_terms(parsed: ParsedQuery) -> bool:
    """Whether ``parsed`` holds a term the word index cannot find, so it is read term by term."""
    terms = [term for group in parsed.groups for term in group] + list(parsed.excluded)
    return bool(parsed.groups) and any(has_cjk(term) for term in terms)


def like_pattern(term: str) -> str:
    """A LIKE pattern finding ``term`` anywhere, its wildcard characters escaped with ``\\``."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def query_condition(parsed: ParsedQuery, postgres: bool) -> ColumnElement[bool]:
    """Every group of ``parsed`` has a term the article holds, and no excluded term does."""
    wanted = and_(
        *(or_(*(term_condition(term, postgres) for term in group)) for group in parsed.groups)
    )
    if not parsed.excluded:
        return wanted
    excluded = or_(*(term_condition(term, postgres, excluded=True) for term in parsed.excluded))
    return and_(wanted, not_(excluded))


def title_rank(parsed: ParsedQuery, postgres: bool) -> ColumnElement[Any]:
    """How many of the wanted terms the title holds (any case): matches in the title first."""
    title = func.lower(Article.title)
    position = func.strpos if postgres else func.instr
    rank: ColumnElement[Any] = literal(0.0)
    for term in dict.fromkeys(term for group in parsed.groups for term in group):
        rank = rank + case((position(title, term.lower()) > 0, 1.0), else_=0.0)
    return rank


def term_condition(term: str, postgres: bool, *, excluded: bool = False) -> ColumnElement[bool]:
    """Whether an article holds ``term``: as a substring for a Chinese, Japanese or Korean
    term, else through the word index (stemmed) as ``websearch_to_tsquery`` or FTS5 reads it.
    ``excluded``: the term is to be left out, which a stop word (ignored) never is."""
    if has_cjk(term):
        if postgres:
            return _TITLE_AND_TEXT.ilike(like_pattern(term), escape="\\")
        if len(term) < TRIGRAM_CHARS:
            return _TITLE_AND_TEXT.like(like_pattern(term), escape="\\")
        return _fts_rows(TRIGRAM_TABLE, term)
    if postgres:
        vector: ColumnElement[Any] = literal_column("articles.search_vector")
        tsquery = func.phraseto_tsquery(literal_column("'english'::regconfig"), term)
        # A term of stop words alone reduces to nothing; websearch_to_tsquery drops it from
        # the query, so here it matches when wanted and excludes nothing when excluded.
        if excluded:
            return and_(func.numnode(tsquery) > 0, vector.op("@@")(tsquery))
        return or_(func.numnode(tsquery) == 0, vector.op("@@")(tsquery))
    return _fts_rows(WORD_TABLE, term)


def _fts_rows(name: str, term: str) -> ColumnElement[bool]:
    """The article is among the rows of the FTS5 table ``name`` holding the phrase ``term``."""
    fts = table(name, column("rowid"))
    # Terms hold only word characters and spaces, so quoting makes them one FTS5 phrase.
    found = select(fts.c.rowid).where(literal_column(name).op("MATCH")('"' + term + '"'))
    return Article.id.in_(found)
