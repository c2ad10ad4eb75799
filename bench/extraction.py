"""Article extraction: newswatch against its peers on three evaluation sets, in the same run.

Reads each set under the shared folder's ``eval/`` (``NEWSWATCH_SHARED_DIR`` names another
shared folder, ``NEWSWATCH_EVAL_PAGES`` another ``pages`` set; a set that is absent is reported
as skipped, with its path), decompresses every page into memory once, then runs each tool over
all of the set's pages and prints, per set, newswatch and the peer side by side:

- ``pages`` (news pages with body, title and date), against trafilatura: body token F1,
  precision and recall, macro-averaged over pages, a page with no output scoring 0 (tokens are
  lower-cased runs of letters and digits, every Han ideograph and kana a token of its own, the
  same tokeniser for both tools); title exact-match rate after NFKC and whitespace
  normalisation; publication-date accuracy, the same calendar day as the ground truth read in
  its own UTC offset (trafilatura reports a date without a time, compared as it is);
- ``extraction-trafilatura`` (trafilatura's own evaluation pages), against trafilatura: as its
  ``tests/evaluate.py`` scores it, a "with" segment found in the main text is a true positive,
  missed a false negative, a "without" segment found a false positive, absent a true negative;
  precision, recall and F1 over all segments of all pages, both sides whitespace-normalised
  (every run one space) before the substring test. newswatch's text is
  ``extract_article(...).text`` (none when it raises ExtractError);
- ``dates-htmldate`` (htmldate's own evaluation pages), against htmldate run as its authors
  score it (``find_date(html, url=url, extensive_search=True, original_date=True)``): the share
  of pages whose found day is the true one, newswatch's day read in the offset its aware
  datetime carries (``bench/dates.py``'s loader and runners);
- speed per set: pages/s per CPU-second of this process (``time.process_time``, extraction only,
  HTML already in memory, one core) for pages under 50 KB, 50-200 KB and over 200 KB and in all,
  for each tool, and their ratio; pages/s per wall-clock second for reference; the slowest
  newswatch page in ms and how many pages take over 50 ms. The tools take turns pass by pass
  (``--repeat`` passes each, the pass with the least CPU time counting, its pages' times the
  ones shown), garbage collected before each pass and not during it, as ``timeit`` does, so that
  neither pays for the other's garbage. htmldate keeps results between calls and loads
  dateparser's data for each language on first sight, so each of its passes meets the pages
  unread in warm processes, as ``bench/dates.py`` times it (``unseen_pass``: each half of the
  pages in a process forked for it after an untimed pass over the other half); the peers'
  caches of results are emptied before every set (trafilatura calls htmldate).
  newswatch's verdicts on class and id names are emptied before each of its passes, so that no
  pass finds the names of the pages as the pass before left them.

trafilatura runs with its defaults: ``bare_extraction(html, url=url, with_metadata=True)``,
whose ``text`` is the main text (comments are kept apart in ``comments``, and not scored).
The sets' loaders and scorers are in ``bench/extraction_sets.py``.

Usage: ``python bench/extraction.py [--sets pages,extraction-trafilatura,dates-htmldate]
[--repeat 3] [--worst 15] [--limit N] [--only-newswatch]``; ``--limit`` applies to each set;
``--worst`` lists, per set, the pages where newswatch's F1 trails trafilatura's most (pages), the
pages with the most missed "with" and found "without" segments (extraction-trafilatura), and
newswatch's misses, found day against true day (dates-htmldate).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/pipeline.py would shadow the
# ``pipeline`` package measured here.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse
import gc
import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar

import pipeline.extract  # noqa: F401 - imported before this folder joins sys.path (see above)

# The sets sit next to this file; appended last, after ``pipeline`` is imported.
sys.path.append(str(HERE))
import extraction_sets as sets
from extraction_sets import EvalSet, Run, print_row

SETS = ("pages", "extraction-trafilatura", "dates-htmldate")

# Size buckets of the speed table, in bytes of decompressed HTML: most news pages fall in the
# middle one; the ends show whether cost grows with the page.
SMALL_PAGE = 50 * 1024
LARGE_PAGE = 200 * 1024
BUCKETS: tuple[tuple[str, Callable[[int], bool]], ...] = (
    ("< 50 KB", lambda size: size < SMALL_PAGE),
    ("50-200 KB", lambda size: SMALL_PAGE <= size <= LARGE_PAGE),
    ("> 200 KB", lambda size: size > LARGE_PAGE),
)
# The goal for one page: an ingest worker keeps up with a burst of feeds at this per-page cost.
SLOW_PAGE_MS = 50.0

PageT = TypeVar("PageT")
OutT = TypeVar("OutT")


def reset_peer_caches() -> None:
    """Empty the peers' caches of results (trafilatura's and htmldate's, which it calls), so that
    no timed pass reuses what the warm-up or an earlier set found."""
    if "trafilatura" in sys.modules:
        from trafilatura.meta import reset_caches

        reset_caches()  # htmldate's too
    elif "htmldate" in sys.modules:
        from htmldate.meta import reset_caches as reset_htmldate

        reset_htmldate()


def one_pass(name: str, tool: Callable[[PageT], OutT], pages: list[PageT]) -> Run[OutT]:
    """One tool over every page, each page's CPU time taken on its own."""
    return Run(name, *sets.date_set.each_page_timed(tool, pages))


def unseen_run(name: str, tool: Callable[[PageT], OutT], pages: list[PageT]) -> Run[OutT]:
    """One pass of a tool that keeps results between calls (htmldate), each page met unread by
    a warm process: ``bench/dates.py``'s ``unseen_pass``."""
    unseen = sets.date_set.unseen_pass(tool, pages)
    return Run(name, unseen.found, unseen.cpu, unseen.wall_seconds)


def timed(evalset: EvalSet[PageT, OutT], repeat: int) -> list[Run[OutT]]:
    """Each tool over the set ``repeat`` times, the tools taking turns pass by pass so that both
    meet the same load on a shared machine; each tool's pass with the least CPU time counts."""
    for name, tool in evalset.tools.items():
        # Imports and lazy set-up are paid outside the timing; a tool timed on pages it has not
        # read runs only in the processes forked for it, which must not inherit its results.
        if name not in evalset.unseen:
            tool(evalset.pages[0])
    reset_peer_caches()  # the results kept from the warm-up, not the loaded set-up
    best: dict[str, Run[OutT]] = {}
    for _ in range(repeat):
        for name, tool in evalset.tools.items():
            if name in evalset.unseen:
                run = unseen_run(name, tool, evalset.pages)
            else:
                # As timeit does: collect before a pass and not during it, so that neither
                # tool pays for the garbage the other left behind.
                sets.date_set.reset_newswatch_caches()
                gc.collect()
                gc.disable()
                try:
                    run = one_pass(name, tool, evalset.pages)
                finally:
                    gc.enable()
            if name not in best or sum(run.cpu) < sum(best[name].cpu):
                best[name] = run
    return [best[name] for name in evalset.tools]


def rate(count: int, seconds: float) -> str:
    """Pages per second, or a dash when nothing was timed."""
    return f"{count / seconds:.1f}" if count and seconds > 0 else "-"


def speed_cells(runs: Sequence[Run[Any]], chosen: list[int]) -> list[str]:
    """Pages/s per CPU-second of each run over the chosen pages, then newswatch's ratio."""
    seconds = [sum(run.cpu[i] for i in chosen) for run in runs]
    cells = [rate(len(chosen), s) for s in seconds]
    if len(runs) == 2:
        cells.append(f"{seconds[1] / seconds[0]:.1f}x" if chosen and seconds[0] > 0 else "-")
    return cells


def print_speed(evalset: EvalSet[Any, Any], runs: Sequence[Run[Any]]) -> None:
    """Pages/s per size bucket, the ratio, and newswatch's slowest page."""
    sizes = [len(evalset.html(page)) for page in evalset.pages]
    print_row("pages/s per CPU-second", [run.name for run in runs] + ["ratio"] * (len(runs) == 2))
    for label, within in BUCKETS:
        chosen = [i for i, size in enumerate(sizes) if within(size)]
        print_row(f"  {label} ({len(chosen)})", speed_cells(runs, chosen))
    print_row(f"  all ({len(sizes)})", speed_cells(runs, list(range(len(sizes)))))
    print_row("pages/s (wall, all)", [rate(len(sizes), run.wall_seconds) for run in runs])
    ours = runs[0]
    slowest = max(range(len(ours.cpu)), key=ours.cpu.__getitem__)
    over = sum(seconds * 1000 > SLOW_PAGE_MS for seconds in ours.cpu)
    print(
        f"slowest {ours.name} page: {ours.cpu[slowest] * 1000:.1f} ms CPU "
        f"({evalset.label(evalset.pages[slowest])}, {sizes[slowest] // 1024} KB); "
        f"{over} pages over {SLOW_PAGE_MS:.0f} ms"
    )


def run_set(evalset: EvalSet[Any, Any], repeat: int, worst: int) -> None:
    """Time the set's tools, then print its quality rows, speed rows and worst pages."""
    runs = timed(evalset, repeat)
    print(f"\n== {evalset.name}: {len(evalset.pages)} pages from {evalset.folder}")
    print_row("", [run.name for run in runs])
    evalset.report(evalset.pages, runs)
    print_speed(evalset, runs)
    if worst:
        evalset.worst(evalset.pages, runs, worst)


def build(name: str, limit: int | None, only_newswatch: bool) -> EvalSet[Any, Any] | Path:
    """The named set loaded with its tools, or the path it was looked for at when absent."""
    if name == "pages":
        if not (sets.EVAL_PAGES / "index.jsonl").is_file():
            return sets.EVAL_PAGES
        page_tools: dict[str, Callable[[sets.EvalPage], sets.Output]] = {
            "newswatch": sets.run_newswatch
        }
        if not only_newswatch:
            page_tools["trafilatura"] = sets.run_trafilatura
        return EvalSet(
            name,
            sets.EVAL_PAGES,
            sets.load_pages(sets.EVAL_PAGES, limit),
            page_tools,
            report=sets.report_pages,
            worst=sets.worst_pages,
            label=lambda p: str(p.row["file"]),
            html=lambda p: p.html,
        )
    if name == "extraction-trafilatura":
        if not (sets.SEGMENT_SET / "evaldata.json").is_file():
            return sets.SEGMENT_SET
        text_tools: dict[str, Callable[[sets.SegmentPage], str]] = {
            "newswatch": sets.text_newswatch
        }
        if not only_newswatch:
            text_tools["trafilatura"] = sets.text_trafilatura
        return EvalSet(
            name,
            sets.SEGMENT_SET,
            sets.load_segment_pages(sets.SEGMENT_SET, limit),
            text_tools,
            report=sets.report_segments,
            worst=sets.worst_segments,
            label=lambda p: p.file,
            html=lambda p: p.html,
        )
    if name == "dates-htmldate":
        if not (sets.DATES_SET / "eval_default.json").is_file():
            return sets.DATES_SET
        day_tools: dict[str, Callable[[sets.date_set.DatedPage], date | None]] = {
            "newswatch": sets.date_set.run_newswatch
        }
        if not only_newswatch:
            day_tools["htmldate"] = sets.date_set.run_htmldate
        return EvalSet(
            name,
            sets.DATES_SET,
            sets.date_set.load_pages(sets.DATES_SET, limit),
            day_tools,
            report=sets.report_dates,
            worst=sets.worst_dates,
            label=lambda p: p.file,
            html=lambda p: p.html,
            unseen=sets.date_set.UNSEEN,
        )
    raise ValueError(f"unknown evaluation set: {name}")


def parse_sets(value: str) -> list[str]:
    """The comma-separated set names, each one of the known sets."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in SETS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown set(s) {unknown}; known: {SETS}")
    return names


def main() -> None:
    """Parse arguments, then run and print each chosen set that is present."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sets", type=parse_sets, default=list(SETS), help=",".join(SETS))
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the fastest counts")
    parser.add_argument("--worst", type=int, default=0, help="list N worst pages per set")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages per set")
    parser.add_argument("--only-newswatch", action="store_true", help="skip the peers")
    args = parser.parse_args()
    # The tools log about odd pages; the figures are what this script is for.
    logging.disable(logging.WARNING)
    for name in args.sets:
        loaded = build(name, args.limit, args.only_newswatch)
        if isinstance(loaded, Path):
            # A clone of the repository alone has no shared folder: `make bench` goes on.
            print(f"\n== {name}: skipped, {loaded} not found")
            continue
        if loaded.pages:
            run_set(loaded, max(args.repeat, 1), args.worst)


if __name__ == "__main__":
    main()
