"""Records that pass between the pipeline's stages, one type per hop.

``Source`` → ``Lead`` (an item found in a feed, API or listing) → ``Page`` (a fetched response)
→ ``Article`` (clean text and metadata) → ``TaggedArticle`` → stored row → ``Alert``.
``Validators`` and ``SeenValidators`` carry conditional-GET state between fetch and store.

All are frozen: a stage returns a new record instead of changing the one it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

SourceKind = Literal["rss", "hkma_api", "sfc_api", "html_index", "sitemap"]
SOURCE_KINDS: tuple[str, ...] = ("rss", "hkma_api", "sfc_api", "html_index", "sitemap")

VerdictKind = Literal[
    "new", "same_item", "translation", "duplicate", "near_duplicate", "same_story"
]


@dataclass(frozen=True)
class Selectors:
    """CSS selectors for a source's pages (article) and listing (html_index)."""

    title: str | None = None
    body: str | None = None
    published: str | None = None
    author: str | None = None
    remove: tuple[str, ...] = ()
    # listing pages (html_index)
    item: str | None = None
    link: str | None = None
    item_title: str | None = None
    item_date: str | None = None
    item_summary: str | None = None
    next_page: str | None = None


@dataclass(frozen=True)
class Source:
    """One configured source, as declared in ``sources.toml`` and validated on load."""

    id: str
    name: str
    kind: SourceKind
    urls: tuple[str, ...]
    lang: str = "en"
    regulator: bool = False
    doc_type: str = "news"
    enabled: bool = True
    selectors: Selectors = field(default_factory=Selectors)
    # Regex with one group that pulls a stable item id out of an item's link or guid.
    id_pattern: str | None = None
    # Sources sharing a namespace share item ids: the same HKMA release via API and RSS.
    id_namespace: str | None = None
    # Adapter-specific settings (e.g. the SFC endpoint family, API language).
    options: Mapping[str, object] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        """Namespace for this source's stable item ids."""
        return self.id_namespace or self.id


@dataclass(frozen=True)
class Lead:
    """An item found in a feed, API answer or listing page; the body when the source gives it."""

    source_id: str
    url: str
    title: str
    published_at: datetime | None = None
    guid: str | None = None
    summary: str = ""
    item_id: str | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    # Names the source itself attaches to the item (SFC targetCeList).
    entities: tuple[str, ...] = ()
    doc_type: str | None = None
    # Set when the API already delivered the body (SFC content endpoints): no page fetch needed.
    body_html: str | None = None
    # Where the body is served when it is not the item's page (SFC content endpoints).
    body_url: str | None = None
    # Set when the answer at ``body_url`` is a JSON object: the field that holds the body's HTML.
    body_field: str | None = None
    # The source's own "last changed" marker (SFC modificationTime); a newer one means re-fetch.
    modified: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Page:
    """A fetched HTTP response."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    fetched_at: datetime

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class Validators:
    """What the last response for a URL said, for the next conditional request."""

    etag: str | None
    last_modified: str | None
    last_status: int | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class SeenValidators:
    """Validators of a response in this run, owed to the store once its source succeeds."""

    source_id: str | None
    url: str
    etag: str | None
    last_modified: str | None
    status: int


@dataclass(frozen=True)
class Article:
    """Clean text plus metadata; what extraction and cleaning produce."""

    url: str
    title: str
    text: str
    published_at: datetime | None = None
    author: str | None = None
    lang: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    modified_at: datetime | None = None
    image_url: str | None = None
    # Filled from the Lead and Source once the article is tied to where it was found.
    source_id: str = ""
    item_id: str | None = None
    doc_type: str = "news"
    regulator: bool = False
    categories: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tag:
    """A taxonomy node found in an article, with the evidence for it."""

    id: str
    name: str
    kind: Literal["entity", "topic"]
    type: str
    count: int
    evidence: tuple[str, ...] = ()
    in_title: bool = False
    in_lead: bool = False


@dataclass(frozen=True)
class TaggedArticle:
    """An article with its tags and the fingerprints deduplication keys on."""

    article: Article
    tags: tuple[Tag, ...]
    content_hash: str
    taxonomy_version: str = ""


@dataclass(frozen=True)
class Verdict:
    """What deduplication says of an article: new, or which earlier article it repeats."""

    kind: VerdictKind
    of: str | None = None
    # How strong the link is: 1.0 for the exact tiers, the similarity for the others.
    score: float = 1.0
    # The item key of the earlier article ``of`` names.
    of_key: str | None = None


@dataclass(frozen=True)
class StoryMember:
    """One article of an alert's story: the lead, a language version or another outlet's."""

    article_id: int
    source_id: str
    title: str
    url: str
    language: str | None
    published_at: datetime | None
    # How it joined the story: "lead", "translation", "duplicate", "near_duplicate", "same_story".
    role: str = "lead"


@dataclass(frozen=True)
class AlertTag:
    """A tag of an alert's story with one sentence of evidence for it."""

    kind: str
    id: str
    name: str
    evidence: str = ""


@dataclass(frozen=True)
class Alert:
    """A notification owed for a story on one channel, as kept in the outbox, with what its
    message shows. ``rules`` are every rule that fired for the story on the channel at once
    (one message, however many rules match)."""

    id: int
    # The idempotency key: the same on every attempt, so a receiver can drop a repeat.
    key: str
    story_id: int
    article_id: int
    channel: str
    rules: tuple[str, ...]
    title: str
    source_id: str
    url: str
    published_at: datetime | None
    created_at: datetime
    # "new", or "update" when a stored item changed and a rule asks to hear of it.
    event: str = "new"
    severity: str = "normal"
    rule_descriptions: tuple[str, ...] = ()
    doc_type: str = ""
    language: str | None = None
    regulator: bool = False
    snippet: str = ""
    status: str = "pending"
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    tags: tuple[AlertTag, ...] = ()
    members: tuple[StoryMember, ...] = ()


@dataclass(frozen=True)
class Digest:
    """A digest rule's alerts for one channel and one Hong Kong day, sent as one message."""

    key: str
    rule: str
    channel: str
    day: date
    severity: str
    rule_description: str
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class OwedAlert:
    """An outbox row to queue: a rule that fired for a story on a channel, and when it is due.
    Rows sharing ``key`` are one message."""

    rule: str
    story_id: int
    article_id: int
    channel: str
    key: str
    due_at: datetime
    event: str = "new"
    mode: str = "immediate"
    severity: str = "normal"
    # Published before the first run's window: stored as ``baselined``, never sent.
    baselined: bool = False
