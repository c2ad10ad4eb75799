"""Search quality for Chinese and English terms: recall and precision against substring truth.

Runs the pipeline over the recorded fixtures (``fixtures/http``, whose Chinese is Traditional)
into a fresh SQLite file, and into a fresh Postgres database with ``--postgres URL``, adds the
Simplified Chinese news page of ``../shared/eval/pages`` (People's Daily) as one more article,
then samples 200 queries from the stored articles: a quarter each Traditional and Simplified
Chinese words of 2 to 4 characters (substrings of the runs of Chinese characters), half English
words and two-word "phrases". Each query's hits (``search_articles`` with no effective limit)
are compared with the articles holding the term, case-insensitively (LIKE):

- Chinese: as a substring, in any of its scripts (``pipeline.store.chinese_script``: a
  Simplified query finds Traditional text), which is what search promises for Chinese.
- English, whole words: the words in order with nothing but spaces or punctuation between them
  and no letter around them ("ant" is not held in "want").
- English, same stem: the same, each word compared by its stem (``pipeline.alerts.textmatch``,
  SQLite's Porter stemmer), since search finds "regulation" in "regulated". The whole-word
  figure shows how far stemming widens a query; this one whether the index is right.

For Chinese the word index alone (the search before migration 0008) is measured too.

Usage: ``python bench/search_quality.py [--postgres URL] [--queries 200] [--show 5]``.
Without ``../shared`` (``NEWSWATCH_SHARED_DIR``) the Simplified queries are left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/pipeline.py would shadow the
# ``pipeline`` package measured here.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import gzip
import json
import os
import random
import re
import secrets
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pipeline.alerts.textmatch import CompiledQuery, IndexedText
from pipeline.ingest import IngestOptions, run_once
from pipeline.models import Article as NewArticle
from pipeline.models import Source, TaggedArticle
from pipeline.querytext import parse_query
from pipeline.store import db, repo
from pipeline.store.chinese_script import script_variants
from pipeline.store.schema import Article
from pipeline.store.search import fts5_query, search_articles

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")
SIMPLIFIED_PAGE = ("cn", "People")
SIMPLIFIED_SOURCE = Source(
    id="people-cn",
    name="People's Daily",
    kind="rss",
    urls=("http://politics.people.com.cn/",),
    lang="zh-hans",
)
FIXTURES = REPO / "fixtures" / "http"
# Fixed, so two runs ask the same queries of the same articles.
RANDOM_SEED = 20251210
# Far more than the fixtures hold: every match is returned.
NO_LIMIT = 1_000_000
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# The Chinese word sizes asked for: two to four characters, as words are written.
CHINESE_SIZES = (2, 2, 3, 3, 4)
_ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# Words too common to tell anything about recall (and stop words, which Postgres ignores).
_SKIP = {"the", "and", "for", "with", "from", "that", "this", "into", "has", "are", "was"}


@dataclass
class Score:
    """Recall and precision summed over queries, micro-averaged over (query, article) pairs."""

    queries: int = 0
    truth: int = 0
    found: int = 0
    right: int = 0
    misses: list[tuple[str, int, int]] = field(default_factory=list)

    def add(self, query: str, truth: set[int], found: set[int]) -> None:
        """Count one query's hits against the articles that hold its term."""
        self.queries += 1
        self.truth += len(truth)
        self.found += len(found)
        self.right += len(truth & found)
        if truth != found:
            self.misses.append((query, len(truth - found), len(found - truth)))

    def line(self, label: str) -> str:
        """One line of figures."""
        recall = self.right / self.truth if self.truth else 1.0
        precision = self.right / self.found if self.found else 1.0
        return (
            f"{label:<24} queries {self.queries:>4}  recall {recall:.3f}  "
            f"precision {precision:.3f}  (expected {self.truth}, found {self.found}, "
            f"inexact queries {len(self.misses)})"
        )


def alerts_file(directory: Path) -> Path:
    """The shipped rules, sent to a JSON Lines file in ``directory`` only."""
    shipped = (REPO / "alerts.toml").read_text(encoding="utf-8")
    cut = re.search(r"^\[\[channel\]\]", shipped, re.MULTILINE)
    rules = shipped[: cut.start()] if cut else shipped
    body = rules.replace('channels = ["console", "jsonl"]', 'channels = ["jsonl"]')
    body += f'\n[[channel]]\nid = "jsonl"\nkind = "jsonl"\npath = "{directory / "a.jsonl"}"\n'
    path = directory / "alerts.toml"
    path.write_text(body, encoding="utf-8")
    return path


def fill(url: str, directory: Path) -> None:
    """Migrate ``url``, store the articles of the recorded fixtures and the Simplified page."""
    db.upgrade(url)
    options = IngestOptions(
        db_url=url,
        sources_path=REPO / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts_file(directory),
        replay=FIXTURES,
    )
    asyncio.run(run_once(options))
    page = simplified_page()
    if page is None:
        return
    title, body, page_url = page
    article = NewArticle(
        url=page_url, title=title, text=body, source_id=SIMPLIFIED_SOURCE.id, lang="zh-hans"
    )
    engine = db.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            repo.sync_sources(session, [SIMPLIFIED_SOURCE])
            tagged = TaggedArticle(article, (), "simplified", "bench")
            repo.insert_article(session, tagged, item_key="url:" + page_url)
    finally:
        engine.dispose()


def simplified_page() -> tuple[str, str, str] | None:
    """Title, body and URL of the Simplified Chinese evaluation page; None without ../shared."""
    index = SHARED / "eval" / "pages" / "index.jsonl"
    if not index.exists():
        return None
    country, publisher = SIMPLIFIED_PAGE
    for line in index.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["country"] == country and row["publisher"] == publisher:
            # The stored text is what extraction keeps; the page itself is only checked to be there.
            with gzip.open(SHARED / "eval" / "pages" / row["file"], "rb") as handle:
                handle.read(1)
            return row["title"], row["body_text"], row["url"]
    return None


@dataclass(frozen=True)
class Stored:
    """An article as the truth reads it: its fields folded, and indexed for stems."""

    source: str
    folded: str
    indexed: IndexedText


def articles(url: str) -> dict[int, Stored]:
    """Every article search reads (no syndicated copies), by id."""
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            stmt = select(Article.id, Article.source_id, Article.title, Article.text).where(
                Article.duplicate_of.is_(None)
            )
            return {
                row.id: Stored(
                    row.source_id,
                    f"{row.title}\n{row.text}".casefold(),
                    IndexedText(row.title, row.text),
                )
                for row in session.execute(stmt)
            }
    finally:
        engine.dispose()


def chinese_words(bodies: list[str], count: int, rng: random.Random) -> list[str]:
    """``count`` distinct words of 2 to 4 characters cut from the Chinese runs of ``bodies``."""
    runs = [run for body in bodies for run in _CJK_RUN.findall(body)]
    words: set[str] = set()
    attempts = 0
    while runs and len(words) < count and attempts < count * 50:
        attempts += 1
        run = rng.choice(runs)
        size = rng.choice(CHINESE_SIZES)
        if len(run) >= size:
            start = rng.randrange(len(run) - size + 1)
            words.add(run[start : start + size])
    return sorted(words)


def sample_queries(stored: dict[int, Stored], count: int) -> dict[str, list[str]]:
    """About ``count`` queries: a quarter each Traditional and Simplified Chinese words, half
    English words and two-word phrases."""
    rng = random.Random(RANDOM_SEED)
    simplified = [a.folded for a in stored.values() if a.source == SIMPLIFIED_SOURCE.id]
    traditional = [a.folded for a in stored.values() if a.source != SIMPLIFIED_SOURCE.id]
    queries = {
        "Chinese, Traditional": chinese_words(traditional, count // 4, rng),
        "Chinese, Simplified": chinese_words(simplified, count // 4, rng),
    }
    words = [
        [w for w in _ENGLISH_WORD.findall(a.folded) if w.lower() not in _SKIP]
        for a in stored.values()
    ]
    english: set[str] = set()
    wanted = count - sum(len(found) for found in queries.values())
    attempts = 0
    while len(english) < wanted and attempts < count * 50:
        attempts += 1
        line = rng.choice(words)
        if len(line) < 2:
            continue
        start = rng.randrange(len(line) - 1)
        english.add(line[start] if rng.random() < 0.6 else f'"{line[start]} {line[start + 1]}"')
    queries["English"] = sorted(english)
    return queries


def whole_words(query: str) -> re.Pattern[str]:
    """The words of an English ``query`` in order, punctuation or spaces between, no letter
    or digit around: LIKE made to respect word edges."""
    words = [re.escape(word) for word in query.strip('"').casefold().split()]
    return re.compile(r"(?<![\w])" + r"[\W_]+".join(words) + r"(?![\w])")


def truths(query: str, language: str, stored: dict[int, Stored]) -> dict[str, set[int]]:
    """The articles that hold ``query``, by each reading of "hold" that applies to it."""
    if language.startswith("Chinese"):
        forms = [variant.casefold() for variant in script_variants(query)]
        return {language: {i for i, a in stored.items() if any(f in a.folded for f in forms)}}
    pattern = whole_words(query)
    stems = CompiledQuery.of(parse_query(query))
    return {
        "English, whole words": {i for i, a in stored.items() if pattern.search(a.folded)},
        "English, same stem": {i for i, a in stored.items() if stems.matches(a.indexed)},
    }


def word_index_only(session: Session, query: str) -> set[int]:
    """What the word index alone finds for ``query``: the search before migration 0008."""
    if session.get_bind().dialect.name == "postgresql":
        sql = (
            "SELECT id FROM articles WHERE duplicate_of IS NULL AND search_vector @@ "
            "websearch_to_tsquery('english', :q)"
        )
        return set(session.scalars(text(sql), {"q": query}))
    match = fts5_query(query)
    if match is None:
        return set()
    sql = (
        "SELECT articles.id FROM articles_fts JOIN articles ON articles.id = articles_fts.rowid"
        " WHERE articles_fts MATCH :q AND articles.duplicate_of IS NULL"
    )
    return set(session.scalars(text(sql), {"q": match}))


def measure(url: str, label: str, count: int, show: int) -> None:
    """Fill ``url``, ask the sampled queries and print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        fill(url, Path(tmp))
        filled = time.perf_counter() - started
    stored = articles(url)
    queries = sample_queries(stored, count)
    scores: dict[str, Score] = defaultdict(Score)
    engine = db.make_engine(url)
    started = time.perf_counter()
    try:
        with Session(engine) as session:
            for language, asked in queries.items():
                for query in asked:
                    found = {hit.id for hit in search_articles(session, query, limit=NO_LIMIT)}
                    for reading, truth in truths(query, language, stored).items():
                        scores[reading].add(query, truth, found)
                        if reading != "English, whole words":
                            scores["all 200, mixed"].add(query, truth, found)
                    if language.startswith("Chinese"):
                        before = word_index_only(session, query)
                        scores["Chinese, word index"].add(
                            query, truths(query, language, stored)[language], before
                        )
    finally:
        engine.dispose()
    asked_in = time.perf_counter() - started
    total = sum(len(asked) for asked in queries.values())
    print(
        f"\n{label}: {len(stored)} articles ({filled:.1f} s to fill),"
        f" {total} queries in {asked_in:.2f} s"
    )
    for reading, score in scores.items():
        print(score.line(f"  {reading}"))
        shown = 0 if reading.endswith("word index") or reading.startswith("all") else show
        for query, missed, extra in score.misses[:shown]:
            print(f"      {query!r}: {missed} missed, {extra} extra")


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server at ``server_url``, dropped on exit."""
    name = "newswatch_searchq_" + secrets.token_hex(4)
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main() -> None:
    """Measure on SQLite, and on Postgres when a server URL is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="a Postgres server to measure too")
    parser.add_argument("--queries", type=int, default=200, help="how many queries to sample")
    parser.add_argument("--show", type=int, default=5, help="inexact queries shown per language")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{Path(tmp) / 'search.db'}", "SQLite", args.queries, args.show)
    if args.postgres:
        with postgres_database(args.postgres) as url:
            measure(url, "Postgres", args.queries, args.show)


if __name__ == "__main__":
    main()
