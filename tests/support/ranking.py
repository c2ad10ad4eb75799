"""Search test helpers: a page read the quick way checked against the ranking of every match,
and a record of which pages the title matches alone answered."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from pipeline.store import search, search_title_first
from pipeline.store.reader import Row, reader_for
from pipeline.store.search import Filters, _hits_sql, search_articles, select_matching

GROUPS = ("article", "story")
LIMITS = (1, 2, 5, 20, 1000)


def record_title_pages(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A list that gets, for each page the title matches were asked for, whether they filled
    it (True) or the caller went on to rank every match (False)."""
    answered: list[bool] = []

    def title_first_rows(*args: Any, **kwargs: Any) -> list[Row] | None:
        rows = search_title_first.title_first_rows(*args, **kwargs)
        answered.append(rows is not None)
        return rows

    monkeypatch.setattr(search, "title_first_rows", title_first_rows)
    return answered


def check_pages_against_full_ranking(
    session: Session, query: str, filters: Filters, *, title_first: bool
) -> int:
    """Assert that each page ``search_articles`` gives for ``query`` and ``filters`` (by
    article and by story, at several limits) is the page that ranking every match gives, ids,
    match counts and ranks alike, and that the query has title matches read apart exactly when
    ``title_first``; the number of rows compared."""
    reader = reader_for(session)
    selection = select_matching(reader, query, filters)
    assert selection is not None
    assert (selection.title_first is not None) == title_first, query
    compared = 0
    for group in GROUPS:
        for limit in LIMITS:
            fast = search_articles(session, query, filters=filters, limit=limit, group=group)
            every = reader.rows(_hits_sql(selection, group), {**selection.params, "limit": limit})
            assert [(hit.id, hit.matched_in_story, hit.rank) for hit in fast] == [
                (row["id"], row["matched"], float(row["rank"])) for row in every
            ], (query, filters, group, limit)
            compared += len(every)
    return compared
