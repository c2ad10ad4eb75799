"""Stories: every copy, rewrite and translation of one event grouped, none dropped.

The cascade, cheapest first (``match``): the same item (stable id or canonical URL, decided
before any of this), a translation (regulator reference number), a duplicate (canonical URL,
normalised text), a near-duplicate (MinHash over shingles, ``minhash`` and ``shingles``) and
the same story (titles, bodies, tags, a window of days). ``features`` computes an article's
fingerprint and the keys it is filed under; ``refs`` and ``titles`` read reference numbers
and headlines. Nothing here does IO: the store files and looks up the keys, and
``pipeline.dedupe.Deduper`` holds the same index in memory.
"""
