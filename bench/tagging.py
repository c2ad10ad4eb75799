"""Tagging throughput: articles/s with the shipped taxonomy on generated 800-word articles.

Articles are drawn from the vocabulary of the two seed articles, with taxonomy terms (English
names and aliases, and a share of Chinese ones) mixed in at about the rate real coverage shows,
so every stage of the tagger (scan, boundaries, context rules, overlaps, evidence) does work.
Prints articles/s (wall clock) and articles per CPU-second of this process, which is the
per-core figure on a shared machine, for the fastest of ``--repeat`` passes. Usage:
``python bench/tagging.py [--articles 3000] [--repeat 3] [--profile]``.

The seed articles are under ``../shared/seeds`` (``NEWSWATCH_SHARED_DIR`` names another shared
folder), which a clone of the repository alone lacks: the benchmark then says it is skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and a file here could shadow a package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import cProfile
import os
import pstats
import random
import re
import time

from pipeline.tag import Tagger

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")
SEEDS = SHARED / "seeds"
# Fixed so two runs of the benchmark time the same corpus.
RANDOM_SEED = 20251103
WORDS_PER_ARTICLE = 800
# About one taxonomy term in 50 words (16 in an article): a fintech story names a handful of
# bodies and topics several times each. The seeds themselves are denser still (1 in 5).
TERM_RATE = 0.02
# Share of inserted terms that are Chinese names, so the CJK automaton runs as it does on
# bilingual regulator pages.
CJK_TERM_SHARE = 0.1
WORDS_PER_SENTENCE = (8, 30)
# Timed passes over the corpus: on a machine shared with other work one pass can be slowed by
# a neighbour, so the fastest of a few is the figure that reflects the code.
REPEAT = 3
SENTENCES_PER_PARAGRAPH = (2, 6)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)*")


def skip_without_seeds() -> None:
    """Say the benchmark is skipped and exit 0 when the seed articles are absent, so that
    ``make bench`` goes on with the next one."""
    if not SEEDS.is_dir():
        print(f"skipped: {SEEDS} not found (the corpus is drawn from the seed articles' words)")
        raise SystemExit(0)


def _vocabulary(tagger: Tagger) -> list[str]:
    """The seeds' words, less those that are a term on their own ("AI", "blockchain"): how
    often terms occur is then set by ``TERM_RATE`` alone."""
    terms = {t.casefold() for node in tagger.nodes for t in (*node.terms, *node.short_forms)}
    words: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        found = _WORD.findall(path.read_text(encoding="utf-8"))
        words.extend(w for w in found if w.casefold().rstrip("s") not in terms)
    if not words:
        raise SystemExit(f"no seed articles found under {SEEDS}")
    return words


def _terms(tagger: Tagger) -> tuple[list[str], list[str]]:
    latin: list[str] = []
    cjk: list[str] = []
    for node in tagger.nodes:
        for term in (*node.terms, *node.short_forms):
            (latin if term[0].isascii() else cjk).append(term)
    return latin, cjk


def make_articles(tagger: Tagger, count: int) -> list[tuple[str, str]]:
    """``count`` (title, text) pairs of about ``WORDS_PER_ARTICLE`` words each."""
    rng = random.Random(RANDOM_SEED)
    vocabulary = _vocabulary(tagger)
    latin, cjk = _terms(tagger)

    def word() -> str:
        if rng.random() < TERM_RATE:
            return rng.choice(cjk if rng.random() < CJK_TERM_SHARE else latin)
        return rng.choice(vocabulary)

    articles: list[tuple[str, str]] = []
    for _ in range(count):
        title = " ".join(word() for _ in range(10))
        paragraphs: list[str] = []
        written = 0
        while written < WORDS_PER_ARTICLE:
            sentences: list[str] = []
            for _ in range(rng.randint(*SENTENCES_PER_PARAGRAPH)):
                size = rng.randint(*WORDS_PER_SENTENCE)
                written += size
                sentence = " ".join(word() for _ in range(size))
                sentences.append(sentence[0].upper() + sentence[1:] + ".")
            paragraphs.append(" ".join(sentences))
        articles.append((title, "\n\n".join(paragraphs)))
    return articles


def main() -> None:
    """Build the corpus, tag it once to warm up, then time full passes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument(
        "--repeat", type=int, default=REPEAT, help="timed passes; the fastest is reported"
    )
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries")
    args = parser.parse_args()
    skip_without_seeds()

    tagger = Tagger.from_path(REPO / "taxonomy.toml")
    articles = make_articles(tagger, args.articles)
    words = sum(len(text.split()) for _, text in articles) / len(articles)
    for title, text in articles[:50]:
        tagger.tag(text, title=title)

    profiler = cProfile.Profile() if args.profile else None
    passes: list[tuple[float, float]] = []
    for _ in range(1 if profiler else max(1, args.repeat)):
        if profiler:
            profiler.enable()
        wall, cpu = time.perf_counter(), time.process_time()
        tags = sum(len(tagger.tag(text, title=title)) for title, text in articles)
        passes.append((time.perf_counter() - wall, time.process_time() - cpu))
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    wall, cpu = min(passes, key=lambda p: p[1])

    print(f"taxonomy: {len(tagger.nodes)} nodes; corpus: {len(articles)} articles")
    print(f"  {words:.0f} words per article, {tags / len(articles):.1f} tags per article")
    print(f"  fastest of {len(passes)} passes:")
    print(f"  {len(articles) / wall:,.0f} articles/s wall clock ({wall:.2f} s)")
    print(f"  {len(articles) / cpu:,.0f} articles per CPU-second (one core, {cpu:.2f} s)")


if __name__ == "__main__":
    main()
