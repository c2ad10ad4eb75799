"""How a full-text query is read: words, "phrases", prefix*, OR between alternatives, -excluded.

One reading for every place a person writes a query: ``newswatch search`` (which turns it into
an FTS5 or tsquery expression, ``pipeline.store.search``) and an alert rule's ``query``
(matched in memory, ``pipeline.alerts.textmatch``). Only the standard library is imported, so
checking ``alerts.toml`` needs no database driver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.errors import QueryError

# A query is typed by a person: a few words or phrases. Far longer input is pasted text or an
# attack; a 100 KB query took minutes on SQLite and was too complex a statement for Postgres.
MAX_QUERY_CHARS = 500
# Each term is one more FTS condition; 32 covers any real query with its alternatives.
MAX_QUERY_TERMS = 32

_TERM = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ParsedQuery:
    """A user query as groups of alternatives (all groups must match) and excluded terms.

    A term is words separated by single spaces, with a trailing ``*`` when its last word is a
    prefix (``stable*``)."""

    groups: tuple[tuple[str, ...], ...]
    excluded: tuple[str, ...]

    @property
    def words(self) -> list[str]:
        """The words to highlight: every word of every wanted term."""
        return [
            word for group in self.groups for term in group for word in term.rstrip("*").split()
        ]


def parse_query(query: str) -> ParsedQuery:
    """Read ``query`` the way web search engines do: words, "phrases", OR, and -excluded."""
    groups: list[list[str]] = []
    excluded: list[str] = []
    alternative = False
    for match in _TERM.finditer(query):
        phrase, bare = match.group(1), match.group(2)
        negate = False
        if bare is not None:
            if bare == "OR":
                alternative = bool(groups)
                continue
            if bare.startswith("-") and len(bare) > 1:
                negate, bare = True, bare[1:]
        words = _WORD.findall(bare if bare is not None else phrase)
        if not words:
            continue
        term = " ".join(words)
        if bare is not None and bare.endswith("*"):
            term += "*"  # a prefix: "stable*" finds stablecoin
        if negate:
            excluded.append(term)
        elif alternative:
            groups[-1].append(term)
        else:
            groups.append([term])
        alternative = False
    return ParsedQuery(tuple(tuple(g) for g in groups), tuple(excluded))


def check_query(query: str) -> ParsedQuery:
    """The parsed ``query``; ``QueryError`` saying which limit it passes, if it does."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(
            f"search query is {len(query):,} characters long; at most {MAX_QUERY_CHARS} are read"
        )
    parsed = parse_query(query)
    terms = sum(len(group) for group in parsed.groups) + len(parsed.excluded)
    if terms > MAX_QUERY_TERMS:
        raise QueryError(f"search query has {terms} terms; at most {MAX_QUERY_TERMS} are read")
    return parsed
