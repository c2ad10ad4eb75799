"""Deduplication and story grouping in memory: the same tiers the store answers from its tables.

Checks run from the most specific key to the least (see ``pipeline.stories``):

1. item key  — the same item again (same source namespace + stable id, or the same canonical
               URL for sources with no stable id): ``same_item``;
2. reference — the same regulator item in another language: ``translation``;
3. canonical URL or content hash — a copy under another key: ``duplicate``;
4. MinHash bands, verified by shingle Jaccard — a syndicated or edited copy: ``near_duplicate``;
5. title pairs within a week, scored on titles, bodies and tags — ``same_story``.

A ``Deduper`` files each added article under the keys the store indexes (``Fingerprint``), so
a check compares an article only with those sharing a key, however many were added.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.models import Article, Verdict, VerdictKind
from pipeline.stories.features import (
    MAX_POSTINGS_PER_KEY,
    Fingerprint,
    article_fingerprint,
    best_candidates,
)
from pipeline.stories.match import Link, compare
from pipeline.stories.shingles import word_runs

# Below this many characters a body is too short to identify a story (an empty or one-line body
# would make every stub "duplicate" of every other), so it gets no content hash.
MIN_TEXT_FOR_HASH = 200


def normalise_for_hash(text: str) -> str:
    """Text reduced to lower-case words, so whitespace, punctuation and quotes do not matter."""
    return " ".join(word_runs(text))


def content_hash(text: str) -> str:
    """SHA-256 of the normalised text, or "" for a body too short to identify a story."""
    normal = normalise_for_hash(text)
    if len(normal) < MIN_TEXT_FOR_HASH:
        return ""
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def item_key(namespace: str, item_id: str | None, canonical: str | None) -> str:
    """The natural key of an item: its namespaced stable id, else its canonical URL."""
    if item_id:
        return f"{namespace}:{item_id}"
    if not canonical:
        raise ValueError("an item needs a stable id or a canonical URL")
    return f"url:{canonical}"


def article_key(article: Article) -> str:
    """The key of an article whose item id is not namespaced: its source id is the namespace."""
    return item_key(article.source_id, article.item_id, article.canonical_url or article.url)


def best_link(links: Iterable[Link]) -> Link | None:
    """The strongest of several links (earliest tier, then highest score, then first given)."""
    best: Link | None = None
    for link in links:
        if best is None or link.rank() > best.rank():
            best = link
    return best


@dataclass
class Deduper:
    """In-memory index of fingerprints; ``check`` then ``add`` each article in order."""

    prints: dict[str, Fingerprint] = field(default_factory=dict)
    by_url: dict[str, str] = field(default_factory=dict)
    by_hash: dict[str, str] = field(default_factory=dict)
    postings: dict[int, list[str]] = field(default_factory=dict)
    # The order articles were added in: of several equal links, the earliest article wins.
    positions: dict[str, int] = field(default_factory=dict)
    _last: tuple[Article, tuple[object, ...], Fingerprint] | None = field(
        default=None, repr=False
    )

    def fingerprint(
        self,
        article: Article,
        *,
        key: str | None = None,
        text_hash: str | None = None,
        tags: Iterable[str] = (),
    ) -> Fingerprint:
        """The fingerprint of ``article`` as this deduper files it."""
        tags = tuple(tags)
        asked = (key, text_hash, tags)
        # ``check`` then ``add`` of one article: its fingerprint is computed once.
        if self._last is not None and self._last[0] is article and self._last[1] == asked:
            return self._last[2]
        digest = content_hash(article.text) if text_hash is None else text_hash
        print_ = article_fingerprint(
            article, key=key or article_key(article), content_hash=digest, tags=tags
        )
        self._last = (article, asked, print_)
        return print_

    def check(
        self,
        article: Article,
        *,
        key: str | None = None,
        text_hash: str | None = None,
        tags: Iterable[str] = (),
    ) -> Verdict:
        """The verdict for ``article``; ``of`` is the earlier article's canonical URL."""
        return self.check_print(self.fingerprint(article, key=key, text_hash=text_hash, tags=tags))

    def check_print(self, print_: Fingerprint) -> Verdict:
        """The verdict for a fingerprint against everything added so far."""
        if print_.key in self.prints:
            return self._verdict("same_item", print_.key, 1.0)
        link = best_link(
            found
            for other in self.candidates(print_)
            if (found := compare(print_, self.prints[other])) is not None
        )
        if link is None:
            return Verdict("new")
        return self._verdict(link.kind, link.of, link.score)

    def candidates(self, print_: Fingerprint) -> list[str]:
        """Keys of the added articles to compare with: the same URL or hash, and those sharing
        the most lookup keys (at most ``MAX_CANDIDATES``), in the order they were added."""
        found = best_candidates(print_.lookup_keys(), self.postings)
        for table, value in ((self.by_url, print_.canonical), (self.by_hash, print_.content_hash)):
            if value and value in table:
                found.add(table[value])
        found.discard(print_.key)
        return sorted(found, key=self.positions.__getitem__)

    def add(
        self,
        article: Article,
        *,
        key: str | None = None,
        text_hash: str | None = None,
        tags: Iterable[str] = (),
    ) -> None:
        """Remember ``article`` so later copies and write-ups of it are recognised."""
        self.add_print(self.fingerprint(article, key=key, text_hash=text_hash, tags=tags))

    def add_print(self, print_: Fingerprint, keys: Iterable[int] | None = None) -> None:
        """Remember a fingerprint (one read back from the store, or just computed), filed
        under ``keys`` (by default every key the store files it under)."""
        if print_.key in self.prints:
            return
        self.prints[print_.key] = print_
        self.positions[print_.key] = len(self.positions)
        if print_.canonical:
            self.by_url.setdefault(print_.canonical, print_.key)
        if print_.content_hash:
            self.by_hash.setdefault(print_.content_hash, print_.key)
        for stored in print_.stored_keys() if keys is None else keys:
            posting = self.postings.setdefault(stored, [])
            posting.append(print_.key)
            if len(posting) > MAX_POSTINGS_PER_KEY:
                del posting[0]  # as the store does, a hot key keeps its newest articles

    def _verdict(self, kind: VerdictKind, key: str, score: float) -> Verdict:
        earlier = self.prints[key]
        return Verdict(kind, earlier.canonical or key, score=score, of_key=key)

    def __len__(self) -> int:
        return len(self.prints)
