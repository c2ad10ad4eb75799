"""Dedupe-and-store at scale: milliseconds per article with 10k, 100k and 1M articles stored.

A synthetic history (``DAILY_ARTICLES`` a day, grouped in stories, with the rows the store keeps
for each article: fingerprints, keys, tags, sighting, story) is bulk-loaded straight into the
tables, then grown in place. At each size a few batches of fresh articles dated in the history's
newest days (most new stories; some copies, rewrites and translations of recent history) go
through the real ``process_batch``; what it spends past extracting, tagging and fingerprinting
is "dedupe and store". Prints a table per backend and size, the goals, and the query plan of the
key lookup. Usage: ``python bench/dedupe_scale.py [--sizes 10000,100000,1000000]
[--backends sqlite,postgres] [--batch 200] [--batches 5] [--warmup 1] [--postgres URL]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/pipeline.py would shadow the
# ``pipeline`` package measured here.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import itertools
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any, Protocol, cast

import numpy as np
import psycopg
from psycopg import sql
from sqlalchemy import Engine, Table, delete, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pipeline.alerts.config import AlertsConfig, load_alerts
from pipeline.canonical import canonical_url
from pipeline.dedupe import content_hash
from pipeline.ingest.plan import lead_key
from pipeline.ingest.process import process_batch
from pipeline.ingest.records import Action, BatchResult, Fetched, Planned
from pipeline.models import Lead, Source
from pipeline.store import db, repo
from pipeline.store import prints as store_prints
from pipeline.store.schema import (
    AlertRow,
    Article,
    ArticleKey,
    ArticlePrint,
    ArticleTag,
    Run,
    Sighting,
    Story,
    StoryLink,
)
from pipeline.store.search_terms import has_cjk
from pipeline.stories import minhash
from pipeline.stories.features import Fingerprint, fingerprint
from pipeline.stories.refs import regulator_ref
from pipeline.stories.titles import title_terms
from pipeline.tag import Tagger

REPO = Path(__file__).resolve().parents[1]
# The server named in the brief; the bench makes (and drops) a database of its own on it.
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_SIZES = "10000,100000,1000000"
# Fixed, so both backends (and two runs) load the same history and time the same batches.
RANDOM_SEED = 20251204
# A busy day across ~20 fintech outlets and the regulators: 10k stored ≈ a month, 1M ≈ 9 years.
DAILY_ARTICLES = 300
# Day 0 of the history; 1M articles at 300 a day end early in 2026.
FIRST_DAY = datetime(2017, 1, 2, tzinfo=UTC)
# Words per synthetic body: ≈ 300-400 characters, past MIN_NEAR_TOKENS (40) so every article has
# near-duplicate bands as real ones do, short so the full-text index stays cheap to build.
BODY_WORDS = (45, 53)
WORDS_PER_SENTENCE = 12
CHINESE_TITLE_CHARS = 16
CHINESE_BODY_CHARS = 160
# Story sizes and their weights: most events are written up once, a few by four or five outlets.
STORY_SIZES = (1, 2, 3, 4, 5)
STORY_WEIGHTS = (0.55, 0.2, 0.12, 0.08, 0.05)
# Share of stories led by an HKMA release (≈ 3% of articles then carry a reference key), and of
# those also released in Chinese (a translation sharing the reference).
REGULATOR_STORIES = 0.04
TRANSLATED = 0.5
# Share of a story's later news articles that are syndicated copies (one word changed: shingle
# Jaccard ≈ 0.88) rather than write-ups of their own.
COPY_SHARE = 0.3
# Title words: five event words per story, two topic words from a shared Zipf vocabulary, a
# short common word or two: 7-9 terms, of which the library pairs MAX_PAIRED_TERMS (15-21 keys).
# A pair of event words is then shared by one story's few articles, a pair with a topic or a
# common word by a handful of titles in the same period, as real headlines share words.
EVENT_WORDS = 5
EVENT_SYLLABLES = 5
TOPIC_SYLLABLES = 4
STORY_TOPICS = 2
TOPIC_VOCABULARY = 400
GENERAL_VOCABULARY = 20_000
GENERAL_SYLLABLES = (1, 3)
# Zipf exponent of word, topic and tag use (news vocabulary follows Zipf with s ≈ 1).
ZIPF = 1.0
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
# Han characters for the Chinese releases: the first few thousand of the CJK block.
HAN_FIRST = 0x4E00
HAN_POOL = 3000
NEWS_SOURCES = 20
# Stories start early enough in their day that their last write-up (≤ 6 h later) is on it.
STORY_SPREAD = timedelta(hours=6)
SEEN_DELAY = timedelta(minutes=10)
# History within this many days of the newest day gets real fingerprints: fresh articles can
# match only those (they copy the last FRESH_POOL_DAYS, the story window is 7 days, term keys
# reach back at most three weeks). Older history gets random bands and signatures, which no
# fresh article would match either way; its term keys are the library's own.
REAL_PRINT_DAYS = 28
# Fresh articles copy, rewrite or translate history of its last few days.
FRESH_POOL_DAYS = 3
# What a measured batch holds, by share; the rest are new stories at the newest day.
FRESH_MIX = (("near_copy", 0.10), ("rewrite", 0.10), ("exact_copy", 0.05), ("translation", 0.03))
# A synthetic copy keeps this many of its original's 16 bands (a Jaccard-0.88 copy keeps 0.6).
COPY_KEPT_BANDS = 10
SIGNATURE_BYTES = minhash.PERMUTATIONS * 4
LINK_SCORES = {"near_duplicate": 0.9, "same_story": 0.5, "translation": 1.0}
COPY_KINDS = frozenset({"near_duplicate", "duplicate"})
# Days of history loaded per transaction: 15,000 articles, ≈ 550,000 key rows.
CHUNK_DAYS = 50
# Setup-only SQLite page cache while loading (the measured engine keeps the library's settings).
SETUP_CACHE_KIB = 2_000_000
# The goals: dedupe-and-store per article at the largest size within 1.5× the smallest, < 2 ms.
GOAL_RATIO = 1.5
GOAL_MS = 2.0
# Stages of ``BatchResult.seconds`` that are not dedupe-and-store (no database involved).
PREPARE_STAGES = ("extract", "tag", "fingerprint")
# The newest week of history, whose keys' posting-list sizes are printed, and the size bands.
WEEK_ARTICLES = 7 * DAILY_ARTICLES
# Plan lines past this width are cut (Postgres prints the whole key array); IN lists past
# ELIDE_FROM characters are shown as a count; the plain lookup is explained with PLAIN_KEYS keys
# (one IN_CHUNK of ``pipeline.store.sql``).
PLAN_WIDTH = 160
ELIDE_FROM = 100
PLAIN_KEYS = 500
POSTING_BANDS = (("1", 1), ("2-5", 5), ("6-20", 20), ("21-50", 50), (">50", sys.maxsize))

ARTICLE_COLUMNS = (
    "id",
    "item_key",
    "source_id",
    "item_id",
    "url",
    "canonical_url",
    "title",
    "text",
    "summary",
    "author",
    "lang",
    "doc_type",
    "regulator",
    "published_at",
    "first_seen_at",
    "content_hash",
    "taxonomy_version",
    "duplicate_of",
    "categories",
    "entities",
    "source_modified",
    "story_id",
    "has_cjk",
)
# Tables in load order, with the columns each bulk row fills.
TABLES: dict[str, tuple[str, ...]] = {
    "articles": ARTICLE_COLUMNS,
    "article_prints": ("article_id", "near", "words", "tags"),
    "article_keys": ("key", "article_id"),
    "stories": (
        "id",
        "lead_article_id",
        "first_seen_at",
        "last_seen_at",
        "article_count",
        "outlets",
        "languages",
        "updated_at",
    ),
    "story_links": ("article_id", "linked_article_id", "kind", "score", "made_at"),
    "article_tags": (
        "article_id",
        "tag_id",
        "count",
        "in_title",
        "in_lead",
        "evidence",
        "taxonomy_version",
    ),
    "sightings": ("article_id", "source_id", "run_id", "url", "guid", "verdict", "seen_at"),
}
# Binary COPY of (bigint key, integer article_id): header, one record per row, trailer.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"
KEY_RECORD = np.dtype(
    [("fields", ">i2"), ("key_len", ">i4"), ("key", ">i8"), ("id_len", ">i4"), ("id", ">i4")]
)
_BLANK = np.zeros(minhash.PERMUTATIONS, dtype=np.uint32)

Rows = dict[str, list[tuple[Any, ...]]]


# The synthetic corpus ----------------------------------------------------------------------


def _syllables(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(count))


def _vocabulary(rng: random.Random, size: int, syllables: tuple[int, int]) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < size:
        words[_syllables(rng, rng.randint(*syllables))] = None
    return list(words)


def _zipf(size: int) -> list[float]:
    return list(itertools.accumulate(1 / rank**ZIPF for rank in range(1, size + 1)))


@dataclass(frozen=True)
class Plot:
    """What a story's articles share: its event and topic words, the names it mentions."""

    events: tuple[str, ...]
    topics: tuple[str, ...]
    names: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass
class Item:
    """One synthetic article: stored history (numbered) or a fresh one to ingest (id 0)."""

    day: int
    at: datetime
    source: str
    url: str
    title: str
    text: str
    plot: Plot
    lang: str = "en"
    regulator: bool = False
    tags: tuple[str, ...] = ()
    # In a story being made: the index of the member linked to; once numbered, its id.
    linked: int | None = None
    kind: str | None = None
    number: str | None = None
    id: int = 0
    story: int = 0


class Words:
    """The vocabularies synthetic titles and bodies draw from, used with Zipf frequencies."""

    def __init__(self, rng: random.Random, phrases: Sequence[tuple[str, tuple[str, ...]]]):
        self.rng = rng
        self.general = _vocabulary(rng, GENERAL_VOCABULARY, GENERAL_SYLLABLES)
        self.topics = _vocabulary(rng, TOPIC_VOCABULARY, (TOPIC_SYLLABLES, TOPIC_SYLLABLES))
        self.phrases = list(phrases)
        self._general = _zipf(len(self.general))
        self._topics = _zipf(len(self.topics))
        self._phrases = _zipf(len(self.phrases))

    def plot(self) -> Plot:
        """A new story: fresh event words, two topics, one or two taxonomy names."""
        topics: dict[str, None] = {}
        while len(topics) < STORY_TOPICS:
            topics[self.rng.choices(self.topics, cum_weights=self._topics)[0]] = None
        count = self.rng.choice((1, 2))
        named = dict(self.rng.choices(self.phrases, cum_weights=self._phrases, k=count))
        tags = sorted({tag for ids in named.values() for tag in ids})
        events = tuple(_syllables(self.rng, EVENT_SYLLABLES) for _ in range(EVENT_WORDS))
        return Plot(events, tuple(topics), tuple(named), tuple(tags))

    def title(self, plot: Plot) -> str:
        """A headline: the topics, four or five event words and a short word or two."""
        chosen = [*plot.topics, *self.rng.sample(plot.events, self.rng.choice((4, 5)))]
        chosen += self.rng.choices(
            self.general, cum_weights=self._general, k=self.rng.randint(1, 2)
        )
        self.rng.shuffle(chosen)
        title = " ".join(chosen)
        return title[0].upper() + title[1:]

    def body(self, plot: Plot) -> str:
        """Two paragraphs of Zipf words with the story's event words, topics and names."""
        special = [*plot.events, *plot.topics, *plot.names]
        count = self.rng.randint(*BODY_WORDS) - len(special)
        words = self.rng.choices(self.general, cum_weights=self._general, k=count)
        for word in special:
            words.insert(self.rng.randrange(len(words) + 1), word)
        sentences = [
            " ".join(words[start : start + WORDS_PER_SENTENCE])
            for start in range(0, len(words), WORDS_PER_SENTENCE)
        ]
        sentences = [sentence[0].upper() + sentence[1:] + "." for sentence in sentences]
        half = len(sentences) // 2
        return " ".join(sentences[:half]) + "\n\n" + " ".join(sentences[half:])

    def edited(self, text: str) -> str:
        """The text with one word changed, as a syndicating outlet's copy."""
        parts = text.split(" ")
        plain = [index for index, part in enumerate(parts) if part.isalpha() and part.islower()]
        parts[self.rng.choice(plain)] = self.rng.choice(self.general)
        return " ".join(parts)

    def han(self, count: int) -> str:
        """Chinese-looking text: ``count`` Han characters, a full stop every twenty."""
        chars = [chr(HAN_FIRST + self.rng.randrange(HAN_POOL)) for _ in range(count)]
        return "。".join("".join(chars[i : i + 20]) for i in range(0, count, 20)) + "。"


class Corpus:
    """A deterministic stream of history days, and of fresh batches dated at its newest days."""

    def __init__(self, words: Words) -> None:
        self.words = words
        self.rng = words.rng
        self.next_id = 1
        self.next_story = 1
        self.days = 0
        self.serial = 0
        self.releases: Counter[int] = Counter()
        self.recent: deque[list[Item]] = deque(maxlen=FRESH_POOL_DAYS)
        self.translated: set[str] = set()

    @property
    def size(self) -> int:
        """How many history articles were made so far."""
        return self.next_id - 1

    def last_day(self, target: int) -> int:
        """The newest day of the history once grown to ``target`` articles."""
        missing = max(0, target - self.size)
        return self.days - 1 + -(-missing // DAILY_ARTICLES)

    def grow(self, target: int) -> Iterator[list[Item]]:
        """History up to ``target`` articles, ``CHUNK_DAYS`` days (whole stories) at a time."""
        chunk: list[Item] = []
        while self.size < target:
            today = self._day(self.days, min(DAILY_ARTICLES, target - self.size))
            self.recent.append(today)
            self.days += 1
            chunk.extend(today)
            if self.days % CHUNK_DAYS == 0:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _day(self, day: int, quota: int) -> list[Item]:
        items: list[Item] = []
        while len(items) < quota:
            size = self.rng.choices(STORY_SIZES, STORY_WEIGHTS)[0]
            items.extend(self._numbered(self._story(day, size)[: quota - len(items)]))
        return items

    def _numbered(self, members: list[Item]) -> list[Item]:
        base = self.next_id
        for index, item in enumerate(members):
            item.id, item.story = base + index, self.next_story
            if item.linked is not None:
                item.linked += base
        self.next_id += len(members)
        self.next_story += 1
        return members

    def _story(self, day: int, size: int) -> list[Item]:
        spread = int((timedelta(days=1) - STORY_SPREAD).total_seconds())
        at = FIRST_DAY + timedelta(days=day, seconds=self.rng.randrange(spread))
        plot = self.words.plot()
        members: list[Item] = []
        if self.rng.random() < REGULATOR_STORIES:
            members.append(self._release(day, at, plot))
            if self.rng.random() < TRANSLATED:
                members.append(self._translation(members[0], 0))
        while len(members) < size:
            members.append(self._news(members, day, at, plot))
        return members

    def _url(self, host: str, at: datetime) -> str:
        self.serial += 1
        return f"https://{host}/{at:%Y/%m}/story-{self.serial}"

    def _source(self) -> tuple[str, str]:
        index = self.rng.randrange(NEWS_SOURCES)
        return f"scale-news-{index:02d}", f"news{index:02d}.scale.example"

    def _news(self, members: list[Item], day: int, at: datetime, plot: Plot) -> Item:
        """The next news article of a story: its first, a syndicated copy or a write-up."""
        source, host = self._source()
        news = [index for index, item in enumerate(members) if not item.regulator]
        if members:
            at += timedelta(minutes=self.rng.randrange(5, int(STORY_SPREAD.total_seconds()) // 60))
        url = self._url(host, at)
        if news and self.rng.random() < COPY_SHARE:
            index = self.rng.choice(news)
            original = members[index]
            text = self.words.edited(original.text)
            return Item(
                day,
                at,
                source,
                url,
                original.title,
                text,
                plot,
                tags=plot.tags,
                linked=index,
                kind="near_duplicate",
            )
        title, text = self.words.title(plot), self.words.body(plot)
        linked, kind = (0, "same_story") if members else (None, None)
        return Item(
            day, at, source, url, title, text, plot, tags=plot.tags, linked=linked, kind=kind
        )

    def _release(self, day: int, at: datetime, plot: Plot) -> Item:
        """An HKMA press release (it carries a reference number in its URL)."""
        self.releases[day] += 1
        number = f"{at:%Y%m%d}-{self.releases[day]}"
        url = f"https://www.hkma.gov.hk/eng/news-and-media/press-releases/{at:%Y/%m}/{number}/"
        named = replace(plot, names=(*plot.names, "Hong Kong Monetary Authority"))
        tags = tuple(sorted({*plot.tags, "hkma"}))
        return Item(
            day,
            at,
            "scale-hkma-en",
            url,
            self.words.title(plot),
            self.words.body(named),
            plot,
            regulator=True,
            tags=tags,
            number=number,
        )

    def _translation(self, release: Item, linked: int | None) -> Item:
        """The Chinese version of an English release: same reference number, other language."""
        assert release.number is not None
        self.translated.add(release.number)
        return Item(
            release.day,
            release.at + timedelta(minutes=30),
            "scale-hkma-zh",
            release.url.replace("/eng/", "/chi/"),
            self.words.han(CHINESE_TITLE_CHARS),
            self.words.han(CHINESE_BODY_CHARS),
            release.plot,
            lang="zh-hant",
            regulator=True,
            tags=("hkma",),
            linked=linked,
            kind="translation",
            number=release.number,
        )

    def fresh(self, count: int) -> list[Item]:
        """``count`` articles to ingest: copies, rewrites and translations of the last days'
        history, and new stories at the newest day."""
        pool = [item for day in self.recent for item in day]
        news = [item for item in pool if not item.regulator]
        releases = [
            item
            for item in pool
            if item.regulator and item.lang == "en" and item.number not in self.translated
        ]
        kinds = [kind for kind, _ in FRESH_MIX]
        weights = [share for _, share in FRESH_MIX]
        rest = 1 - sum(weights)
        return [
            self._fresh(self.rng.choices([*kinds, "new"], [*weights, rest])[0], news, releases)
            for _ in range(count)
        ]

    def _fresh(self, kind: str, news: list[Item], releases: list[Item]) -> Item:
        if kind == "translation" and releases:
            return self._translation(releases.pop(self.rng.randrange(len(releases))), None)
        if kind in ("near_copy", "exact_copy", "rewrite") and news:
            original = self.rng.choice(news)
            source, host = self._source()
            at = original.at + timedelta(minutes=self.rng.randrange(60, 360))
            title, text = original.title, original.text
            if kind == "near_copy":
                text = self.words.edited(text)
            elif kind == "rewrite":
                title, text = self.words.title(original.plot), self.words.body(original.plot)
            return Item(
                original.day,
                at,
                source,
                self._url(host, at),
                title,
                text,
                original.plot,
                tags=original.plot.tags,
            )
        day = self.days - 1
        at = FIRST_DAY + timedelta(days=day, seconds=self.rng.randrange(86_400))
        return self._news([], day, at, self.words.plot())


def tag_phrases(tagger: Tagger) -> list[tuple[str, tuple[str, ...]]]:
    """Taxonomy names the tagger finds on their own, with the tag ids it then gives."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for node in tagger.nodes:
        if node.requires_context or node.min_count > 1:
            continue
        ids = tuple(sorted(tag.id for tag in tagger.tag(f"Bako mira {node.name} lasu pera.")))
        if node.id in ids:
            found.append((node.name, ids))
    return found


def fetched(item: Item, sources: dict[str, Source]) -> Fetched:
    """A fresh item as the fetch stage hands it over: a lead whose source gave the body."""
    source = sources[item.source]
    body = "".join(f"<p>{escape(part)}</p>" for part in item.text.split("\n\n"))
    lead = Lead(
        source_id=source.id,
        url=item.url,
        title=item.title,
        published_at=item.at,
        guid=item.url,
        body_html=body,
        lang=item.lang,
    )
    return Fetched(Planned(source, lead, lead_key(source, lead), Action.body, item.url))


def make_sources() -> dict[str, Source]:
    """The outlets and HKMA feeds the synthetic articles come from."""
    sources = [
        Source(
            id=f"scale-news-{index:02d}",
            name=f"Scale news {index}",
            kind="rss",
            urls=(f"https://news{index:02d}.scale.example/feed.xml",),
        )
        for index in range(NEWS_SOURCES)
    ]
    feed = "https://www.hkma.gov.hk/{}/rss.xml"
    sources.append(
        Source(
            id="scale-hkma-en",
            name="HKMA",
            kind="rss",
            urls=(feed.format("eng"),),
            regulator=True,
            doc_type="press_release",
        )
    )
    sources.append(
        Source(
            id="scale-hkma-zh",
            name="HKMA 中文",
            kind="rss",
            lang="zh-hant",
            urls=(feed.format("chi"),),
            regulator=True,
            doc_type="press_release",
        )
    )
    return {source.id: source for source in sources}


# History rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoding:
    """How a backend's bulk path takes times and flags."""

    time: Callable[[datetime], Any]
    flag: Callable[[bool], Any]


def _sqlite_time(moment: datetime) -> str:
    # What SQLAlchemy's SQLite DATETIME stores for the UTC-naive value UTCDateTime binds.
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


SQLITE_ENCODING = Encoding(time=_sqlite_time, flag=int)
POSTGRES_ENCODING = Encoding(time=lambda moment: moment, flag=bool)


def history_rows(
    items: Sequence[Item],
    *,
    real_from: int,
    enc: Encoding,
    version: str,
    noise: np.random.Generator,
) -> Rows:
    """The rows of every table for a chunk of history (whole stories), keys sorted by key."""
    rows: Rows = {table: [] for table in TABLES}
    bands: dict[int, list[int]] = {}
    for item in items:
        canonical = canonical_url(item.url)
        digest = content_hash(item.text)
        rows["articles"].append(_article_row(item, canonical, digest, enc, version))
        real = item.day >= real_from
        near, words, keys = _filed(item, canonical, digest, real, bands, noise)
        rows["article_prints"].append((item.id, near, words, json.dumps(sorted(item.tags))))
        rows["article_keys"].extend((key, item.id) for key in keys)
        yes, no = enc.flag(True), enc.flag(False)
        rows["article_tags"].extend((item.id, tag, 1, no, yes, "[]", version) for tag in item.tags)
        seen = enc.time(item.at + SEEN_DELAY)
        sighting = (item.id, item.source, None, item.url, item.url, item.kind or "new", seen)
        rows["sightings"].append(sighting)
        if item.linked is not None and item.kind is not None:
            link = (item.id, item.linked, item.kind, LINK_SCORES[item.kind], seen)
            rows["story_links"].append(link)
    rows["stories"] = _story_rows(items, enc)
    rows["article_keys"].sort()
    return rows


def _article_row(
    item: Item, canonical: str, digest: str, enc: Encoding, version: str
) -> tuple[Any, ...]:
    copy_of = item.linked if item.kind in COPY_KINDS else None
    doc_type = "press_release" if item.regulator else "news"
    return (
        item.id,
        f"url:{canonical}",
        item.source,
        None,
        item.url,
        canonical,
        item.title,
        item.text,
        None,
        None,
        item.lang,
        doc_type,
        enc.flag(item.regulator),
        enc.time(item.at),
        enc.time(item.at + SEEN_DELAY),
        digest,
        version,
        copy_of,
        "[]",
        "[]",
        None,
        item.story,
        enc.flag(has_cjk(item.title) or has_cjk(item.text)),
    )


def _filed(
    item: Item,
    canonical: str,
    digest: str,
    real: bool,
    bands: dict[int, list[int]],
    noise: np.random.Generator,
) -> tuple[bytes | None, bytes, list[int]]:
    """An article's signatures and stored keys: real ones, or random bands and signatures."""
    ref = regulator_ref(canonical)
    if real:
        found = fingerprint(
            key=f"url:{canonical}",
            title=item.title,
            text=item.text,
            lang=item.lang,
            at=item.at,
            source_id=item.source,
            canonical=canonical,
            content_hash=digest,
            regulator=item.regulator,
            ref=ref,
            tags=item.tags,
        )
        near = None if found.near is None else minhash.to_bytes(found.near)
        return near, minhash.to_bytes(found.words), list(dict.fromkeys(found.stored_keys()))
    shell = Fingerprint(
        key=f"url:{canonical}",
        canonical=canonical,
        content_hash=digest,
        lang=item.lang,
        at=item.at,
        source_id=item.source,
        regulator=item.regulator,
        ref=ref,
        title_terms=title_terms(item.title),
        tags=frozenset(),
        shingles=None,
        near=None,
        words=_BLANK,
    )
    own = noise.integers(-(2**63), 2**63 - 1, size=minhash.BANDS, dtype=np.int64).tolist()
    if item.kind == "near_duplicate" and item.linked in bands:
        kept = bands[item.linked]
        own = [kept[i] if i < COPY_KEPT_BANDS else key for i, key in enumerate(own)]
    bands[item.id] = own
    keys = list(dict.fromkeys(shell.stored_keys() + own))
    return noise.bytes(SIGNATURE_BYTES), noise.bytes(SIGNATURE_BYTES), keys


def _story_rows(items: Sequence[Item], enc: Encoding) -> list[tuple[Any, ...]]:
    """Each story's summary as ``refresh_stories`` computes it: a release leads, else the first."""
    members: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        members[item.story].append(item)
    rows: list[tuple[Any, ...]] = []
    for story, group in members.items():
        ordered = sorted(group, key=lambda item: (item.at, item.id))
        lead = next((item for item in ordered if item.regulator), ordered[0])
        outlets = json.dumps(sorted({item.source for item in group}))
        languages = json.dumps(sorted({item.lang for item in group}))
        first, last = enc.time(ordered[0].at), enc.time(ordered[-1].at)
        rows.append((story, lead.id, first, last, len(group), outlets, languages, last))
    return rows


# Bulk loaders ------------------------------------------------------------------------------


class Loader(Protocol):
    """Writes history rows the fastest way a backend has; ``finish`` after a growth step."""

    def load(self, rows: Rows) -> None:
        """Write one chunk of rows in one transaction."""

    def finish(self) -> None:
        """Whatever the database needs once the rows are in."""

    def close(self) -> None:
        """Give the connection back."""


class SqliteLoader:
    """One ``executemany`` per table per chunk, in one transaction, with setup-only pragmas."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        # Setup only: no journal, no fsync, a big page cache; WAL is back on in ``close``.
        for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{SETUP_CACHE_KIB}"):
            self.conn.execute(f"PRAGMA {pragma}")

    def load(self, rows: Rows) -> None:
        """Insert a chunk in one transaction (the full-text triggers index each article)."""
        self.conn.execute("BEGIN")
        for table, columns in TABLES.items():
            marks = ", ".join("?" * len(columns))
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            self.conn.executemany(insert, rows[table])
        self.conn.execute("COMMIT")

    def finish(self) -> None:
        """Nothing: the library never runs ANALYZE on SQLite, so neither does the bench."""

    def close(self) -> None:
        """Put the database back in WAL mode, as the library opens it."""
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.close()


class PostgresLoader:
    """``COPY`` per table per chunk; the keys as binary COPY built by numpy."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(_libpq(url), autocommit=True)
        # Setup only, this session only: skip the foreign-key triggers (the rows are consistent
        # by construction) and give VACUUM room. The schema is untouched.
        self.conn.execute("SET session_replication_role = replica")
        self.conn.execute("SET maintenance_work_mem = '1GB'")

    def load(self, rows: Rows) -> None:
        """Copy a chunk in one transaction (the generated tsvector column and GIN index too)."""
        with self.conn.transaction(), self.conn.cursor() as cursor:
            for table, columns in TABLES.items():
                if table == "article_keys":
                    _copy_keys(cursor, rows[table])
                    continue
                names = sql.SQL(", ").join(map(sql.Identifier, columns))
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
                with cursor.copy(statement) as copy:
                    for row in rows[table]:
                        copy.write_row(row)

    def finish(self) -> None:
        """Move the id sequences past the loaded ids; VACUUM ANALYZE as autovacuum would."""
        for table in ("articles", "stories"):
            self.conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))"
                ).format(sql.Literal(table), sql.Identifier(table))
            )
        # The server runs with autovacuum off: without this the planner has no statistics and
        # index-only scans no visibility map, which no long-lived database would lack.
        self.conn.execute("VACUUM (ANALYZE)")

    def close(self) -> None:
        """Close the setup connection."""
        self.conn.close()


def _copy_keys(cursor: psycopg.Cursor[Any], rows: list[tuple[Any, ...]]) -> None:
    pairs = np.array(rows, dtype=np.int64).reshape(-1, 2)
    records = np.empty(len(pairs), dtype=KEY_RECORD)
    records["fields"], records["key_len"], records["id_len"] = 2, 8, 4
    records["key"], records["id"] = pairs[:, 0], pairs[:, 1]
    with cursor.copy("COPY article_keys (key, article_id) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(COPY_HEADER + records.tobytes() + COPY_TRAILER)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# Measuring ---------------------------------------------------------------------------------


@dataclass
class Probe:
    """Seconds spent in the store functions a batch calls, the candidates it found, and the
    key lookup it sent (statement and parameters, to EXPLAIN afterwards)."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    asked: int = 0
    candidates: int = 0
    lookup: tuple[str, Any] | None = None

    @contextmanager
    def installed(self, engine: Engine) -> Iterator[None]:
        """Wrap the store functions for the ``with`` block; the originals are put back after."""
        # Every store call (a repo function taking the session first), wherever the batch
        # code calls it from: the library's write path changes, the probe need not.
        targets: list[tuple[Any, str]] = [
            (repo, name)
            for name in repo.__all__
            if getattr(getattr(repo, name), "__code__", None) is not None
            and getattr(repo, name).__code__.co_varnames[:1] == ("session",)
        ]
        # ``load_prints`` as the module that finds candidates calls it (wherever that lives).
        home = sys.modules[repo.find_candidates.__module__]
        targets += [(module, "load_prints") for module in {home, store_prints}]
        # The DBAPI commit (the WAL write and fsync; on Postgres the WAL flush).
        targets.append((engine.dialect, "do_commit"))
        saved = [(module, name, getattr(module, name)) for module, name in targets]
        event.listen(engine, "before_cursor_execute", self._statement)
        try:
            for module, name, original in saved:
                setattr(module, name, self._timed(name, original))
            yield
        finally:
            event.remove(engine, "before_cursor_execute", self._statement)
            for module, name, original in reversed(saved):
                setattr(module, name, original)

    def _statement(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        lookup = not executemany and _is_key_lookup(statement)
        if lookup and (self.lookup is None or len(str(parameters)) > len(str(self.lookup[1]))):
            self.lookup = (statement, parameters)

    def _timed(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
            if name == "find_candidates":
                self.asked += len(args[1])
                self.candidates += len(result)
            return result

        return timed


def _is_key_lookup(statement: str) -> bool:
    """Whether a statement reads ``article_keys`` by key (the candidates' posting lists)."""
    flat = " ".join(statement.split()).replace('"', "")
    # Each key of a batch read back from its newest articles (a join with the wanted keys),
    # or the keys as one list.
    by_key = "AS wanted" in flat or "key IN (" in flat or "key = ANY(" in flat
    return flat.upper().startswith("SELECT") and "article_keys" in flat and by_key


@dataclass
class Measured:
    """What the batches cost at one size of one backend."""

    backend: str
    size: int
    setup: float
    articles: int = 0
    wall: float = 0.0
    stages: Counter[str] = field(default_factory=Counter)
    batch_ms: list[float] = field(default_factory=list)
    probe: Probe = field(default_factory=Probe)
    verdicts: Counter[str] = field(default_factory=Counter)
    links: dict[str, int] = field(default_factory=dict)
    plan: list[str] = field(default_factory=list)
    postings: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: BatchResult, wall: float, count: int) -> None:
        """Count one batch in."""
        prepare = sum(outcome.seconds.get(stage, 0.0) for stage in PREPARE_STAGES)
        self.batch_ms.append((wall - prepare) / count * 1000)
        self.articles += count
        self.wall += wall
        self.stages.update(outcome.seconds)
        for report in outcome.reports.values():
            self.verdicts.update(new=report.new, duplicates=report.duplicates, errors=report.errors)

    def per_article(self, seconds: float) -> float:
        """``seconds`` over the batches as milliseconds per article."""
        return seconds / max(self.articles, 1) * 1000

    @property
    def prep(self) -> float:
        """Extract, tag and fingerprint, ms per article: no database, the same at every size."""
        return self.per_article(sum(self.stages[s] for s in PREPARE_STAGES))

    @property
    def ms(self) -> float:
        """Dedupe and store, ms per article: batch time but extract, tag and fingerprint."""
        return self.per_article(self.wall) - self.prep

    def breakdown(self) -> dict[str, float]:
        """Dedupe-and-store split by where the time went, ms per article."""
        spent = self.probe.seconds
        # A batch's story work: planning its stories before the insert, placing after it.
        story_work = ("plan_stories", "place_articles")
        grouped = {"find_candidates", "load_prints", "file_prints", "do_commit", *story_work}
        parts = {
            "keys": spent["find_candidates"] - spent["load_prints"],
            "load": spent["load_prints"],
            "compare": self.stages["dedupe"] - spent["find_candidates"],
            "writes": sum(value for name, value in spent.items() if name not in grouped),
            "prints": spent["file_prints"],
            "stories": sum(spent[name] for name in story_work),
            "commit": spent["do_commit"],
        }
        parts["rest"] = self.ms / 1000 * self.articles - sum(parts.values())
        return {name: self.per_article(value) for name, value in parts.items()}


@dataclass
class Bench:
    """What every size of one backend shares: the store and what ingests into it."""

    backend: str
    url: str
    sources: dict[str, Source]
    tagger: Tagger
    alerts: AlertsConfig
    known_tags: frozenset[str]
    batch: int
    batches: int
    warmup: int


def measure(bench: Bench, corpus: Corpus, size: int, setup: float) -> Measured:
    """Ingest the fresh batches through ``process_batch``; then forget them again."""
    result = Measured(bench.backend, size, setup)
    engine = db.make_engine(bench.url)
    last_story = corpus.next_story - 1
    with Session(engine) as session, session.begin():
        run_id = repo.start_run(session, flow_run_id=None, options={"bench": "dedupe_scale"})
    try:
        try:
            for _ in range(bench.warmup):
                _timed_batch(bench, engine, run_id, corpus.fresh(bench.batch))
            with result.probe.installed(engine):
                for _ in range(bench.batches):
                    result.add(*_timed_batch(bench, engine, run_id, corpus.fresh(bench.batch)))
            result.links = fresh_links(engine, corpus.size)
            result.plan = key_lookup_plan(engine, result.probe.lookup)
        finally:
            forget_fresh(engine, corpus.size, last_story, run_id)
        result.postings = posting_sizes(engine, corpus.size)
    finally:
        engine.dispose()
    return result


def _timed_batch(
    bench: Bench, engine: Engine, run_id: int, fresh: Sequence[Item]
) -> tuple[BatchResult, float, int]:
    """One batch through ``process_batch``: what it returned, its wall time, its size."""
    items = [fetched(item, bench.sources) for item in fresh]
    start = time.perf_counter()
    outcome = process_batch(
        items,
        engine=engine,
        run_id=run_id,
        tagger=bench.tagger,
        alerts=bench.alerts,
        known_tag_ids=bench.known_tags,
    )
    return outcome, time.perf_counter() - start, len(items)


def fresh_links(engine: Engine, last_history: int) -> dict[str, int]:
    """How the measured articles joined their stories (links by kind; unlinked: new stories)."""
    with Session(engine) as session:
        stmt = (
            select(StoryLink.kind, func.count())
            .where(StoryLink.article_id > last_history)
            .group_by(StoryLink.kind)
        )
        found = {kind: int(count) for kind, count in session.execute(stmt)}
        stored = session.scalar(select(func.count()).where(Article.id > last_history))
    found["stored"] = int(stored or 0)
    return found


def forget_fresh(engine: Engine, last_article: int, last_story: int, run_id: int) -> None:
    """Delete the measured articles and what they added, so the next size grows the same
    history; the stories they joined get their summaries back."""
    with Session(engine) as session, session.begin():
        touched = set(
            session.scalars(
                select(Article.story_id).where(
                    Article.id > last_article, Article.story_id <= last_story
                )
            )
        )
        for model in (StoryLink, ArticleKey, ArticlePrint, ArticleTag, Sighting, AlertRow):
            table = cast(Table, model.__table__)
            session.execute(delete(table).where(table.c.article_id > last_article))
        session.execute(delete(Story).where(Story.id > last_story))
        session.execute(delete(Article).where(Article.id > last_article))
        repo.refresh_stories(session, [story for story in touched if story is not None])
        session.execute(delete(Run).where(Run.id == run_id))


def key_lookup_plan(engine: Engine, lookup: tuple[str, Any] | None) -> list[str]:
    """Plans of the key lookup ``find_candidates`` sent (with the keys it sent), and of the
    plain ``SELECT key, article_id FROM article_keys WHERE key IN (…)`` with 500 of them."""
    if lookup is None:
        return ["(no key lookup was sent)"]
    statement, parameters = lookup
    keys = _sent_keys(parameters)[:PLAIN_KEYS]
    plain = select(ArticleKey.key, ArticleKey.article_id).where(ArticleKey.key.in_(keys))
    literal = str(plain.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    lines: list[str] = []
    with engine.connect() as connection:
        for query, values in ((statement, parameters), (literal, None)):
            rows = connection.exec_driver_sql(prefix + query, values).all()
            lines.append(_elided(" ".join(query.split())))
            lines += [f"  {_clipped(str(row[-1]))}" for row in rows]
    return lines


def _sent_keys(parameters: Any) -> list[int]:
    """The keys among a statement's parameters: a list, a JSON array, or one bound per key."""
    values = list(parameters.values()) if isinstance(parameters, dict) else list(parameters)
    for value in values:
        if isinstance(value, str) and value.startswith("["):
            return [int(key) for key in json.loads(value)]
        if isinstance(value, list | tuple):
            return [int(key) for key in value]
    return [value for value in values if isinstance(value, int)]


def _elided(statement: str) -> str:
    """The statement with a long IN list (up to its closing parenthesis) shown as a count."""
    opening = statement.find(" IN (")
    if opening < 0:
        return statement
    depth, end = 0, len(statement)
    for end in range(opening + 4, len(statement)):
        depth += {"(": 1, ")": -1}.get(statement[end], 0)
        if depth == 0:
            break
    listed = statement[opening + 5 : end]
    if len(listed) < ELIDE_FROM:
        return statement
    return f"{statement[: opening + 5]}… {listed.count(',') + 1} values{statement[end:]}"


def _clipped(line: str) -> str:
    return line if len(line) <= PLAN_WIDTH else line[: PLAN_WIDTH - 1] + "…"


def posting_sizes(engine: Engine, last_history: int) -> Counter[str]:
    """How many stored articles share each key the newest week of history is filed under,
    in bands of posting-list size (what a lookup of a recent key reads)."""
    newest = last_history - WEEK_ARTICLES
    query = text(
        "SELECT count(*) FROM article_keys WHERE key IN"
        " (SELECT key FROM article_keys WHERE article_id > :newest AND article_id <= :last)"
        " GROUP BY key"
    )
    sizes: Counter[str] = Counter()
    with engine.connect() as connection:
        for (count,) in connection.execute(query, {"newest": newest, "last": last_history}):
            sizes[next(label for label, top in POSTING_BANDS if count <= top)] += 1
    return sizes


# Driving -----------------------------------------------------------------------------------


def grow(
    open_loader: Callable[[], Loader],
    corpus: Corpus,
    target: int,
    enc: Encoding,
    version: str,
    noise: np.random.Generator,
) -> float:
    """Grow the stored history to ``target`` articles; the seconds it took."""
    start = time.perf_counter()
    real_from = corpus.last_day(target) - REAL_PRINT_DAYS
    made = loaded = 0.0
    loader = open_loader()
    try:
        chunks = corpus.grow(target)
        while True:
            tick = time.perf_counter()
            chunk = next(chunks, None)
            if chunk is None:
                break
            rows = history_rows(chunk, real_from=real_from, enc=enc, version=version, noise=noise)
            made += time.perf_counter() - tick
            tick = time.perf_counter()
            loader.load(rows)
            loaded += time.perf_counter() - tick
            if corpus.days % (CHUNK_DAYS * 10) == 0:
                print(
                    f"    … {corpus.size:,} articles, {time.perf_counter() - start:.0f} s",
                    flush=True,
                )
        tick = time.perf_counter()
        loader.finish()
        finished = time.perf_counter() - tick
    finally:
        loader.close()
    total = time.perf_counter() - start
    print(
        f"  setup to {target:,}: {total:.1f} s (rows made {made:.1f} s, loaded {loaded:.1f} s,"
        f" finish {finished:.1f} s); history spans {corpus.days} days",
        flush=True,
    )
    return total


@contextmanager
def store_url(backend: str, server: str) -> Iterator[str]:
    """A fresh database for ``backend``, dropped (or deleted) afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="newswatch-scale-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'scale.db'}"
        return
    name = f"newswatch_scale_{os.getpid()}"
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(server), autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


def check_columns(engine: Engine) -> None:
    """Stop with a clear message when the schema has columns the bulk rows do not match."""
    inspector = inspect(engine)
    problems: list[str] = []
    for table, filled in TABLES.items():
        columns = inspector.get_columns(table)
        names = {column["name"] for column in columns}
        problems += [f"{table}.{name} is not in the schema" for name in filled if name not in names]
        problems += [
            f"{table}.{column['name']} is required but not filled by the bench"
            for column in columns
            if not column["nullable"]
            and column["name"] not in filled
            and column.get("default") is None
            and not column.get("computed")
            and not (column["name"] == "id" and column.get("autoincrement", True))
        ]
    if problems:
        raise SystemExit("the schema changed under the bench: " + "; ".join(problems))


def prepare(backend: str, url: str, args: argparse.Namespace) -> Bench:
    """Migrate the new database, mirror the sources and taxonomy, load the alert rules."""
    db.upgrade(url)
    sources = make_sources()
    tagger = Tagger.from_path(REPO / "taxonomy.toml")
    alerts = load_alerts(
        REPO / "alerts.toml", sources=list(sources.values()), taxonomy=tagger.taxonomy
    )
    engine = db.make_engine(url)
    check_columns(engine)
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, sources.values())
        known = frozenset(repo.sync_taxonomy(session, tagger.nodes))
    engine.dispose()
    return Bench(
        backend, url, sources, tagger, alerts, known, args.batch, args.batches, args.warmup
    )


def run_backend(backend: str, sizes: Sequence[int], args: argparse.Namespace) -> list[Measured]:
    """Build, grow and measure one backend at every size."""
    print(f"== {backend}", flush=True)
    results: list[Measured] = []
    try:
        with store_url(backend, args.postgres) as url:
            bench = prepare(backend, url, args)
            corpus = Corpus(Words(random.Random(RANDOM_SEED), tag_phrases(bench.tagger)))
            noise = np.random.default_rng(RANDOM_SEED)
            enc = SQLITE_ENCODING if backend == "sqlite" else POSTGRES_ENCODING
            database = make_url(url).database or ""

            def open_loader() -> Loader:
                return SqliteLoader(database) if backend == "sqlite" else PostgresLoader(url)

            for size in sizes:
                setup = grow(open_loader, corpus, size, enc, bench.tagger.version, noise)
                results.append(measure(bench, corpus, size, setup))
                show(results[-1])
    except psycopg.OperationalError as exc:
        print(f"  skipped {backend}: {str(exc).strip().splitlines()[0]}")
    return results


def show(result: Measured) -> None:
    """Print one size's figures as soon as they are measured."""
    seconds = ", ".join(f"{name} {value:.2f}" for name, value in sorted(result.stages.items()))
    parts = ", ".join(f"{name} {value:.3f}" for name, value in result.breakdown().items())
    probe = result.probe
    print(
        f"  {result.size:,} stored: {result.articles} articles in {result.wall:.2f} s;"
        f" dedupe+store {result.ms:.3f} ms/article (batches: "
        f"{', '.join(f'{ms:.2f}' for ms in result.batch_ms)})"
    )
    print(f"    stage seconds: {seconds}")
    print(f"    ms/article by part: {parts}")
    print(
        f"    candidates {probe.candidates / max(probe.asked, 1):.1f}/article; verdicts"
        f" {dict(result.verdicts)}; links (warm-up too) {result.links}"
    )
    bands = ", ".join(f"{label}: {result.postings[label]}" for label, _ in POSTING_BANDS)
    print(f"    keys of the newest week by posting-list size: {bands}")
    print("    key lookup plan:")
    for line in result.plan:
        print(f"      {line}")


def summary(results: Sequence[Measured]) -> None:
    """The table: backend × size → ms/article, candidates; the ratio and the goals."""
    names = list(results[0].breakdown()) if results else []
    print(
        "\nms per article. prep: extract+tag+fingerprint (no database: a yardstick of CPU"
        " contention); ms/art, median (of batches): dedupe+store, split after cand/art"
    )
    print(
        f"{'backend':<10} {'size':>9} {'setup s':>8} {'prep':>6} {'ms/art':>7} {'median':>7}"
        f" {'cand/art':>8}" + "".join(f"{name:>8}" for name in names)
    )
    for r in results:
        part = r.breakdown()
        cells = "".join(f"{part[name]:8.3f}" for name in names)
        print(
            f"{r.backend:<10} {r.size:>9,} {r.setup:8.1f} {r.prep:6.3f} {r.ms:7.3f}"
            f" {statistics.median(r.batch_ms):7.3f}"
            f" {r.probe.candidates / max(r.probe.asked, 1):8.1f}{cells}"
        )
    for backend in dict.fromkeys(r.backend for r in results):
        mine = sorted((r for r in results if r.backend == backend), key=lambda r: r.size)
        small, large = mine[0], mine[-1]
        ratio = large.ms / small.ms
        label = f"{large.size:,}/{small.size:,}"
        print(
            f"{backend}: {label} = {ratio:.2f}× (goal ≤ {GOAL_RATIO}×:"
            f" {'met' if ratio <= GOAL_RATIO else 'MISSED'}); {large.ms:.3f} ms/article at"
            f" {large.size:,} (goal < {GOAL_MS} ms: {'met' if large.ms < GOAL_MS else 'MISSED'})"
        )


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=DEFAULT_SIZES)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--batches", type=int, default=5)
    # Uncounted batches first at each size: SQLAlchemy's statement cache, prepared statements
    # and the pages of the newest week are warm in a running ingestion, as they are after one.
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--postgres", default=POSTGRES_URL)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    results: list[Measured] = []
    for backend in args.backends.split(","):
        results.extend(run_backend(backend.strip(), sizes, args))
    if results:
        summary(results)


if __name__ == "__main__":
    main()
