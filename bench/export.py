"""``newswatch export`` at scale: rows per second and memory for CSV, JSON Lines and Parquet.

Bulk-loads ``--rows`` generated articles (each with a few tags, an English or Chinese title and
a body of a few hundred characters) into a fresh SQLite file, and into a fresh Postgres database
with ``--postgres URL``, then exports them in every format, with and without ``--text``, each
export in a process of its own so the figures are its own: rows per second (the fastest of
``--repeat`` runs), the resident set before the export (imports, engine) and how far it rose
during it (sampled; Arrow's buffers included), and with ``--trace`` the peak of Python's own
allocations (tracemalloc, in a slower extra run). Flat memory shows as the same rise at 100k and
1M rows. Usage: ``python bench/export.py [--rows 100000] [--postgres URL]
[--formats csv,jsonl,parquet] [--repeat 2] [--trace]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/pipeline.py would shadow the
# ``pipeline`` package measured here.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import random
import secrets
import subprocess
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pipeline.export import export_file
from pipeline.store import db
from pipeline.store.export_reads import export_rows
from pipeline.store.schema import Article, ArticleTag, SourceRow, TagRow

DEFAULT_ROWS = 100_000
# Rows per INSERT batch while loading: large enough to be quick, small enough to stay light.
LOAD_BATCH = 10_000
# Fixed, so two runs load the same articles.
RANDOM_SEED = 20251204
SOURCES = 20
ENTITIES = 300
TOPICS = 40
TAGS_PER_ARTICLE = (1, 6)
BODY_WORDS = (40, 80)
# About one article in six is a Chinese release, as from the regulators' Chinese feeds.
CHINESE_SHARE = 1 / 6
FIRST_DAY = datetime(2017, 1, 2, tzinfo=UTC)
# How often the resident set is read during an export: often enough to catch a row group
# being built (tens of ms), rarely enough to cost nothing.
RSS_SAMPLE_SECONDS = 0.005
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
WORDS = [
    "bank",
    "stablecoin",
    "licence",
    "virtual",
    "asset",
    "custody",
    "payment",
    "wallet",
    "regulator",
    "circular",
    "consultation",
    "tokenised",
    "deposit",
    "fintech",
    "sandbox",
    "guidance",
    "insurance",
    "broker",
    "exchange",
    "settlement",
    "clearing",
    "market",
    "conduct",
    "capital",
    "fund",
    "manager",
    "cyber",
    "fraud",
    "scam",
    "alert",
]
HANZI = "金融管理局證券及期貨事務監察委員會穩定幣發牌虛擬資產銀行支付數碼港監管沙盒"


def tag_rows() -> list[dict[str, Any]]:
    """The generated taxonomy: entities and topics with readable names."""
    rows = [
        {"id": f"entity-{n}", "name": f"Entity {n}", "kind": "entity", "type": "company"}
        for n in range(ENTITIES)
    ]
    rows += [
        {"id": f"topic-{n}", "name": f"Topic {n}", "kind": "topic", "type": "topic"}
        for n in range(TOPICS)
    ]
    return [{**row, "parent_id": None, "regulator": False} for row in rows]


def article_rows(
    rng: random.Random, start: int, count: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` articles from id ``start`` on, and their tag links."""
    articles: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for ident in range(start, start + count):
        chinese = rng.random() < CHINESE_SHARE
        if chinese:
            title = "".join(rng.choices(HANZI, k=16))
            body = "".join(rng.choices(HANZI, k=rng.randint(*BODY_WORDS) * 3))
        else:
            title = " ".join(rng.choices(WORDS, k=8)).capitalize()
            body = " ".join(rng.choices(WORDS, k=rng.randint(*BODY_WORDS)))
        published = FIRST_DAY + timedelta(minutes=5 * ident)
        articles.append(
            {
                "id": ident,
                "item_key": f"bench:{ident}",
                "source_id": f"source-{ident % SOURCES}",
                "url": f"https://news.example/{ident}",
                "canonical_url": f"https://news.example/{ident}" if ident % 3 else None,
                "title": title,
                "text": body,
                "lang": "zh-Hant" if chinese else "en",
                "doc_type": "news",
                "regulator": ident % SOURCES == 0,
                "published_at": published if ident % 50 else None,
                "first_seen_at": published + timedelta(hours=1),
                "story_id": ident,
            }
        )
        picked = rng.sample(range(ENTITIES + TOPICS), rng.randint(*TAGS_PER_ARTICLE))
        links += [
            {
                "article_id": ident,
                "tag_id": f"entity-{n}" if n < ENTITIES else f"topic-{n - ENTITIES}",
                "count": rng.randint(1, 5),
            }
            for n in picked
        ]
    return articles, links


def load(url: str, rows: int) -> float:
    """Migrate ``url`` and load ``rows`` generated articles; the seconds it took."""
    start = time.perf_counter()
    db.upgrade(url)
    rng = random.Random(RANDOM_SEED)
    engine = db.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            session.execute(
                insert(SourceRow),
                [
                    {"id": f"source-{n}", "name": f"Outlet {n}", "kind": "rss", "lang": "en"}
                    | {"regulator": n == 0, "doc_type": "news", "enabled": True, "urls": []}
                    for n in range(SOURCES)
                ],
            )
            session.execute(insert(TagRow), tag_rows())
        for first in range(1, rows + 1, LOAD_BATCH):
            articles, links = article_rows(rng, first, min(LOAD_BATCH, rows + 1 - first))
            with Session(engine) as session, session.begin():
                session.execute(insert(Article), articles)
                session.execute(insert(ArticleTag), links)
    finally:
        engine.dispose()
    return time.perf_counter() - start


def current_rss() -> int:
    """This process's resident set now, in bytes (Linux: /proc/self/statm)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE_BYTES


class RssPeak:
    """The highest resident set seen while the block runs, sampled from a thread: the
    process's lifetime peak (ru_maxrss) would also count what imports once took."""

    def __init__(self) -> None:
        self.peak = current_rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(RSS_SAMPLE_SECONDS):
            self.peak = max(self.peak, current_rss())

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss())


def child(url: str, fmt: str, out: Path, with_text: bool, trace: bool) -> dict[str, Any]:
    """One export in this process: seconds, rows, RSS before and at its peak, and (with
    ``trace``) the tracemalloc peak."""
    import pyarrow  # noqa: F401 - imported before the baseline, as the export would import it

    engine = db.make_engine(url)
    with engine.connect():
        pass
    before = current_rss()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        with RssPeak() as rss, Session(engine) as session:
            rows = export_rows(session, with_text=with_text)
            count = export_file(rows, out, fmt, with_text=with_text)
    finally:
        engine.dispose()
    seconds = time.perf_counter() - start
    return {
        "rows": count,
        "seconds": seconds,
        "rss_mb": before / 2**20,
        "rss_rise_mb": (rss.peak - before) / 2**20,
        "traced_mb": tracemalloc.get_traced_memory()[1] / 2**20 if trace else None,
        "bytes": out.stat().st_size,
    }


def measure(url: str, fmt: str, folder: Path, with_text: bool, trace: bool) -> dict[str, Any]:
    """Run one export in a new process and read its figures."""
    out = folder / f"export-{secrets.token_hex(3)}.{fmt}"
    argv = [sys.executable, __file__, "--child", url, "--format", fmt, "--out", str(out)]
    argv += ["--text"] * with_text + ["--trace"] * trace
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"export {fmt} failed:\n{done.stderr}")
    out.unlink(missing_ok=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@contextmanager
def database(backend: str, server: str | None) -> Iterator[str]:
    """A fresh database for ``backend``, deleted (or dropped) afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="newswatch-export-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'export.db'}"
        return
    assert server is not None
    name = f"newswatch_export_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def run_backend(backend: str, args: argparse.Namespace) -> None:
    """Load the articles into one backend and print a line per export."""
    with database(backend, args.postgres) as url, tempfile.TemporaryDirectory() as tmp:
        seconds = load(url, args.rows)
        print(f"== {backend}: {args.rows:,} articles loaded in {seconds:.1f} s", flush=True)
        print(
            f"{'format':<14} {'rows':>10} {'seconds':>8} {'rows/s':>9} {'MB out':>8}"
            f" {'RSS MB':>7} {'rise MB':>8}" + (f" {'traced MB':>10}" if args.trace else "")
        )
        for fmt in args.formats.split(","):
            for with_text in (False, True):
                runs = [measure(url, fmt, Path(tmp), with_text, False) for _ in range(args.repeat)]
                best = min(runs, key=lambda run: run["seconds"])
                rise = max(run["rss_rise_mb"] for run in runs)
                label = fmt + (" --text" if with_text else "")
                line = (
                    f"{label:<14} {best['rows']:>10,} {best['seconds']:8.2f}"
                    f" {best['rows'] / best['seconds']:9,.0f} {best['bytes'] / 2**20:8.1f}"
                    f" {best['rss_mb']:7.0f} {rise:8.1f}"
                )
                if args.trace:
                    traced = measure(url, fmt, Path(tmp), with_text, True)
                    line += f" {traced['traced_mb']:10.1f}"
                print(line, flush=True)


def main() -> None:
    """Parse arguments; load and measure, or (``--child``) run one export and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--postgres", help="server URL; a database is made and dropped on it")
    parser.add_argument("--formats", default="csv,jsonl,parquet")
    # Exports timed per format, the fastest reported: other work on the machine only slows.
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--trace", action="store_true", help="add the tracemalloc peak (a slower, third run)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--text", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.format, args.out, args.text, args.trace)))
        return
    for backend in ["sqlite"] + (["postgres"] if args.postgres else []):
        run_backend(backend, args)


if __name__ == "__main__":
    main()
