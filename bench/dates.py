"""Publication dates: newswatch against htmldate on the same real pages, in the same run.

Reads the htmldate evaluation set under ``../shared/eval/dates-htmldate`` (``eval_default.json``
maps each URL to its gzipped page under ``html/`` and the hand-checked original publication day;
``NEWSWATCH_SHARED_DIR`` names another shared folder; without it the benchmark says it is
skipped), decompresses every page into memory once, then runs each tool over all of them and
prints, side by side:

- accuracy: the share of pages whose found day is the true day. newswatch's day is
  ``published_at.date()`` on the aware datetime ``extract_article`` returns, in the offset it
  carries (a page's "23:30-05:00" stays on its own day; the store converts to UTC only later);
  a page with no date found, or one that fails to extract, is a miss;
- pages/s per CPU-second of this process (``time.process_time``), the tools taking turns pass by
  pass, garbage collected before each pass and not during it, and newswatch's verdicts on class
  and id names emptied before each of its passes, as in ``bench/extraction.py``.

newswatch runs twice: ``extract_article`` (the whole article: title, body, language and the
date) and ``find_published`` (the date alone, as htmldate finds it); the two must find the same
day on every page, and the benchmark says where they do not. A third timing, "reading", is what
every newswatch stage pays before it looks for anything: the markup's budget check, its
decoding and lexbor's parse; the speed ratio it prints is a ceiling for the date alone.

htmldate runs as its authors score it: ``find_date(html, url=url, extensive_search=True,
original_date=True)``, timed as a long-running process meets pages it has not read
(``unseen_pass``): each half of the pages (alternate pages) in a process forked for it, after an
untimed pass over the other half and with htmldate's caches emptied. Timed in this process, its
first pass would pay the loading of dateparser's data for each language it meets (about twice
the time per page: 9.4 against 4.1-5.0 ms on this set), and a pass over pages it had read, even
with its caches emptied, is a fifth faster than one over pages it had not.
Neither tool is given a fetch time: the pages were crawled years ago, so
"now" refuses only dates that are in the future for everyone.

Usage: ``python bench/dates.py [--limit N] [--misses 30] [--repeat 1] [--only-newswatch]``;
``--misses`` lists newswatch's misses (found day against the true day).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and a file here could shadow a package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import gc
import gzip
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from selectolax.lexbor import LexborHTMLParser

from pipeline.errors import ExtractError
from pipeline.extract import boilerplate, extract_article, find_published, page_text
from pipeline.extract.budget import check_budget
from pipeline.extract.decode import parser_input

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")
DATES_SET = SHARED / "eval" / "dates-htmldate"
# The timing of the markup's reading alone, which finds no date.
READING = "reading"
# Tools timed on pages they have not read, in forked processes (``unseen_pass``).
UNSEEN = frozenset({"htmldate"})

PageT = TypeVar("PageT")
OutT = TypeVar("OutT")


@dataclass(frozen=True, slots=True)
class DatedPage:
    """One page of the set: its URL, file name, true day and decompressed HTML."""

    url: str
    file: str
    truth: date
    html: bytes


@dataclass(frozen=True, slots=True)
class Run:
    """One tool over every page: the day it found for each and its best pass's CPU time."""

    name: str
    found: list[date | None]
    cpu_seconds: float


def load_pages(folder: Path, limit: int | None = None) -> list[DatedPage]:
    """Every page of ``eval_default.json`` with its HTML decompressed into memory."""
    truth = json.loads((folder / "eval_default.json").read_text(encoding="utf-8"))
    items = sorted(truth.items())
    if limit:
        items = items[:limit]
    return [
        DatedPage(
            url,
            str(row["file"]),
            date.fromisoformat(str(row["date"])),
            gzip.decompress((folder / "html" / f"{row['file']}.gz").read_bytes()),
        )
        for url, row in items
    ]


def run_newswatch(page: DatedPage) -> date | None:
    """The calendar day of ``published_at`` in the offset it carries, as extracted."""
    try:
        article = extract_article(page.html, page.url)
    except ExtractError:
        return None
    return article.published_at.date() if article.published_at else None


def run_newswatch_date(page: DatedPage) -> date | None:
    """The same day found by ``find_published``, which reads the date alone."""
    try:
        published = find_published(page.html, page.url)
    except ExtractError:
        return None
    return published.date() if published else None


def run_reading(page: DatedPage) -> date | None:
    """The markup read as every newswatch stage reads it first (budget, decoding, parse)."""
    check_budget(page.html, page.url)
    LexborHTMLParser(parser_input(page.html), scripting=True)
    return None


def run_htmldate(page: DatedPage) -> date | None:
    """htmldate as its own evaluation runs it: extensive search, original date."""
    from htmldate import find_date

    try:
        found = find_date(page.html, url=page.url, extensive_search=True, original_date=True)
    except Exception:  # a slip of the third-party tool on one page is a miss, not a crash
        return None
    try:
        return date.fromisoformat(found) if found else None
    except ValueError:
        return None


def reset_newswatch_caches() -> None:
    """Empty the verdicts newswatch keeps on class and id names, so that each timed pass meets
    the names as cold as the first pages of a run do, not as the pass before left them."""
    boilerplate.furniture_verdict.cache_clear()
    page_text._role.cache_clear()


@dataclass(frozen=True, slots=True)
class UnseenPass:
    """A tool over pages it had not read, in processes warmed on other pages: the day found on
    each page, each page's CPU time (s), and the wall-clock time of the timed passes."""

    found: list[date | None]
    cpu: list[float]
    wall_seconds: float


# The pages a forked process reads: set before the fork and inherited, never pickled.
_FORK_PAGES: list[DatedPage] = []


def unseen_pass(tool: Callable[[DatedPage], date | None], pages: list[DatedPage]) -> UnseenPass:
    """``tool`` (htmldate) over every page as a long-running process meets pages it has not
    read: each half of the pages (alternate pages, so both hold every site's and language's
    share) in a process forked for it, warmed by an untimed pass over the other half, with
    htmldate's caches emptied before the timing. The forks start from this process, which must
    not have run the tool: they would inherit what it kept."""
    global _FORK_PAGES
    _FORK_PAGES = pages
    found: list[date | None] = [None] * len(pages)
    cpu = [0.0] * len(pages)
    wall = 0.0
    every = range(len(pages))
    halves = (list(every[0::2]), list(every[1::2]))
    context = multiprocessing.get_context("fork")
    for timed_half, warm_half in (halves, halves[::-1]):
        if not timed_half:
            continue
        with context.Pool(1) as pool:
            days, seconds, elapsed = pool.apply(_warmed_pass, (tool, warm_half, timed_half))
        for index, day, spent in zip(timed_half, days, seconds, strict=True):
            found[index], cpu[index] = day, spent
        wall += elapsed
    return UnseenPass(found, cpu, wall)


def _warmed_pass(
    tool: Callable[[DatedPage], date | None], warm: list[int], timed: list[int]
) -> tuple[list[date | None], list[float], float]:
    """In a forked process: ``tool`` over the ``warm`` pages untimed, htmldate's caches emptied,
    then the ``timed`` pages, each one's CPU time taken on its own."""
    from htmldate.meta import reset_caches

    for index in warm:
        tool(_FORK_PAGES[index])
    reset_caches()
    gc.collect()
    gc.disable()
    return each_page_timed(tool, [_FORK_PAGES[index] for index in timed])


def each_page_timed(
    tool: Callable[[PageT], OutT], pages: list[PageT]
) -> tuple[list[OutT], list[float], float]:
    """``tool`` over ``pages``: its outputs, each page's CPU time (s) taken on its own, and the
    pass's wall-clock time."""
    outputs: list[OutT] = []
    seconds: list[float] = []
    wall = time.perf_counter()
    for page in pages:
        start = time.process_time()
        outputs.append(tool(page))
        seconds.append(time.process_time() - start)
    return outputs, seconds, time.perf_counter() - wall


def timed(
    tools: dict[str, Callable[[DatedPage], date | None]], pages: list[DatedPage], repeat: int
) -> list[Run]:
    """Each tool over ``pages`` ``repeat`` times, taking turns; each tool's fastest pass counts.
    htmldate's passes are ``unseen_pass``es: this process never runs it."""
    for name, tool in tools.items():
        if name not in UNSEEN:
            tool(pages[0])  # imports and caches warmed outside the timing
    best = dict.fromkeys(tools, float("inf"))
    found: dict[str, list[date | None]] = {}
    for _ in range(repeat):
        for name, tool in tools.items():
            if name in UNSEEN:
                unseen = unseen_pass(tool, pages)
                found[name] = unseen.found
                best[name] = min(best[name], sum(unseen.cpu))
                continue
            reset_newswatch_caches()
            gc.collect()
            gc.disable()
            try:
                start = time.process_time()
                found[name] = [tool(page) for page in pages]
                best[name] = min(best[name], time.process_time() - start)
            finally:
                gc.enable()
    return [Run(name, found[name], best[name]) for name in tools]


def accuracy(run: Run, pages: list[DatedPage]) -> float:
    """The share of pages whose found day is the true day."""
    right = sum(day == page.truth for day, page in zip(run.found, pages, strict=True))
    return right / len(pages)


def print_table(pages: list[DatedPage], runs: list[Run]) -> None:
    """Accuracy and speed of each tool, and the speed ratio of the first to the second."""
    print(f"{len(pages)} pages from {DATES_SET}")
    print(f"{'':20}" + "".join(f"{run.name:>12}" for run in runs))
    dated = [run for run in runs if run.name != READING]
    same = {run.name: accuracy(run, pages) for run in dated}
    found = {run.name: sum(day is not None for day in run.found) / len(pages) for run in dated}
    for label, shares in (("same day", same), ("some date found", found)):
        cells = [f"{shares[run.name]:.1%}" if run.name in shares else "-" for run in runs]
        print(f"{label:20}" + "".join(f"{cell:>12}" for cell in cells))
    speeds = [len(pages) / run.cpu_seconds for run in runs]
    print(f"{'pages/s (CPU)':20}" + "".join(f"{speed:>12.1f}" for speed in speeds))
    peer = next((run for run in runs if run.name == "htmldate"), None)
    for run in runs:
        if peer is not None and run is not peer:
            ratio = len(pages) / run.cpu_seconds / (len(pages) / peer.cpu_seconds)
            print(f"speed ratio {run.name}/{peer.name}: {ratio:.1f}x per CPU-s")
    whole, alone = runs[0], next((run for run in runs if run.name == "date alone"), None)
    if alone is not None:
        differ = sum(a != b for a, b in zip(whole.found, alone.found, strict=True))
        print(f"pages where the date alone differs from the whole extraction's: {differ}")


def print_misses(pages: list[DatedPage], run: Run, count: int) -> None:
    """Up to ``count`` pages where ``run`` found no date or another day than the truth."""
    misses = [(day, page) for day, page in zip(run.found, pages, strict=True) if day != page.truth]
    print(f"\n{len(misses)} misses of {run.name} (first {min(count, len(misses))}):")
    for day, page in misses[:count]:
        print(f"  found {day or 'none'!s:10}  truth {page.truth}  {page.file}  {page.url}")


def main() -> None:
    """Parse arguments, run both tools and print the comparison and the misses."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--misses", type=int, default=30, help="list N of newswatch's misses")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes; the fastest counts")
    parser.add_argument("--only-newswatch", action="store_true", help="skip htmldate")
    args = parser.parse_args()
    if not (DATES_SET / "eval_default.json").is_file():
        # A clone of the repository alone has no shared folder: `make bench` goes on.
        print(f"skipped: {DATES_SET} not found (the htmldate evaluation pages and their dates)")
        raise SystemExit(0)
    # Both tools log about odd pages; the figures are what this script is for.
    logging.disable(logging.WARNING)
    pages = load_pages(DATES_SET, args.limit)
    tools: dict[str, Callable[[DatedPage], date | None]] = {
        "newswatch": run_newswatch,
        "date alone": run_newswatch_date,
        READING: run_reading,
    }
    if not args.only_newswatch:
        tools["htmldate"] = run_htmldate
    runs = timed(tools, pages, args.repeat)
    print_table(pages, runs)
    if args.misses:
        print_misses(pages, runs[0], args.misses)


if __name__ == "__main__":
    main()
