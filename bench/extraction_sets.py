"""The evaluation sets of ``bench/extraction.py``: how each is loaded, run and scored.

``pages`` (news pages with body, title and date), ``extraction-trafilatura`` (segments that must
or must not be in the main text) and ``dates-htmldate`` (loaded and run by ``bench/dates.py``'s
functions). Each set names its tools, newswatch first, prints its quality rows and lists its
worst pages; ``bench/extraction.py`` times the tools. Run alone, this module only says so.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/pipeline.py would shadow the
# ``pipeline`` package measured here.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import ast
import gzip
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from statistics import mean
from typing import Generic, TypeVar

from pipeline.errors import ExtractError
from pipeline.extract import extract_article

# bench/dates.py sits next to this file; appended last, after ``pipeline`` is imported.
sys.path.append(str(HERE))
import dates as date_set

REPO = HERE.parent
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")
EVAL_PAGES = Path(os.environ.get("NEWSWATCH_EVAL_PAGES") or SHARED / "eval" / "pages")
SEGMENT_SET = SHARED / "eval" / "extraction-trafilatura"
DATES_SET = date_set.DATES_SET
# Each ideograph or kana is a token; other letters and digits form word tokens.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
# Upstream (trafilatura's tests/eval_common.py ``norm``) collapses every whitespace run to one
# space on both sides before the substring test, so that line breaks cost no segment.
_SPACES = re.compile(r"\s+")
# A listed segment is cut to this many characters so that one line stays readable.
SEGMENT_SHOWN = 40

PageT = TypeVar("PageT")
OutT = TypeVar("OutT")


@dataclass(frozen=True, slots=True)
class Run(Generic[OutT]):
    """One tool over every page of a set: its outputs, and each page's CPU time (s) in the
    counted pass, with that pass's wall-clock time."""

    name: str
    outputs: list[OutT]
    cpu: list[float]
    wall_seconds: float


@dataclass(frozen=True, slots=True)
class EvalSet(Generic[PageT, OutT]):
    """A loaded set: its pages, its tools by name (newswatch first), and how it reports."""

    name: str
    folder: Path
    pages: list[PageT]
    tools: dict[str, Callable[[PageT], OutT]]
    report: Callable[[list[PageT], list[Run[OutT]]], None]
    worst: Callable[[list[PageT], list[Run[OutT]], int], None]
    label: Callable[[PageT], str]
    html: Callable[[PageT], bytes]
    # Tools that keep results between calls, timed on pages they have not read (``unseen_run``).
    unseen: frozenset[str] = field(default_factory=frozenset)


# --- pages: body text, title and date ----------------------------------------------------------


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
    if doc is None or isinstance(doc, dict):  # a dict only when asked for one (as_dict)
        return Output("", "", None)
    published = None
    if doc.date:
        try:
            published = date.fromisoformat(str(doc.date)[:10])
        except ValueError:
            published = None
    return Output(doc.text or "", doc.title or "", published)


def page_summary(run: Run[Output], pages: list[EvalPage]) -> dict[str, float]:
    """Macro-averaged body scores, and title and date rates, of one run."""
    pairs = list(zip(run.outputs, pages, strict=True))
    scores = [score(out.text, str(p.row["body_text"])) for out, p in pairs]
    titled = [(out, p) for out, p in pairs if p.row.get("title")]
    dated = [(out, truth_day(p.row)) for out, p in pairs]
    days = [(out, truth) for out, truth in dated if truth is not None]
    return {
        "body F1 (macro)": mean(s.f1 for s in scores),
        "body precision": mean(s.precision for s in scores),
        "body recall": mean(s.recall for s in scores),
        "title exact match": sum(same_title(o.title, str(p.row["title"])) for o, p in titled)
        / max(len(titled), 1),
        "date same day": sum(o.published == t[0] for o, t in days) / max(len(days), 1),
    }


def report_pages(pages: list[EvalPage], runs: list[Run[Output]]) -> None:
    """Body F1/P/R, title and date rates side by side."""
    stats = [page_summary(run, pages) for run in runs]
    for label in stats[0]:
        fmt = "{:.3f}" if label.startswith("body") else "{:.1%}"
        print_row(label, [fmt.format(s[label]) for s in stats])
    dated = sum(truth_day(p.row) is not None for p in pages)
    print(f"(dates over {dated} pages whose ground truth has one)")


def worst_pages(pages: list[EvalPage], runs: list[Run[Output]], count: int) -> None:
    """Pages where newswatch's F1 trails the peer's the most."""
    if len(runs) < 2:
        return  # the gap to the peer is what is ranked
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
            f"  {diff:+.3f}  {ours.name} {a.f1:.2f} (P {a.precision:.2f} R {a.recall:.2f})"
            f"  {theirs.name} {b.f1:.2f} (P {b.precision:.2f} R {b.recall:.2f})"
            f"  {page.row['file']}"
        )


# --- extraction-trafilatura: "with" and "without" segments --------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentPage:
    """One page of trafilatura's set: the segments its main text must and must not hold."""

    url: str
    file: str
    with_: tuple[str, ...]
    without: tuple[str, ...]
    html: bytes


@dataclass(frozen=True, slots=True)
class Counts:
    """Segment outcomes: "with" found (TP) or missed (FN), "without" found (FP) or absent (TN)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )


def segments(value: object) -> tuple[str, ...]:
    """A segment list, stored upstream as the string form of a Python list (or as a list)."""
    items = ast.literal_eval(value) if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError(f"not a list of segments: {value!r}")
    return tuple(str(item) for item in items)


def load_segment_pages(folder: Path, limit: int | None = None) -> list[SegmentPage]:
    """Every page of ``evaldata.json`` with its HTML decompressed into memory."""
    data = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    items = list(data.items())[:limit] if limit else list(data.items())
    return [
        SegmentPage(
            url,
            str(item["file"]),
            segments(item["with"]),
            segments(item["without"]),
            gzip.decompress((folder / "html" / f"{item['file']}.gz").read_bytes()),
        )
        for url, item in items
    ]


def normalise(text: str) -> str:
    """Whitespace runs as one space, ends trimmed, as upstream compares segments."""
    return _SPACES.sub(" ", text).strip()


def count_segments(page: SegmentPage, text: str) -> Counts:
    """The page's segment outcomes for one main text (whitespace-normalised substring test)."""
    found = normalise(text)
    tp = sum(normalise(s) in found for s in page.with_)
    fp = sum(normalise(s) in found for s in page.without)
    return Counts(tp, fp, len(page.with_) - tp, len(page.without) - fp)


def text_newswatch(page: SegmentPage) -> str:
    """newswatch's main text; a page it refuses has none."""
    try:
        return extract_article(page.html, page.url).text
    except ExtractError:
        return ""


def text_trafilatura(page: SegmentPage) -> str:
    """trafilatura's main text with its defaults, as on the pages set."""
    import trafilatura

    doc = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    return "" if doc is None or isinstance(doc, dict) else doc.text or ""


def report_segments(pages: list[SegmentPage], runs: list[Run[str]]) -> None:
    """Precision, recall, F1 and accuracy over all segments of all pages, as upstream."""
    totals = []
    for run in runs:
        total = Counts()
        for page, text in zip(pages, run.outputs, strict=True):
            total += count_segments(page, text)
        totals.append(total)
    rows: dict[str, Callable[[Counts], float]] = {
        "segment precision": lambda c: c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0,
        "segment recall": lambda c: c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0,
        "segment F1": lambda c: 2 * c.tp / (2 * c.tp + c.fp + c.fn) if c.tp else 0.0,
        "segment accuracy": lambda c: (c.tp + c.tn) / max(c.tp + c.fp + c.fn + c.tn, 1),
    }
    for label, metric in rows.items():
        print_row(label, [f"{metric(c):.3f}" for c in totals])
    print_row("with: found/missed", [f"{c.tp}/{c.fn}" for c in totals])
    print_row("without: found/absent", [f"{c.fp}/{c.tn}" for c in totals])
    print_row("empty main text", [str(sum(not t for t in run.outputs)) for run in runs])


def worst_segments(pages: list[SegmentPage], runs: list[Run[str]], count: int) -> None:
    """Pages where newswatch misses the most "with" and finds the most "without" segments."""
    rows = []
    for index, page in enumerate(pages):
        found = normalise(runs[0].outputs[index])
        missed = [s for s in page.with_ if normalise(s) not in found]
        kept = [s for s in page.without if normalise(s) in found]
        peer = count_segments(page, runs[1].outputs[index]) if len(runs) > 1 else None
        rows.append((len(missed) + len(kept), missed, kept, peer, page))
    rows.sort(key=lambda r: -r[0])
    peer_name = runs[1].name if len(runs) > 1 else "peer"
    print(f"\n{count} pages with the most {runs[0].name} segment errors (missed + found-without):")
    for errors, missed, kept, peer, page in rows[:count]:
        if not errors:
            break
        theirs = f"  {peer_name} {peer.fn + peer.fp}" if peer is not None else ""
        print(f"  {errors}{theirs}  {page.file}  {page.url}")
        for label, shown in (("missed", missed), ("found without", kept)):
            if shown:
                print(f"      {label}: " + " | ".join(repr(s[:SEGMENT_SHOWN]) for s in shown))


# --- dates-htmldate: the publication day --------------------------------------------------------


def report_dates(pages: list[date_set.DatedPage], runs: list[Run[date | None]]) -> None:
    """Same-day accuracy and the share of pages with some date, side by side."""
    right = [sum(d == p.truth for d, p in zip(r.outputs, pages, strict=True)) for r in runs]
    print_row("date same day", [f"{n / len(pages):.1%}" for n in right])
    found = [sum(d is not None for d in run.outputs) for run in runs]
    print_row("some date found", [f"{n / len(pages):.1%}" for n in found])


def worst_dates(pages: list[date_set.DatedPage], runs: list[Run[date | None]], count: int) -> None:
    """newswatch's misses: the day it found against the true day."""
    ours = runs[0]
    date_set.print_misses(pages, date_set.Run(ours.name, ours.outputs, sum(ours.cpu)), count)


# --- the sets -----------------------------------------------------------------------------------


def print_row(label: str, cells: Sequence[str]) -> None:
    """One table row: a label, then one right-aligned cell per tool."""
    print(f"{label:26}" + "".join(f"{cell:>14}" for cell in cells))


if __name__ == "__main__":
    print("extraction_sets.py loads and scores the sets of bench/extraction.py; run that instead.")
