"""An article's fingerprint: everything the story tiers compare, computed once, without IO.

Each fingerprint also names the keys the store indexes it under (``lookup_keys`` and
``stored_keys``): its regulator reference, the bands of its MinHash signature, and its story
terms (pairs of title terms) within the fortnight it appeared. A new article is compared only with
the stored articles that share one of those keys, so the cost of a check does not grow with the
history stored.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from pipeline.models import Article
from pipeline.stories import minhash
from pipeline.stories.refs import RegulatorRef, regulator_ref
from pipeline.stories.shingles import (
    TOKEN_CACHE_LIMIT,
    Hashes,
    distinct_sorted,
    han_share,
    shingle_hashes,
    token_hash,
    token_hashes,
    tokens,
)
from pipeline.stories.titles import STOP_WORDS, stem, title_terms

# Below this many tokens a text is a stub (a feed summary, "read more"): too short to call
# another text its copy, so it gets no near-duplicate signature.
MIN_NEAR_TOKENS = 40
# Story terms are filed under the fortnight an article appeared in; a lookup reads its own and
# the one nearer its date (the previous in the first week, the next in the second), which
# covers seven days either side with two lookups per term instead of three weeks'.
PERIOD_DAYS = 14
# A story term is a pair of title terms: two write-ups of one event share at least two, and a
# pair is rare where a single word ("crypto") is in every other title. Of a long title only
# this many terms make pairs (at most 21 keys): those with the lowest hashes, so two titles
# sharing most of their terms pick most of the same ones (a bottom-k sketch), in English and
# in Chinese alike.
MAX_PAIRED_TERMS = 7
# A key shared by more articles than this (a boilerplate band, a headline a flood of items
# repeats) says little about any of them: only its newest this many are read.
MAX_POSTINGS_PER_KEY = 20
# Of the articles sharing keys with a new one, only this many (those sharing the most) are
# compared with it, so one article's cost is bounded whatever the data.
MAX_CANDIDATES = 10
# Term keys are cached: the same title words recur for days, and hashing them is a fingerprint's
# largest cost after the signatures.
KEY_CACHE = 100_000
# A body word that is no term (a stop word, a word of two letters or fewer), in the cache of
# each word's term hash: crc32 values are never negative.
_NO_TERM = -1
_term_hashes: dict[str, int] = {}
# Tags set by a source's feed categories say where it was filed, not what happened.
IGNORED_TAG_PREFIX = "category:"


@dataclass(frozen=True)
class Fingerprint:
    """What the story tiers know of one article."""

    key: str
    canonical: str | None
    content_hash: str
    lang: str
    at: datetime | None
    source_id: str
    regulator: bool
    ref: RegulatorRef | None
    title_terms: frozenset[str]
    tags: frozenset[str]
    # The shingles themselves are kept only while the text is at hand (to verify a
    # near-duplicate exactly); a fingerprint read back from the store has none.
    shingles: Hashes | None
    near: minhash.Signature | None
    words: minhash.Signature

    # Keys are computed once, when first asked for: a batch asks at every step, and a stored
    # article read back to be compared with is asked only for the keys it is filed under.

    @functools.cached_property
    def _fixed_keys(self) -> list[int]:
        bands = [] if self.near is None else minhash.band_keys(self.near)
        return bands + ([] if self.ref is None else [_key(f"ref:{self.ref.key}")])

    @functools.cached_property
    def _term_keys(self) -> list[int]:
        return [_key(f"t:{term}") for term in self._story_terms()]

    @functools.cached_property
    def _lookup_keys(self) -> list[int]:
        day = _day(self.at)
        period = day // PERIOD_DAYS
        nearer = period - 1 if day % PERIOD_DAYS < PERIOD_DAYS // 2 else period + 1
        periods = (period, nearer)
        return self._fixed_keys + [_in_period(t, p) for t in self._term_keys for p in periods]

    @functools.cached_property
    def _stored_keys(self) -> list[int]:
        period = _day(self.at) // PERIOD_DAYS
        return self._fixed_keys + [_in_period(term, period) for term in self._term_keys]

    def lookup_keys(self) -> list[int]:
        """Keys to look up: reference, bands, and story terms in this and the nearer period."""
        return self._lookup_keys

    def stored_keys(self) -> list[int]:
        """Keys the store files this article under: reference, bands, its period's story terms."""
        return self._stored_keys

    def band_keys(self) -> frozenset[int]:
        """The keys of the signature's bands (none for a stub)."""
        return frozenset(() if self.near is None else self._fixed_keys[: minhash.BANDS])

    def _story_terms(self) -> list[str]:
        terms = sorted(self.title_terms, key=_term_rank)[:MAX_PAIRED_TERMS]
        terms.sort()
        return [f"{first}+{second}" for first, second in itertools.combinations(terms, 2)]


def fingerprint(
    *,
    key: str,
    title: str,
    text: str,
    lang: str | None,
    at: datetime | None,
    source_id: str = "",
    canonical: str | None = None,
    content_hash: str = "",
    regulator: bool = False,
    ref: RegulatorRef | None = None,
    tags: Iterable[str] = (),
) -> Fingerprint:
    """The fingerprint of one article from its stored or freshly extracted fields."""
    words = tokens(text)
    shingles = shingle_hashes(words)
    near = minhash.signature(shingles) if len(words) >= MIN_NEAR_TOKENS else None
    return Fingerprint(
        key=key,
        canonical=canonical,
        content_hash=content_hash,
        lang=language_family(lang, words),
        at=at,
        source_id=source_id,
        regulator=regulator,
        ref=ref,
        title_terms=title_terms(title),
        tags=frozenset(tag for tag in tags if not tag.startswith(IGNORED_TAG_PREFIX)),
        shingles=shingles,
        near=near,
        words=minhash.signature(body_terms(words)),
    )


def best_candidates(lookups: Iterable[int], postings: Mapping[int, Sequence[Any]]) -> set[Any]:
    """The ``MAX_CANDIDATES`` articles sharing the most of ``lookups`` (newest of equals)."""
    # Posting lists hold at most MAX_POSTINGS_PER_KEY articles each (the store's query and
    # ``Deduper.add_print`` cut them), so the count is over a bounded number of entries.
    shared = Counter(itertools.chain.from_iterable(postings.get(key, ()) for key in lookups))
    if len(shared) <= MAX_CANDIDATES:
        return set(shared)
    return {article for article, _ in shared.most_common(MAX_CANDIDATES)}


def article_fingerprint(
    article: Article, *, key: str, content_hash: str = "", tags: Iterable[str] = ()
) -> Fingerprint:
    """The fingerprint of an extracted article filed under ``key``; its tags by id."""
    canonical = article.canonical_url or article.url
    return fingerprint(
        key=key,
        title=article.title,
        text=article.text,
        lang=article.lang,
        at=article.published_at,
        source_id=article.source_id,
        canonical=canonical,
        content_hash=content_hash,
        regulator=article.regulator,
        ref=regulator_ref(canonical, article.item_id)
        or regulator_ref(article.url, article.item_id),
        tags=tags,
    )


def body_terms(words: list[str]) -> Hashes:
    """The distinct hashes of a body's content words (English stems, Chinese character pairs)."""
    distinct = set(words)
    cache = _term_hashes
    if len(cache) > TOKEN_CACHE_LIMIT:
        cache.clear()
    for word in distinct.difference(cache):
        if len(word) > 2 and word not in STOP_WORDS:
            cache[word] = token_hash(stem(word))
        else:
            cache[word] = _NO_TERM
    hashes = np.fromiter(map(cache.__getitem__, distinct), dtype=np.int64, count=len(distinct))
    terms = hashes[hashes != _NO_TERM].astype(np.uint64)
    # One C-level test of the joined words, not a Python-level test of each.
    if not "".join(distinct).isascii():
        han = [word for word in words if len(word) == 1 and not word.isascii()]
        pairs = [first + second for first, second in itertools.pairwise(han)]
        terms = np.concatenate((terms, token_hashes(pairs)))
    return distinct_sorted(terms)


def language_family(lang: str | None, words: list[str]) -> str:
    """ "zh" for any Chinese, else the language's primary tag; guessed from the script if unset."""
    if lang:
        primary = lang.split("-")[0].lower()
        return "zh" if primary in ("zh", "yue") else primary
    return "zh" if han_share(words) > 0.5 else "en"


# A story term's key holds its period in the high bits and the term's hash in the low ones, so
# one fortnight's keys lie together in the store's index: a batch's inserts and lookups touch a
# few pages there, where keys spread over the whole history touched a page each, which at a
# million articles made every batch's writes and reads several times slower
# (bench/dedupe_scale.py). 20 bits of period outlast any date; 43 bits of term keep two terms
# of one fortnight from sharing a key.
_PERIOD_SHIFT = 43
_TERM_MASK = (1 << _PERIOD_SHIFT) - 1
_PERIOD_MASK = (1 << (63 - _PERIOD_SHIFT)) - 1


def _day(at: datetime | None) -> int:
    """The day an article is filed under (UTC); an undated one, under day 0."""
    if at is None:
        return 0
    # In UTC, as the store keeps it: a page's own offset must not move the article's day.
    return (at if at.tzinfo is None else at.astimezone(UTC)).toordinal()


def _in_period(term: int, period: int) -> int:
    """A term's key within one period: the period's number, then the term's hash."""
    return ((period & _PERIOD_MASK) << _PERIOD_SHIFT) | (term & _TERM_MASK)


def _term_rank(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


@functools.lru_cache(maxsize=KEY_CACHE)
def _key(term: str) -> int:
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)
