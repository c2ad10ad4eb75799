"""Aho-Corasick libraries compared on the tagger's own patterns and the tagging bench corpus.

Each library walks the same folded articles for every pattern the matcher uses (terms, sentence
ends, double spaces), reporting every overlapping match: the figure is the walk alone, before
any rule the matcher applies. Both must find the same number of matches. Usage:
``python bench/automata.py [--articles 3000] [--repeat 3]``. Skipped, as ``bench/tagging.py`` is,
without the seed articles its corpus is drawn from.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and a file here could shadow a package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import importlib.util
import time
from collections.abc import Callable

import ahocorasick
import ahocorasick_rs

from pipeline.tag import Tagger
from pipeline.tag.matcher import Matcher
from pipeline.tag.text import Folded

REPO = Path(__file__).resolve().parents[1]
# Timed passes per library; the fastest is reported (see bench/tagging.py).
REPEAT = 3

# Letters by frequency in English news, for the root of pyahocorasick's trie.
_BY_FREQUENCY = " etaoinsrhldcumfpgwybvk,.-’x0j12q:9z5;()348'76\"/\n!?“”$%&+_"

Walk = Callable[[str], int]


def _tagging_bench() -> object:
    """bench/tagging.py as a module, for its corpus."""
    spec = importlib.util.spec_from_file_location("tagging_bench", REPO / "bench" / "tagging.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _pyahocorasick(patterns: list[str], *, by_frequency: bool = False) -> Walk:
    automaton = ahocorasick.Automaton()
    # pyahocorasick finds a child by a linear search in the order children were added: added
    # first, the most frequent letters are found at once. Placeholders (an upper-case second
    # character, never in folded text) give the root its children in that order.
    placeholders = [char + "A" for char in _BY_FREQUENCY] if by_frequency else []
    for placeholder in placeholders:
        automaton.add_word(placeholder, -1)
    for number, pattern in enumerate(patterns):
        automaton.add_word(pattern, number)
    for placeholder in placeholders:
        automaton.remove_word(placeholder)
    automaton.make_automaton()
    return lambda text: sum(1 for _ in automaton.iter(text))


def _ahocorasick_rs(patterns: list[str], implementation: object) -> Walk:
    automaton = ahocorasick_rs.AhoCorasick(
        patterns, matchkind=ahocorasick_rs.MatchKind.Standard, implementation=implementation
    )
    find = automaton.find_matches_as_indexes
    return lambda text: len(find(text, overlapping=True))


def main() -> None:
    """Fold the corpus once, then time each library's walk over it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=REPEAT, help="timed passes per library")
    args = parser.parse_args()
    tagging = _tagging_bench()
    tagging.skip_without_seeds()  # type: ignore[attr-defined]

    tagger = Tagger.from_path(REPO / "taxonomy.toml")
    patterns = Matcher(list(tagger.nodes)).patterns
    articles = tagging.make_articles(tagger, args.articles)  # type: ignore[attr-defined]
    texts = [Folded(f"{title}\n\n{text}").folded for title, text in articles]
    walks: dict[str, Walk] = {
        "pyahocorasick": _pyahocorasick(patterns),
        "pyahocorasick, letters by frequency": _pyahocorasick(patterns, by_frequency=True),
    }
    for implementation in ("NoncontiguousNFA", "ContiguousNFA", "DFA"):
        chosen = getattr(ahocorasick_rs.Implementation, implementation)
        walks[f"ahocorasick_rs {implementation}"] = _ahocorasick_rs(patterns, chosen)

    size = sum(map(len, texts)) / len(texts)
    print(f"{len(patterns)} patterns; {len(texts)} articles of {size:,.0f} characters")
    counts: set[int] = set()
    for name, walk in walks.items():
        best = float("inf")
        for _ in range(max(1, args.repeat)):
            # New strings each pass, as the tagger's are: ahocorasick_rs reads a str as UTF-8,
            # which CPython computes on first use and then keeps with the string.
            fresh = [text[:1] + text[1:] for text in texts]
            cpu = time.process_time()
            found = sum(map(walk, fresh))
            best = min(best, time.process_time() - cpu)
        counts.add(found)
        per_article = best / len(texts) * 1e6
        print(
            f"  {name:36s} {per_article:6.1f} µs per article, {found / len(texts):.1f} matches each"
        )
    if len(counts) > 1:
        raise SystemExit("the libraries found different numbers of matches")


if __name__ == "__main__":
    main()
