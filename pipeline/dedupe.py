"""Exact deduplication: stable item ids, canonical URLs and content hashes.

The store keeps the same keys (``articles.item_key``, ``canonical_url``, ``content_hash``), so a
``Deduper`` seeded from the database gives the same verdicts the database would. Checks run from
the most specific key to the least:

1. item key   — the same item again (same source namespace + stable id, or the same canonical URL
                for sources with no stable id): ``same_item``;
2. canonical URL — another item pointing at a page already stored: ``duplicate``;
3. content hash  — the same text under another URL (syndication): ``duplicate``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from pipeline.models import Article, Verdict

# Below this many characters a body is too short to identify a story (an empty or one-line body
# would make every stub "duplicate" of every other), so it gets no content hash.
MIN_TEXT_FOR_HASH = 200

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_for_hash(text: str) -> str:
    """Text reduced to lower-case words, so whitespace, punctuation and quotes do not matter."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


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


@dataclass
class Deduper:
    """In-memory form of the store's dedupe keys; ``check`` then ``add`` each article in order."""

    by_key: dict[str, str] = field(default_factory=dict)
    by_url: dict[str, str] = field(default_factory=dict)
    by_hash: dict[str, str] = field(default_factory=dict)
    # canonical URL of an article → its item key, so a verdict's ``of`` leads back to the row.
    keys: dict[str, str] = field(default_factory=dict)

    def check(
        self, article: Article, *, key: str | None = None, text_hash: str | None = None
    ) -> Verdict:
        """The verdict for ``article``; ``of`` is the earlier article's canonical URL."""
        key = key or article_key(article)
        if key in self.by_key:
            return Verdict("same_item", self.by_key[key])
        canonical = article.canonical_url or article.url
        if canonical in self.by_url:
            return Verdict("duplicate", self.by_url[canonical])
        digest = content_hash(article.text) if text_hash is None else text_hash
        if digest and digest in self.by_hash:
            return Verdict("duplicate", self.by_hash[digest])
        return Verdict("new")

    def add(
        self, article: Article, *, key: str | None = None, text_hash: str | None = None
    ) -> None:
        """Remember ``article`` so later copies of it are recognised."""
        canonical = article.canonical_url or article.url
        digest = content_hash(article.text) if text_hash is None else text_hash
        self.remember(key or article_key(article), canonical, digest)

    def remember(
        self, key: str, canonical: str | None, digest: str, original: str | None = None
    ) -> None:
        """Record keys directly (used when seeding from the store)."""
        target = original or canonical or key
        self.keys.setdefault(target, key)
        self.by_key.setdefault(key, target)
        if canonical:
            self.by_url.setdefault(canonical, target)
        if digest:
            self.by_hash.setdefault(digest, target)

    def key_for(self, canonical: str) -> str | None:
        """The item key of the article a verdict's ``of`` names."""
        return self.keys.get(canonical)

    def __len__(self) -> int:
        return len(self.by_key)
