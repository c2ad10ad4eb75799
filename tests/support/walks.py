"""Search test helpers: Postgres's walks of the time index made to take other windows, and a
record of whether each gave up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from pipeline.store import search_title_first, search_walk, search_words
from pipeline.store.reader import Row

# Walks (first window, articles read before giving up, the sparsest matches walked on):
# windows of one article and doubling, over every article; giving up after a few articles;
# giving up after any window holding an article that does not match; the modules' own.
WALKS: list[tuple[int, int, float | None]] = [
    (1, 10**9, float("inf")),
    (1, 3, float("inf")),
    (2, 10**9, 1),
    (search_walk.FIRST_WINDOW, search_walk.MOST_WALKED, None),
]
WALK_IDS = ["windows-from-one", "giving-up", "giving-up-sparse", "default-windows"]
GIVING_UP = {WALKS[1], WALKS[2]}


class RecordedWalk(search_walk.NewestWalk):
    """A walk that keeps, once read, whether it gave up."""

    ended: ClassVar[list[bool]] = []

    def __iter__(self) -> Iterator[Row]:
        yield from super().__iter__()
        RecordedWalk.ended.append(self.gave_up)


def record_walks(
    monkeypatch: pytest.MonkeyPatch, walk: tuple[int, int, float | None]
) -> list[bool]:
    """Walks of these windows (a sparsest of None: each search's own), recorded: a list that
    gets, for each walk read to its end, whether it gave up."""
    monkeypatch.setattr(search_walk, "FIRST_WINDOW", walk[0])
    monkeypatch.setattr(search_walk, "MOST_WALKED", walk[1])
    if walk[2] is not None:
        monkeypatch.setattr(search_walk, "SPARSEST", walk[2])
        monkeypatch.setattr(search_words, "WORD_WALK_SPARSEST", walk[2])
    monkeypatch.setattr(search_title_first, "NewestWalk", RecordedWalk)
    monkeypatch.setattr(RecordedWalk, "ended", [])
    return RecordedWalk.ended
