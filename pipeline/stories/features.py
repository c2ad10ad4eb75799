"""An article's fingerprint: everything the story tiers compare, computed once, without IO.

Each fingerprint also names the keys the store indexes it under (``lookup_keys`` and
``stored_keys``): its regulator reference, the bands of its MinHash signature, and its story
terms (pairs of title terms) within the week it appeared. A new article is compared only with
the stored articles that share one of those keys, so the cost of a check does not grow with the
history stored.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from pipeline.models import Article
from pipeline.stories import minhash
from pipeline.stories.refs import RegulatorRef, regulator_ref
from pipeline.stories.shingles import Hashes, han_share, shingle_hashes, token_hashes, tokens
from pipeline.stories.titles import STOP_WORDS, stem, title_terms

# Below this many tokens a text is a stub (a feed summary, "read more"): too short to call
# another text its copy, so it gets no near-duplicate signature.
MIN_NEAR_TOKENS = 40
# Story terms are filed under the week an article appeared; a lookup reads its own week and
# the two beside it, which covers a window of at least seven days either side.
WEEK_DAYS = 7
# A story term is a pair of title terms: two write-ups of one event share at least two, and a
# pair is rare where a single word ("crypto") is in every other title. Of a long title only
# this many terms (the longest, which are the rarest) make pairs: at most 45 keys.
MAX_PAIRED_TERMS = 10
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

    def lookup_keys(self) -> list[int]:
        """Keys to look up: reference, bands, and story terms in this and the adjoining weeks."""
        keys = self._fixed_keys()
        week = _week(self.at)
        for term in self._story_terms():
            keys.extend(_key(f"t:{term}@{week + shift}") for shift in (-1, 0, 1))
        return keys

    def stored_keys(self) -> list[int]:
        """Keys the store files this article under: reference, bands, story terms of its week."""
        week = _week(self.at)
        return self._fixed_keys() + [_key(f"t:{term}@{week}") for term in self._story_terms()]

    def _fixed_keys(self) -> list[int]:
        keys = [] if self.ref is None else [_key(f"ref:{self.ref.key}")]
        if self.near is not None:
            keys.extend(minhash.band_keys(self.near))
        return keys

    def _story_terms(self) -> list[str]:
        terms = sorted(self.title_terms, key=lambda term: (-len(term), term))[:MAX_PAIRED_TERMS]
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
    latin = [stem(word) for word in words if len(word) > 2 and word not in STOP_WORDS]
    han = [word for word in words if len(word) == 1 and not word.isascii()]
    pairs = [first + second for first, second in itertools.pairwise(han)]
    hashes = token_hashes(latin + pairs)
    return np.unique(hashes)


def language_family(lang: str | None, words: list[str]) -> str:
    """ "zh" for any Chinese, else the language's primary tag; guessed from the script if unset."""
    if lang:
        primary = lang.split("-")[0].lower()
        return "zh" if primary in ("zh", "yue") else primary
    return "zh" if han_share(words) > 0.5 else "en"


def _week(at: datetime | None) -> int:
    if at is None:
        return 0
    return at.toordinal() // WEEK_DAYS


def _key(term: str) -> int:
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)
