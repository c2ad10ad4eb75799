"""End-to-end pipeline benchmark: N articles across 20 sources, replayed, into a fresh SQLite file.

Prints articles/s for the whole run and the seconds spent per stage (discover, fetch, extract,
tag, fingerprint, dedupe, stories, store); stories are on, as in every run. "fingerprint" holds
the content hash and the story fingerprint; "store" is what the batch's transaction spends
besides deduping and placing stories (its writes, alerts and commit).
Usage: ``python bench/pipeline.py [--articles 5000] [--sources 20] [--corpus seeds|news]``.

Two corpora. ``seeds`` (the default, the figure compared across versions): every article is 12
of the 30 sentences of the two seed articles under one of 30 titles, so each article repeats
much of every other and shares its title with one in 30: a stress test of story grouping,
where every article has the most candidates the index lets through. ``news``: bodies of 12
sentences drawn from the English pages of ``../shared/eval/pages`` (thousands of sentences),
titles of words drawn from their titles, so articles overlap as a day of news does.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and this file's name would shadow the
# ``pipeline`` package it measures.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import json
import os
import random
import re
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from pipeline.alerts.config import AlertsConfig, load_alerts
from pipeline.fetch import Fetcher, ReplayTransport, build_client, write_exchange
from pipeline.ingest import StageClock, run_ingest
from pipeline.models import Selectors, Source
from pipeline.store import db
from pipeline.tag import Tagger

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")
SEEDS = SHARED / "seeds"
# Fixed so two runs of the benchmark time the same corpus.
RANDOM_SEED = 20251103
STORE = "store"
# The evaluation pages' folders whose pages are in English (the news corpus is built from them).
ENGLISH_COUNTRIES = frozenset({"us", "uk", "au", "ca", "za", "ie", "nz", "in", "sg", "ng"})
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
STAGES = ("discover", "fetch", "extract", "tag", "fingerprint", "dedupe", "stories", STORE)
# Stages timed inside "process"; the store's own writes are what remains of it.
INNER_STAGES = ("extract", "tag", "fingerprint", "dedupe", "stories")


def _seed_sentences() -> list[str]:
    sentences: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) > 60 and not line.startswith(("Featured image", "Comentarios")):
                sentences.append(line)
    if not sentences:
        raise SystemExit(f"no seed articles found under {SEEDS}")
    return sentences


def _news_sentences() -> tuple[list[str], list[str]]:
    """Sentences of the English evaluation pages' bodies, and the words of their titles."""
    index = SHARED / "eval" / "pages" / "index.jsonl"
    if not index.is_file():
        raise SystemExit(f"no evaluation pages at {index} (the news corpus is built from them)")
    sentences: list[str] = []
    words: set[str] = set()
    for line in index.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["country"] not in ENGLISH_COUNTRIES:
            continue
        body = row.get("body_text") or ""
        sentences.extend(s for s in SENTENCE_END.split(body) if 60 < len(s) < 400)
        words.update(w for w in (row.get("title") or "").split() if len(w) > 3 and w.isalpha())
    return sentences, sorted(words)


def _article_html(title: str, paragraphs: Sequence[str], published: datetime, url: str) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title><link rel="canonical" href="{url}">
<meta property="article:published_time" content="{published.isoformat()}">
</head><body><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About</a></nav>
<main><article><h1 class="headline">{escape(title)}</h1>
<time class="published" datetime="{published.isoformat()}">{published:%d %b %Y}</time>
<div class="story">{body}
<div class="share">Share this article: Facebook Twitter LinkedIn</div></div></article>
<aside class="related"><h3>Related articles</h3>
<ul><li><a href="/x">Other story</a></li></ul></aside></main>
<footer>© Bench News. All rights reserved. <a href="/privacy">Privacy</a></footer>
</body></html>"""


def _feed_xml(host: str, items: Sequence[tuple[str, str, datetime]]) -> str:
    entries = "\n".join(
        f"<item><title>{escape(t)}</title><link>{u}</link><guid>{u}</guid>"
        f"<pubDate>{format_datetime(d)}</pubDate></item>"
        for t, u, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{host}</title><link>https://{host}/</link><description>bench</description>"
        f"{entries}</channel></rss>"
    )


def build_corpus(
    root: Path, articles: int, source_count: int, corpus: str = "seeds"
) -> list[Source]:
    """Write a replay corpus of ``articles`` pages across ``source_count`` RSS sources."""
    rng = random.Random(RANDOM_SEED)
    if corpus == "news":
        sentences, title_words = _news_sentences()
    else:
        sentences, title_words = _seed_sentences(), []
    start = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
    sources: list[Source] = []
    per_source = [
        articles // source_count + (1 if i < articles % source_count else 0)
        for i in range(source_count)
    ]
    serial = 0
    for index, count in enumerate(per_source):
        host = f"news{index:02d}.bench.example"
        feed_url = f"https://{host}/feed.xml"
        items: list[tuple[str, str, datetime]] = []
        for _ in range(count):
            serial += 1
            url = f"https://{host}/2025/11/story-{serial}"
            if title_words:
                title = f"Story {serial}: " + " ".join(rng.sample(title_words, rng.randint(5, 9)))
            else:
                title = f"Story {serial}: " + rng.choice(sentences)[:70]
            published = start - timedelta(minutes=7 * serial)
            paragraphs = rng.sample(sentences, k=min(12, len(sentences)))
            paragraphs.append(f"Reference number {serial} closes this bench article.")
            write_exchange(
                root, url, _article_html(title, paragraphs, published, url), note="bench"
            )
            items.append((title, url, published))
        write_exchange(
            root,
            feed_url,
            _feed_xml(host, items),
            headers={"content-type": "application/rss+xml; charset=utf-8"},
            note="bench",
        )
        sources.append(
            Source(
                id=f"bench-{index:02d}",
                name=f"Bench source {index}",
                kind="rss",
                urls=(feed_url,),
                selectors=Selectors(
                    title="h1.headline",
                    body="div.story",
                    published="time.published",
                    remove=(".share",),
                ),
            )
        )
    return sources


async def run(articles: int, source_count: int, corpus: str = "seeds") -> None:
    """Build the corpus, run one ingestion, print the figures."""
    with tempfile.TemporaryDirectory(prefix="newswatch-bench-") as tmp:
        tmpdir = Path(tmp)
        t0 = time.perf_counter()
        sources = build_corpus(tmpdir / "http", articles, source_count, corpus)
        print(
            f"corpus {corpus}: {articles} articles across {source_count} sources "
            f"({time.perf_counter() - t0:.1f} s to write)"
        )
        url = f"sqlite:///{tmpdir / 'bench.db'}"
        db.upgrade(url)
        engine = db.make_engine(url)
        tagger = Tagger.from_path(REPO / "taxonomy.toml")
        alerts: AlertsConfig = load_alerts(
            REPO / "alerts.toml", sources=sources, taxonomy=tagger.taxonomy
        )
        clock = StageClock()
        transport = ReplayTransport(tmpdir / "http")
        started = time.perf_counter()
        async with build_client(transport) as client:
            result = await run_ingest(
                engine=engine,
                sources=sources,
                fetcher=Fetcher(client, polite=False),
                tagger=tagger,
                alerts=alerts,
                clock=clock,
            )
        elapsed = time.perf_counter() - started
        engine.dispose()
        new = sum(r.new for r in result.reports.values())
        errors = sum(r.errors for r in result.reports.values())
        seconds = dict(clock.seconds)
        inner = sum(seconds.get(k, 0.0) for k in INNER_STAGES)
        seconds[STORE] = seconds.get("process", 0.0) - inner
        # Copies (near-duplicates) are stored rows too, grouped into their story.
        copies = sum(r.duplicates for r in result.reports.values())
        stored = new + copies
        print(
            f"run: {new} new articles, {copies} copies, {errors} errors,"
            f" status {result.status}"
        )
        print(f"end-to-end: {elapsed:.2f} s, {stored / elapsed:,.0f} articles/s")
        print("seconds per stage (store = process minus the stages timed inside it):")
        for name in STAGES:
            value = seconds.get(name, 0.0)
            print(f"  {name:<44} {value:8.2f}  ({value / elapsed:5.1%} of wall)")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--corpus", choices=("seeds", "news"), default="seeds")
    args = parser.parse_args()
    if not SEEDS.is_dir():
        # A clone on its own has no seed articles; ``make bench`` goes on with the next script.
        print(f"skipped: {SEEDS} not found (the articles are built from the seeds' sentences)")
        return
    asyncio.run(run(args.articles, args.sources, args.corpus))


if __name__ == "__main__":
    main()
