"""Article extraction: newswatch against trafilatura on the same real pages, in the same run.

Reads the evaluation pages under ``../shared/eval/pages`` (``index.jsonl`` and the gzipped
pages beside it; ``NEWSWATCH_EVAL_PAGES`` points elsewhere, ``NEWSWATCH_SHARED_DIR`` names another
shared folder; without them the benchmark says it is skipped), decompresses every page into memory
once, then runs each extractor over all of them and prints, side by side:

- body token F1, precision and recall: macro-averaged over pages, a page with no output scoring
  0. Tokens are lower-cased runs of letters and digits (``\\w``), except that every Han
  ideograph and kana counts as a token of its own, because Chinese and Japanese are written
  without spaces. The same tokeniser scores both tools;
- title exact-match rate, after NFKC and whitespace normalisation of both sides;
- publication-date accuracy: the same calendar day as the ground truth, read in the ground
  truth's own UTC offset (trafilatura reports a date without a time, compared as it is), over
  the pages whose ground truth has a date;
- pages/s: extraction only (HTML already in memory), on one core, per CPU-second of this process
  (``time.process_time``) so that other work on a shared machine does not skew the ratio, and
  per wall-clock second for reference. The tools take turns pass by pass (``--repeat`` passes
  each, the fastest counting), with garbage collected before each pass and not during it, as
  ``timeit`` does, so that neither pays for the other's garbage.

trafilatura runs with its defaults: ``bare_extraction(html, url=url, with_metadata=True)``,
whose ``text`` is the main text (comments are kept apart in ``comments``, and not scored).

Usage: ``python bench/extraction.py [--repeat 3] [--worst 15] [--limit N] [--only-newswatch]``;
``--worst`` lists the pages where newswatch's F1 trails trafilatura's most.
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
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from statistics import mean

from pipeline.errors import ExtractError
from pipeline.extract import extract_article

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")
EVAL_PAGES = Path(os.environ.get("NEWSWATCH_EVAL_PAGES") or SHARED / "eval" / "pages")
# Each ideograph or kana is a token; other letters and digits form word tokens.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


@dataclass(frozen=True, slots=True)
class EvalPage:
    """One evaluation page: its ground-truth row and its decompressed HTML."""

    row: dict[str, object]
    html: bytes

    @property
    def url(self) -> str:
        """The page's URL as crawled."""
        return str(self.row["url"])


@dataclass(frozen=True, slots=True)
class Output:
    """What an extractor made of one page (empty text when it found nothing)."""

    text: str
    title: str
    published: date | None


@dataclass(frozen=True, slots=True)
class Scores:
    """One page's body-token precision, recall and F1."""

    precision: float
    recall: float
    f1: float


def tokens(text: str) -> Counter[str]:
    """Lower-case word tokens, each CJK ideograph or kana a token of its own."""
    return Counter(TOKEN.findall(text.lower()))


def score(found: str, truth: str) -> Scores:
    """Token precision, recall and F1 of ``found`` against ``truth`` (bags of tokens)."""
    got, want = tokens(found), tokens(truth)
    overlap = sum((got & want).values())
    if not overlap:
        return Scores(0.0, 0.0, 0.0)
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return Scores(precision, recall, 2 * precision * recall / (precision + recall))


def same_title(found: str, truth: str) -> bool:
    """Exact match after NFKC and whitespace normalisation."""

    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).split())

    return bool(truth) and norm(found) == norm(truth)


def truth_day(row: dict[str, object]) -> tuple[date, datetime] | None:
    """The ground truth's calendar day and datetime, or None when it has no date."""
    value = row.get("publishing_date")
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed.date(), parsed


def load_pages(folder: Path, limit: int | None = None) -> list[EvalPage]:
    """Every page of ``index.jsonl`` with its HTML decompressed into memory."""
    index = folder / "index.jsonl"
    if not index.is_file():
        raise SystemExit(f"no evaluation pages at {folder} (set NEWSWATCH_EVAL_PAGES)")
    rows = [json.loads(line) for line in index.read_text(encoding="utf-8").splitlines() if line]
    if limit:
        rows = rows[:limit]
    return [
        EvalPage(row, gzip.decompress((folder / str(row["file"])).read_bytes())) for row in rows
    ]


def run_newswatch(page: EvalPage) -> Output:
    """newswatch's public entry point, fetch time as crawled (so no date is 'in the future')."""
    # The corpus records crawl times without a zone: read as UTC, as tests/test_extract.py does,
    # so that both agree on which dates are "in the future" and refused.
    crawled = datetime.fromisoformat(str(page.row["crawl_date"])).replace(tzinfo=UTC)
    try:
        article = extract_article(page.html, page.url, fetched_at=crawled)
    except ExtractError:
        return Output("", "", None)
    published = article.published_at
    truth = truth_day(page.row)
    if published is not None and truth is not None and truth[1].tzinfo is not None:
        published = published.astimezone(truth[1].tzinfo)
    return Output(article.text, article.title, published.date() if published else None)


def run_trafilatura(page: EvalPage) -> Output:
    """trafilatura with its defaults: main text, title and date from its metadata."""
    import trafilatura

    doc = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    if doc is None:
        return Output("", "", None)
    published = None
    if doc.date:
        try:
            published = date.fromisoformat(str(doc.date)[:10])
        except ValueError:
            published = None
    return Output(doc.text or "", doc.title or "", published)


@dataclass(frozen=True, slots=True)
class Run:
    """One extractor over every page: its outputs and the time it took."""

    name: str
    outputs: list[Output]
    cpu_seconds: float
    wall_seconds: float


def timed(
    extractors: dict[str, Callable[[EvalPage], Output]], pages: list[EvalPage], repeat: int
) -> list[Run]:
    """Run each extractor over ``pages`` ``repeat`` times, the tools taking turns pass by pass
    so that both meet the same load on a shared machine; each tool's fastest pass counts."""
    for extractor in extractors.values():
        extractor(pages[0])  # imports and caches warmed outside the timing
    best_cpu = dict.fromkeys(extractors, float("inf"))
    best_wall = dict.fromkeys(extractors, float("inf"))
    outputs: dict[str, list[Output]] = {}
    for _ in range(repeat):
        for name, extractor in extractors.items():
            # As timeit does: collect before a pass and not during it, so that neither tool
            # pays for the garbage the other left behind.
            gc.collect()
            gc.disable()
            try:
                cpu, wall = time.process_time(), time.perf_counter()
                outputs[name] = [extractor(page) for page in pages]
                best_cpu[name] = min(best_cpu[name], time.process_time() - cpu)
                best_wall[name] = min(best_wall[name], time.perf_counter() - wall)
            finally:
                gc.enable()
    return [Run(name, outputs[name], best_cpu[name], best_wall[name]) for name in extractors]


def summary(run: Run, pages: list[EvalPage]) -> dict[str, float]:
    """Macro-averaged body scores, title and date rates, and pages/s of one run."""
    scores = [
        score(out.text, str(p.row["body_text"])) for out, p in zip(run.outputs, pages, strict=True)
    ]
    titled = [(out, p) for out, p in zip(run.outputs, pages, strict=True) if p.row.get("title")]
    dated = [(out, truth_day(p.row)) for out, p in zip(run.outputs, pages, strict=True)]
    dated = [(out, truth) for out, truth in dated if truth is not None]
    return {
        "f1": mean(s.f1 for s in scores),
        "precision": mean(s.precision for s in scores),
        "recall": mean(s.recall for s in scores),
        "title": sum(same_title(o.title, str(p.row["title"])) for o, p in titled) / len(titled),
        "date": sum(o.published == t[0] for o, t in dated) / len(dated) if dated else 0.0,
        "dated_pages": float(len(dated)),
        "pages_per_cpu_s": len(pages) / run.cpu_seconds,
        "pages_per_wall_s": len(pages) / run.wall_seconds,
    }


def print_table(pages: list[EvalPage], runs: list[Run]) -> None:
    """The side-by-side figures."""
    stats = [summary(run, pages) for run in runs]
    print(f"{len(pages)} pages from {EVAL_PAGES}")
    print(f"{'':24}" + "".join(f"{run.name:>14}" for run in runs))
    rows = [
        ("body F1 (macro)", "f1", "{:.3f}"),
        ("body precision", "precision", "{:.3f}"),
        ("body recall", "recall", "{:.3f}"),
        ("title exact match", "title", "{:.1%}"),
        ("date same day", "date", "{:.1%}"),
        ("pages/s (CPU)", "pages_per_cpu_s", "{:.1f}"),
        ("pages/s (wall)", "pages_per_wall_s", "{:.1f}"),
    ]
    for label, key, fmt in rows:
        print(f"{label:24}" + "".join(f"{fmt.format(s[key]):>14}" for s in stats))
    print(f"(dates over {int(stats[0]['dated_pages'])} pages whose ground truth has one)")
    if len(stats) == 2:
        ratio = stats[0]["pages_per_cpu_s"] / stats[1]["pages_per_cpu_s"]
        wall = stats[0]["pages_per_wall_s"] / stats[1]["pages_per_wall_s"]
        print(
            f"speed ratio {runs[0].name}/{runs[1].name}: "
            f"{ratio:.1f}x per CPU-second, {wall:.1f}x wall"
        )


def print_worst(pages: list[EvalPage], runs: list[Run], count: int) -> None:
    """Pages where the first run's F1 trails the second's the most."""
    ours, theirs = runs
    rows = []
    for page, mine, other in zip(pages, ours.outputs, theirs.outputs, strict=True):
        truth = str(page.row["body_text"])
        a, b = score(mine.text, truth), score(other.text, truth)
        rows.append((a.f1 - b.f1, a, b, page))
    rows.sort(key=lambda r: r[0])
    print(f"\n{count} pages where {ours.name} trails {theirs.name} most (F1 diff, P/R each):")
    for diff, a, b, page in rows[:count]:
        print(
            f"{diff:+.3f}  {ours.name} {a.f1:.2f} (P {a.precision:.2f} R {a.recall:.2f})"
            f"  {theirs.name} {b.f1:.2f} (P {b.precision:.2f} R {b.recall:.2f})  {page.row['file']}"
        )


def main() -> None:
    """Parse arguments, run both extractors and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the fastest counts")
    parser.add_argument(
        "--worst", type=int, default=0, help="list the N pages newswatch loses most"
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--only-newswatch", action="store_true", help="skip trafilatura")
    args = parser.parse_args()
    if not (EVAL_PAGES / "index.jsonl").is_file():
        # A clone of the repository alone has no shared folder: `make bench` goes on.
        print(f"skipped: {EVAL_PAGES} not found (the evaluation pages with their ground truth)")
        raise SystemExit(0)
    # Both tools log about odd pages; the figures are what this script is for.
    logging.disable(logging.WARNING)
    pages = load_pages(EVAL_PAGES, args.limit)
    extractors = {"newswatch": run_newswatch}
    if not args.only_newswatch:
        extractors["trafilatura"] = run_trafilatura
    runs = timed(extractors, pages, args.repeat)
    print_table(pages, runs)
    if args.worst and len(runs) == 2:
        print_worst(pages, runs, args.worst)


if __name__ == "__main__":
    main()
