"""The SQL a query's text becomes, per dialect and per kind of term.

A query without Chinese, Japanese or Korean terms goes to the word index as one expression:
FTS5's ``MATCH`` on SQLite (``fts5_query``), a ``tsquery`` on Postgres (``tsquery_text``),
both stemmed, with phrases, prefixes (``stable*``), OR and exclusion. A query holding such a
term is matched term by term instead (``query_condition``), since those scripts have no
spaces between words and the word indexes see a whole clause as one word: such a term as a
substring, on SQLite through the FTS5 ``trigram`` table ``articles_fts_trigram`` when it has
three characters or more (the fewest a trigram index can look up), else with ``LIKE`` over
the row; on Postgres with ``ILIKE``, which the ``pg_trgm`` index of migration 0008 serves
where the extension exists. Both indexes hold only the rows marked ``has_cjk`` (migration
0012), since no other row can hold such a term. The other terms of that query still go through
the word index.

Terms hold only word characters and spaces (``pipeline.querytext``), with a trailing ``*`` for
a prefix, so quoting them can never make FTS5 or ``to_tsquery`` syntax.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pipeline.querytext import ParsedQuery

# Chinese, Japanese and Korean characters (the ranges alert rules use).
_CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)
# The shortest term SQLite's trigram tokenizer can look up; a shorter one is read from the row.
TRIGRAM_CHARS = 3
TRIGRAM_TABLE = "articles_fts_trigram"
WORD_TABLE = "articles_fts"
# Written out as the Postgres pg_trgm index (migration 0008) is built, so the planner uses it.
TITLE_AND_TEXT = "(articles.title || ' ' || articles.text)"
ENGLISH = "'english'::regconfig"
# Only a row holding such a character can hold a Chinese, Japanese or Korean term.
CJK_ROW = "articles.has_cjk"


def has_cjk(term: str) -> bool:
    """Whether ``term`` holds a Chinese, Japanese or Korean character."""
    # An ASCII text (most English articles) is answered without reading it through the pattern.
    if term.isascii():
        return False
    return _CJK.search(term) is not None


def needs_terms(parsed: ParsedQuery) -> bool:
    """Whether ``parsed`` holds a term the word index cannot find, so it is read term by term."""
    terms = [term for group in parsed.groups for term in group] + list(parsed.excluded)
    return bool(parsed.groups) and any(has_cjk(term) for term in terms)


def like_pattern(term: str) -> str:
    """A LIKE pattern finding ``term`` anywhere, its wildcard characters escaped with ``\\``."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts5_phrase(term: str) -> str:
    """``term`` as one FTS5 phrase, a prefix phrase when it ends with ``*``."""
    if term.endswith("*"):
        return '"' + term[:-1] + '"*'
    return '"' + term + '"'


def fts5_match(query: ParsedQuery) -> str | None:
    """An FTS5 MATCH expression for ``query`` (every term quoted), or None if it has no words."""
    if not query.groups:
        return None
    wanted = " AND ".join(
        "(" + " OR ".join(fts5_phrase(term) for term in group) + ")" for group in query.groups
    )
    if not query.excluded:
        return wanted
    return f"({wanted}) NOT ({' OR '.join(fts5_phrase(term) for term in query.excluded)})"


def tsquery_phrase(term: str) -> str:
    """``term`` for ``to_tsquery``: its words quoted and followed in order, the last one a
    prefix when the term ends with ``*``."""
    prefix = term.endswith("*")
    words = [f"'{word}'" for word in term.rstrip("*").split()]
    if prefix:
        words[-1] += ":*"
    return "(" + " <-> ".join(words) + ")"


def tsquery_text(query: ParsedQuery) -> str:
    """The ``to_tsquery`` text of ``query``: groups ANDed, alternatives ORed, exclusions NOTed.
    Stop words drop out in Postgres, as ``websearch_to_tsquery`` drops them."""
    parts = [
        "(" + " | ".join(tsquery_phrase(term) for term in group) + ")" for group in query.groups
    ]
    parts += ["!" + tsquery_phrase(term) for term in query.excluded]
    return " & ".join(parts)


def query_condition(
    query: ParsedQuery,
    postgres: bool,
    params: dict[str, Any],
    name: str = "term",
    *,
    per_row: bool = False,
) -> str:
    """SQL true when every group of ``query`` has a term the article holds and no excluded
    term does; its values go into ``params`` under ``name`` and a number. ``per_row``: SQLite's
    full-text tables are asked about each article in turn, for a condition on a few articles
    (otherwise every article a term matches is listed first, which suits a search)."""
    counter = iter(range(10_000))

    def condition(term: str) -> str:
        key = f"{name}{next(counter)}"
        return term_condition(term, postgres, params, key, per_row=per_row)

    wanted = " AND ".join(
        "(" + " OR ".join(condition(term) for term in group) + ")" for group in query.groups
    )
    excluded = excluded_condition(query, postgres, params, f"{name}_not", per_row=per_row)
    return wanted if excluded is None else f"{wanted} AND {excluded}"


def title_rank(query: ParsedQuery, postgres: bool, params: dict[str, Any]) -> str:
    """SQL for how many of the wanted groups (a term with its alternatives: ``OR``, the other
    scripts of a Chinese term) the title holds, any case: title matches first."""
    position = "strpos" if postgres else "instr"
    held = title_holds(
        query,
        params,
        "title",
        str.lower,
        lambda key: f"{position}(lower(articles.title), :{key}) > 0",
    )
    return " + ".join(f"CASE WHEN {group} THEN 1.0 ELSE 0.0 END" for group in held) or "0.0"


def title_holds(
    query: ParsedQuery,
    params: dict[str, Any],
    name: str,
    value: Callable[[str], str],
    holds: Callable[[str], str],
) -> list[str]:
    """SQL per wanted group of ``query``: the title holds one of its terms (each once, its
    prefix mark dropped), as ``holds`` tests the parameter it is given by key, whose value
    ``value`` makes of the term; the values go into ``params`` under ``name`` and a number."""
    counter = iter(range(10_000))
    conditions = []
    for group in query.groups:
        held = []
        for term in dict.fromkeys(term.rstrip("*") for term in group):
            key = f"{name}{next(counter)}"
            params[key] = value(term)
            held.append(holds(key))
        conditions.append("(" + " OR ".join(held) + ")")
    return conditions


def title_match(query: ParsedQuery) -> str | None:
    """An FTS5 ``MATCH`` of the trigram table for the rows whose title holds every wanted group
    of ``query`` (the rows of the highest title rank), when each of its terms is Chinese,
    Japanese or Korean of at least three characters (what the trigram index can look up); else
    None."""
    terms = [term.rstrip("*") for group in query.groups for term in group]
    if not terms or not all(has_cjk(t) and len(t) >= TRIGRAM_CHARS for t in terms):
        return None
    groups = [
        "title : (" + " OR ".join(fts5_phrase(t.rstrip("*")) for t in group) + ")"
        for group in query.groups
    ]
    return " AND ".join(groups)


def excluded_condition(
    query: ParsedQuery,
    postgres: bool,
    params: dict[str, Any],
    name: str = "not",
    *,
    per_row: bool = False,
) -> str | None:
    """SQL true when the article holds none of ``query``'s excluded terms (None without any);
    its values go into ``params`` under ``name`` and a number."""
    if not query.excluded:
        return None
    counter = iter(range(10_000))
    held = " OR ".join(
        term_condition(
            term, postgres, params, f"{name}{next(counter)}", excluded=True, per_row=per_row
        )
        for term in query.excluded
    )
    return f"NOT ({held})"


def term_condition(
    term: str,
    postgres: bool,
    params: dict[str, Any],
    key: str,
    *,
    excluded: bool = False,
    per_row: bool = False,
) -> str:
    """SQL true when an article holds ``term``: as a substring for a Chinese, Japanese or
    Korean term, else through the word index (stemmed). ``excluded``: the term is to be left
    out, which a term of stop words alone (ignored) never is."""
    if has_cjk(term):
        params[key] = like_pattern(term.rstrip("*"))
        if postgres:
            # A term with no case (Chinese) needs no ILIKE, which lowercases every row it
            # reads; the same trigram index serves LIKE. The index holds only the rows marked
            # ``has_cjk`` (migration 0012), which the planner uses it for when told so.
            like = "LIKE" if term.lower() == term.upper() else "ILIKE"
            return f"({CJK_ROW} AND {TITLE_AND_TEXT} {like} :{key} ESCAPE '\\')"
        if len(term.rstrip("*")) < TRIGRAM_CHARS:
            return f"({CJK_ROW} AND {TITLE_AND_TEXT} LIKE :{key} ESCAPE '\\')"
        params[key] = fts5_phrase(term.rstrip("*"))
        return _fts_rows(TRIGRAM_TABLE, key, per_row)
    if postgres:
        return _postgres_words(term, params, key, excluded=excluded)
    params[key] = fts5_phrase(term)
    return _fts_rows(WORD_TABLE, key, per_row)


def _postgres_words(term: str, params: dict[str, Any], key: str, *, excluded: bool) -> str:
    """A word term on Postgres: through the stemmed index, and when the English configuration
    drops some of its words as stop words ("its", "other markets"), which would leave the
    term matching everything or too much, also as those words in that order in the row."""
    words = term.rstrip("*").split()
    params[key] = tsquery_phrase(term)
    params[f"{key}_raw"] = " ".join(words)
    params[f"{key}_words"] = len(words)
    # Word edges as \m and \M; any run of non-word characters between the words.
    params[f"{key}_re"] = "\\m" + "[\\W_]+".join(words) + ("" if term.endswith("*") else "\\M")
    tsquery = f"to_tsquery({ENGLISH}, :{key})"
    indexed = f"articles.search_vector @@ {tsquery}"
    whole = f"length(to_tsvector({ENGLISH}, :{key}_raw)) = :{key}_words"
    written = f"{TITLE_AND_TEXT} ~* :{key}_re"
    if excluded:
        return f"(CASE WHEN {whole} THEN {indexed} ELSE {written} END)"
    return (
        f"(CASE WHEN {whole} THEN {indexed}"
        f" ELSE (numnode({tsquery}) = 0 OR {indexed}) AND {written} END)"
    )


def _fts_rows(table: str, key: str, per_row: bool = False) -> str:
    """The article is among the rows of the FTS5 ``table`` matching the phrase in ``key``:
    every matching row listed once, or (``per_row``) the article's own row looked up."""
    if per_row:
        return f"EXISTS (SELECT 1 FROM {table} WHERE {table} MATCH :{key} AND rowid = articles.id)"
    return f"articles.id IN (SELECT rowid FROM {table} WHERE {table} MATCH :{key})"
