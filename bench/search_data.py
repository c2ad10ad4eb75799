"""Generated articles for ``bench/search.py``: a history of any size, loaded the fast way.

The text is the fixtures' own: English titles and sentences, and Chinese clauses, read from a
database the recorded fixtures were ingested into, the Chinese widened with the taxonomy's
Chinese names (the fixtures hold only 14 short Chinese releases). About 70% of articles are
English and 30% Chinese; sources, tags (their frequencies as in the fixtures, 2 to 6 an
article) and stories of 1 to 6 articles over ~2 years are drawn with a fixed seed.

SQLite is loaded through the migrated schema; its FTS5 tables (words, trigrams, title words)
are then filled with 'rebuild', as migrations 0008 and 0015 fill their own, and their insert
triggers, dropped for the load, are made again with the migrations' statements. Nothing is
ANALYZEd: the store never runs ANALYZE on SQLite. Postgres is loaded with ``COPY`` (the
generated ``search_vector`` computed as rows arrive); its two GIN indexes are dropped first and
made again afterwards with the migrations' own statements, then VACUUM ANALYZE, as autovacuum
would. Run alone, this module only says so: ``bench/search.py`` uses it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/pipeline.py would shadow the
# ``pipeline`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import importlib.util
import json
import random
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from pipeline.store import db
from pipeline.store.search_terms import has_cjk
from pipeline.taxonomy import load_taxonomy

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = REPO / "pipeline" / "store" / "migrations" / "versions"
# Bump when the generated data changes: a cached database of another version is made again.
VERSION = 2
RANDOM_SEED = 20251210
LAST_DAY = datetime(2025, 11, 20, tzinfo=UTC)
HISTORY_DAYS = 730
CHINESE_SHARE = 0.3
STORY_SIZES = (1, 2, 3, 4, 5, 6)
STORY_WEIGHTS = (0.5, 0.2, 0.12, 0.08, 0.06, 0.04)
TAGS_PER_ARTICLE = (2, 6)
ENGLISH_SENTENCES = (4, 12)
CHINESE_SENTENCES = (2, 6)
CLAUSES_PER_SENTENCE = (2, 4)
# Syndicated copies (``duplicate_of`` set), which search leaves out by default.
DUPLICATE_SHARE = 0.03
UNDATED_SHARE = 0.01
# Articles per transaction while loading.
CHUNK = 20_000
# Alembic keeps its running migration in module globals: one upgrade at a time.
_ALEMBIC = threading.Lock()
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE_END = re.compile(r"(?<=[.!?。!?])\s*|\n+")
_CLAUSE_END = re.compile(r"[,,、:;:;()()。!?]")

ARTICLE_COLUMNS = [
    *("id", "item_key", "source_id", "url", "canonical_url", "title", "text", "lang"),
    *("doc_type", "regulator", "published_at", "first_seen_at", "content_hash"),
    *("taxonomy_version", "duplicate_of", "categories", "entities", "story_id", "has_cjk"),
]
TAG_COLUMNS = ["article_id", "tag_id", "count", "in_title", "in_lead", "evidence"]
TAG_COLUMNS += ["taxonomy_version"]
STORY_COLUMNS = ["id", "lead_article_id", "first_seen_at", "last_seen_at", "article_count"]
STORY_COLUMNS += ["outlets", "languages", "updated_at"]
SOURCE_COLUMNS = ["id", "name", "kind", "lang", "regulator", "doc_type", "enabled", "urls"]
TAGROW_COLUMNS = ["id", "name", "kind", "type", "parent_id", "regulator"]


@dataclass(frozen=True)
class Corpus:
    """What generated articles are made of: rows of ``sources`` and ``tags``, and text."""

    sources: list[tuple[Any, ...]]
    tags: list[tuple[Any, ...]]
    tag_ids: list[str]
    tag_weights: list[int]
    en_titles: list[str]
    en_sentences: list[str]
    zh_titles: list[str]
    zh_clauses: list[str]


def _chinese(text: str) -> bool:
    return len(_CJK.findall(text)) * 3 > len(text)


def read_corpus(replayed: Path, taxonomy: Path) -> Corpus:
    """The text, sources, tags and tag frequencies of a database the fixtures were ingested
    into, and the Chinese names of ``taxonomy``."""
    conn = sqlite3.connect(replayed)
    try:
        sources = conn.execute(f"SELECT {', '.join(SOURCE_COLUMNS)} FROM sources").fetchall()
        tags = conn.execute(f"SELECT {', '.join(TAGROW_COLUMNS)} FROM tags").fetchall()
        counts = Counter(dict(conn.execute("SELECT tag_id, count(*) FROM article_tags GROUP BY 1")))
        articles = conn.execute("SELECT title, text FROM articles").fetchall()
    finally:
        conn.close()
    en_titles, zh_titles, en_sentences, zh_clauses = [], [], [], []
    for title, body in articles:
        (zh_titles if _chinese(title) else en_titles).append(title)
        for sentence in _SENTENCE_END.split(body):
            if len(sentence := sentence.strip()) < 15:
                continue
            if not _chinese(sentence):
                en_sentences.append(sentence)
                continue
            zh_clauses += [c.strip() for c in _CLAUSE_END.split(sentence) if len(c.strip()) > 3]
    names = [t for node in load_taxonomy(taxonomy).nodes for t in node.terms if _chinese(t)]
    ids = sorted(counts)
    return Corpus(
        sources=sources,
        tags=tags,
        tag_ids=ids,
        tag_weights=[counts[i] for i in ids],
        en_titles=en_titles,
        en_sentences=en_sentences,
        zh_titles=zh_titles,
        zh_clauses=zh_clauses + names,
    )


@dataclass(frozen=True)
class Encoding:
    """How a backend's bulk path takes times and flags."""

    time: Callable[[datetime], Any]
    flag: Callable[[bool], Any]


# What SQLAlchemy's SQLite DATETIME stores for the UTC-naive value the store binds.
SQLITE = Encoding(time=lambda at: at.strftime("%Y-%m-%d %H:%M:%S.%f"), flag=int)
POSTGRES = Encoding(time=lambda at: at, flag=bool)

Rows = dict[str, list[tuple[Any, ...]]]

COLUMNS = {
    "sources": SOURCE_COLUMNS,
    "tags": TAGROW_COLUMNS,
    "articles": ARTICLE_COLUMNS,
    "article_tags": TAG_COLUMNS,
    "stories": STORY_COLUMNS,
}


class History:
    """Articles in stories, oldest first, drawn from a corpus with a fixed seed."""

    def __init__(self, corpus: Corpus, size: int, enc: Encoding) -> None:
        self.corpus, self.size, self.enc = corpus, size, enc
        self.rng = random.Random(RANDOM_SEED)
        self.en_sources = [s for s in corpus.sources if not s[3].startswith("zh")]
        self.zh_sources = corpus.sources  # a Chinese item can come from any outlet
        self.first = LAST_DAY - timedelta(days=HISTORY_DAYS)
        self.version = "bench"

    def chunks(self) -> Iterator[Rows]:
        """Rows of ``articles``, ``article_tags`` and ``stories``, whole stories per chunk."""
        rows: Rows = {"articles": [], "article_tags": [], "stories": []}
        story = next_id = 1
        while next_id <= self.size:
            members = min(self.rng.choices(STORY_SIZES, STORY_WEIGHTS)[0], self.size - next_id + 1)
            self._story(story, next_id, members, rows)
            story, next_id = story + 1, next_id + members
            if len(rows["articles"]) >= CHUNK or next_id > self.size:
                yield rows
                rows = {"articles": [], "article_tags": [], "stories": []}

    def _story(self, story: int, first: int, members: int, rows: Rows) -> None:
        rng, enc = self.rng, self.enc
        start = self.first + timedelta(days=HISTORY_DAYS * first / self.size, minutes=rng.random())
        tags = self._tags()
        times, outlets, langs = [], [], []
        for ident in range(first, first + members):
            at = start + timedelta(hours=36 * rng.random()) if ident > first else start
            chinese = rng.random() < CHINESE_SHARE
            source = rng.choice(self.zh_sources if chinese else self.en_sources)
            title, body = self._zh_text() if chinese else self._en_text()
            copy = ident > first and rng.random() < DUPLICATE_SHARE * 2
            published = None if rng.random() < UNDATED_SHARE else enc.time(at)
            lang = "zh-hant" if chinese else "en"
            url = f"https://{source[0]}.example/{ident}"
            rows["articles"].append(
                (
                    *(ident, f"bench:{ident}", source[0], url, url, title, body, lang),
                    *(source[5], enc.flag(source[4]), published),
                    *(enc.time(at + timedelta(hours=1)), f"h{ident}", self.version),
                    *(first if copy else None, "[]", "[]", story),
                    enc.flag(has_cjk(title) or has_cjk(body)),
                )
            )
            no, count = enc.flag(False), rng.randint(1, 5)
            rows["article_tags"] += [
                (ident, tag, count, no, no, "[]", self.version) for tag in tags
            ]
            times.append(at)
            outlets.append(source[0])
            langs.append(lang)
        rows["stories"].append(
            (
                *(story, first, enc.time(min(times)), enc.time(max(times)), members),
                *(json.dumps(sorted(set(outlets))), json.dumps(sorted(set(langs)))),
                enc.time(max(times)),
            )
        )

    def _tags(self) -> list[str]:
        picked: set[str] = set()
        wanted = self.rng.randint(*TAGS_PER_ARTICLE)
        while len(picked) < wanted:
            picked.update(self.rng.choices(self.corpus.tag_ids, self.corpus.tag_weights, k=1))
        return sorted(picked)

    def _en_text(self) -> tuple[str, str]:
        rng, corpus = self.rng, self.corpus
        body = " ".join(rng.choices(corpus.en_sentences, k=rng.randint(*ENGLISH_SENTENCES)))
        if rng.random() < 0.5:
            return rng.choice(corpus.en_titles), body
        words = rng.choice(corpus.en_sentences).split()
        return " ".join(words[: rng.randint(6, 14)]).rstrip(",.;:"), body

    def _zh_text(self) -> tuple[str, str]:
        rng, clauses = self.rng, self.corpus.zh_clauses
        sentences = [
            ",".join(rng.choices(clauses, k=rng.randint(*CLAUSES_PER_SENTENCE))) + "。"
            for _ in range(rng.randint(*CHINESE_SENTENCES))
        ]
        title = rng.choice(self.corpus.zh_titles) if rng.random() < 0.5 else rng.choice(clauses)
        return title, "".join(sentences)


def load_sqlite(path: Path, corpus: Corpus, size: int) -> float:
    """Write ``size`` generated articles to a new SQLite file at ``path``; the seconds taken.
    Built under another name and renamed at the end, so a cut-short run leaves no cache."""
    start = time.perf_counter()
    part = path.with_suffix(".part")
    for stale in path.parent.glob(part.name + "*"):
        stale.unlink()
    upgrade(f"sqlite:///{part}")
    conn = sqlite3.connect(part, isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000"):
        conn.execute(f"PRAGMA {pragma}")
    # Indexing row by row through the insert triggers takes three times as long as filling
    # the FTS5 tables afterwards, as migrations 0001, 0012 and 0015 fill theirs.
    cjk_rows = _migration("0012_cjk_rows")
    titles = _migration("0015_title_words")
    triggers = {
        "articles_fts": _migration("0001_initial").SQLITE_FTS[1],
        "articles_fts_trigram": cjk_rows.SQLITE_TRIGGERS[0],
        titles.TITLE_TABLE: titles.SQLITE_TITLES[1],
    }
    fills = {
        "articles_fts": ["INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')"],
        "articles_fts_trigram": cjk_rows.SQLITE_REFILL,
        titles.TITLE_TABLE: [titles.SQLITE_TITLES[-1]],
    }
    for table in triggers:
        conn.execute(f"DROP TRIGGER {table}_insert")
    fixed = {"sources": (SOURCE_COLUMNS, corpus.sources), "tags": (TAGROW_COLUMNS, corpus.tags)}
    for table, (names, rows) in fixed.items():
        conn.executemany(_insert(table, names), rows)
    for chunk in History(corpus, size, SQLITE).chunks():
        conn.execute("BEGIN")
        for table, rows in chunk.items():
            conn.executemany(_insert(table, COLUMNS[table]), rows)
        conn.execute("COMMIT")
    for table, trigger in triggers.items():
        for statement in fills[table]:
            conn.execute(statement)
        conn.execute(trigger)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    part.rename(path)
    return time.perf_counter() - start


def upgrade(url: str) -> None:
    """Migrate ``url`` to the current schema, one database at a time."""
    with _ALEMBIC:
        db.upgrade(url)


def _insert(table: str, columns: list[str]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def _migration(name: str) -> ModuleType:
    """A migration script as a module, for the statements it runs."""
    with _ALEMBIC:
        return _module(name)


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"migration_{name}", MIGRATIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def libpq(url: str) -> str:
    """``url`` as psycopg takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load_postgres(url: str, corpus: Corpus, size: int, marker: str) -> float:
    """Write ``size`` generated articles to the empty database ``url``; the seconds taken.
    ``marker`` becomes the database's comment once everything is in."""
    start = time.perf_counter()
    upgrade(url)
    search_index = _migration("0001_initial").POSTGRES_FTS[1]
    trigram = _migration("0012_cjk_rows")
    titles = _migration("0013_cjk_titles")
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        # Setup only, this session only: no foreign-key triggers (the rows are consistent by
        # construction), and room to build the GIN indexes in memory.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '1GB'")
        has_trigram = conn.execute(
            "SELECT 1 FROM pg_indexes WHERE indexname = %s", (trigram.POSTGRES_INDEX,)
        ).fetchone()
        conn.execute("DROP INDEX ix_articles_search_vector")
        conn.execute(f"DROP INDEX IF EXISTS {trigram.POSTGRES_INDEX}")
        conn.execute(f"DROP INDEX IF EXISTS {titles.TITLE_INDEX}")
        fixed = {"sources": (SOURCE_COLUMNS, corpus.sources), "tags": (TAGROW_COLUMNS, corpus.tags)}
        _copy(conn, {table: rows for table, (_, rows) in fixed.items()})
        for chunk in History(corpus, size, POSTGRES).chunks():
            _copy(conn, chunk)
        conn.execute(search_index)
        if has_trigram:
            conn.execute(trigram.POSTGRES_PARTIAL)
            conn.execute(titles.POSTGRES_TITLES)
        for table in ("articles", "stories"):
            conn.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), {})").format(
                    sql.Literal(table), sql.Literal(size)
                )
            )
        conn.execute("VACUUM (ANALYZE)")
        name = sql.Identifier(conn.info.dbname)
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(name, sql.Literal(marker)))
    return time.perf_counter() - start


def _copy(conn: psycopg.Connection[Any], rows: Rows) -> None:
    """``COPY`` each table's rows, in one transaction."""
    with conn.transaction(), conn.cursor() as cursor:
        for table, found in rows.items():
            names = sql.SQL(", ").join(map(sql.Identifier, COLUMNS[table]))
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
            with cursor.copy(statement) as copy:
                for row in found:
                    copy.write_row(row)


if __name__ == "__main__":
    print("search_data.py generates the articles of bench/search.py; run that instead.")
