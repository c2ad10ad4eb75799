"""Stored fingerprints already decoded in this process, kept so that a run does not decode the
same article again for every batch that finds it as a candidate.

Within a run most candidates are articles the run itself stored a batch or two before; decoding
each one's row (title terms, signatures) and re-reading its text for shingles was a third of the
dedupe stage (``bench/pipeline.py``). Both caches are exact, never stale:

- a decoded row is reused only for the very same row: every column it was decoded from is
  compared, so an edit, a retag or a split decodes afresh;
- shingles are kept by the content hash of the text they were made from. The hash is taken
  over the text with every run of non-word characters made one space, which is exactly where
  tokens split, so one hash means one list of tokens and one set of shingles. A text too short
  to have a hash is not kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from pipeline.stories.shingles import Hashes

# Decoded rows kept: the candidates of a run's last dozen batches (a few hundred a batch), about
# 3 KB each with their signatures.
ROW_CACHE_ENTRIES = 10_000
# Shingle hashes kept, all lists together (8 bytes each: 32 MB). Bounded by values, not by
# lists, since one long text has ten times the shingles of a news article.
SHINGLE_CACHE_VALUES = 4_000_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A least-recently-used map bounded by the summed sizes of its values."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._size = 0

    def get(self, key: K) -> V | None:
        """The value under ``key`` (now the most recently used), or None."""
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V, size: int = 1) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used past the capacity."""
        if size > self.capacity:
            return
        previous = self._items.pop(key, None)
        if previous is not None:
            self._size -= previous[1]
        self._items[key] = (value, size)
        self._size += size
        while self._size > self.capacity:
            _, (_, dropped) = self._items.popitem(last=False)
            self._size -= dropped

    def clear(self) -> None:
        """Forget everything."""
        self._items.clear()
        self._size = 0


_shingles: Lru[str, Hashes] = Lru(SHINGLE_CACHE_VALUES)


def shingles_of(content_hash: str) -> Hashes | None:
    """The shingles of the text with this content hash, when kept."""
    return _shingles.get(content_hash) if content_hash else None


def remember_shingles(content_hash: str, shingles: Hashes | None) -> None:
    """Keep a text's shingles under its content hash (a text with no hash is not kept)."""
    if content_hash and shingles is not None:
        _shingles.put(content_hash, shingles, max(len(shingles), 1))

