"""Search quality for Chinese and English terms: recall and precision against substring truth.

Runs the pipeline over the recorded fixtures (``fixtures/http``) into a fresh SQLite file, and
into a fresh Postgres database with ``--postgres URL``, then samples queries from the stored
articles: Chinese words of 1 to 4 characters (substrings of the runs of Chinese characters in
titles and texts), English words and two-word phrases from titles. Each query's hits
(``search_articles`` with no effective limit) are compared with the articles whose title and
text hold the term, case-insensitively: exact for Chinese, where search matches substrings;
for English an approximation, since search matches stemmed whole words ("bank" is held in
"embankment" but not found there; a quoted pair is found across punctuation), which is why
English is reported apart. For Chinese the word index alone (the search before migration
0008) is measured too.

Usage: ``python bench/search_quality.py [--postgres URL] [--queries 200] [--show 5]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/pipeline.py would shadow the
# ``pipeline`` package measured here.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import random
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pipeline.ingest import IngestOptions, run_once
from pipeline.store import db
from pipeline.store.schema import Article
from pipeline.store.search import Filters, fts5_query, search_articles

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "http"
# Fixed, so two runs ask the same queries of the same articles.
RANDOM_SEED = 20251210
# Far more than the fixtures hold: every match is returned.
NO_LIMIT = 1_000_000
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
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
    """Migrate ``url`` and store the articles of the recorded fixtures in it."""
    db.upgrade(url)
    options = IngestOptions(
        db_url=url,
        sources_path=REPO / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts_file(directory),
        replay=FIXTURES,
    )
    asyncio.run(run_once(options))


def articles(url: str) -> dict[int, str]:
    """Title and text of every article search reads (no syndicated copies), by id."""
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            stmt = select(Article.id, Article.title, Article.text).where(*Filters().conditions())
            return {row.id: f"{row.title} {row.text}" for row in session.execute(stmt)}
    finally:
        engine.dispose()


def sample_queries(stored: dict[int, str], count: int) -> tuple[list[str], list[str]]:
    """About ``count`` queries: Chinese words of 1 to 4 characters, English words and pairs."""
    rng = random.Random(RANDOM_SEED)
    chinese: set[str] = set()
    english: set[str] = set()
    runs = [run for body in stored.values() for run in _CJK_RUN.findall(body)]
    attempts = 0
    while runs and len(chinese) < count // 2 and attempts < count * 50:
        attempts += 1
        run = rng.choice(runs)
        size = rng.choice((1, 2, 2, 3, 3, 4))
        if len(run) >= size:
            start = rng.randrange(len(run) - size + 1)
            chinese.add(run[start : start + size])
    words = [
        [w for w in _ENGLISH_WORD.findall(body) if w.lower() not in _SKIP]
        for body in stored.values()
    ]
    attempts = 0
    while len(english) < count - len(chinese) and attempts < count * 50:
        attempts += 1
        line = rng.choice(words)
        if len(line) < 2:
            continue
        start = rng.randrange(len(line) - 1)
        english.add(line[start] if rng.random() < 0.6 else f'"{line[start]} {line[start + 1]}"')
    return sorted(chinese), sorted(english)


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
    chinese, english = sample_queries(stored, count)
    folded = {article_id: body.lower() for article_id, body in stored.items()}
    scores = {"Chinese": Score(), "English": Score(), "Chinese, word index": Score()}
    engine = db.make_engine(url)
    started = time.perf_counter()
    try:
        with Session(engine) as session:
            for language, queries in (("Chinese", chinese), ("English", english)):
                for query in queries:
                    term = query.strip('"').lower()
                    truth = {i for i, body in folded.items() if term in body}
                    hits = search_articles(session, query, limit=NO_LIMIT)
                    scores[language].add(query, truth, {hit.id for hit in hits})
                    if language == "Chinese":
                        before = word_index_only(session, query)
                        scores["Chinese, word index"].add(query, truth, before)
    finally:
        engine.dispose()
    asked = time.perf_counter() - started
    print(
        f"\n{label}: {len(stored)} articles ({filled:.1f} s to fill), "
        f"{len(chinese) + len(english)} queries in {asked:.2f} s"
    )
    for language, score in scores.items():
        print(score.line(f"  {language}"))
        shown = 0 if language.endswith("word index") else show
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
