"""The records an ingestion run passes between its stages and reports at the end.

Planned   a lead with its storage key and what the run does with it
Fetched   a planned item with its page, or why it has none
SourceReport, BatchResult, RunResult   what a source, a batch and a run did
StageClock   seconds per stage, for the benchmark
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pipeline.models import Lead, Page, Source


@dataclass
class StageClock:
    """Seconds spent per stage, summed over a run (the benchmark prints them)."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the time spent in the ``with`` block to stage ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start


@dataclass
class SourceReport:
    """Counts and errors of one source in one run."""

    source_id: str
    found: int = 0
    new: int = 0
    duplicates: int = 0
    # Stored items the source says changed since (SFC modificationTime), re-read and updated.
    updated: int = 0
    errors: int = 0
    error: str | None = None
    item_errors: list[str] = field(default_factory=list)
    # How the leads were found when not the usual way (e.g. an API down, its feed read instead).
    notes: list[str] = field(default_factory=list)
    # URLs robots.txt disallows: skipped, never fetched.
    skipped: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``failed`` when the source could not be read at all, else ``ok``."""
        return "failed" if self.error else "ok"


@dataclass(frozen=True)
class Planned:
    """A lead with the key it is stored under and what to do with it."""

    source: Source
    lead: Lead
    key: str
    # "fetch": a page is needed; "body": the API gave the body; "known": stored before this run;
    # "update": stored, but the source says it changed since, so fetched again and updated;
    # "claimed": another source in this run has the same item.
    action: str
    fetch_url: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A planned item with its page (or the error that kept it from being fetched)."""

    planned: Planned
    page: Page | None = None
    error: str | None = None
    # Why the page was deliberately not fetched (robots.txt), not an error.
    skipped: str | None = None


@dataclass
class BatchResult:
    """What one processed batch stored."""

    new_article_ids: list[int] = field(default_factory=list)
    alerts_queued: int = 0


@dataclass
class RunResult:
    """What one run did: the run id, per-source reports and the alerts it queued."""

    run_id: int
    status: str
    reports: dict[str, SourceReport]
    new_article_ids: list[int] = field(default_factory=list)
    alerts_queued: int = 0
