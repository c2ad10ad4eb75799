"""The records an ingestion run passes between its stages and reports at the end.

Planned   a lead with its storage key and what the run does with it
Fetched   a planned item with its page (and the body inside it), or why it has none
SourceReport, BatchResult, RunResult   what a source, a batch and a run did
StageClock   seconds per stage, for the benchmark

A stage returns these; none changes one it was given, so a stage run as a Prefect task (in
another thread or process) hands back everything it did.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pipeline.models import Lead, Page, Source


class Action(StrEnum):
    """What a run does with a planned item."""

    # A page is needed.
    fetch = "fetch"
    # The source gave the body with the lead.
    body = "body"
    # Stored before this run.
    known = "known"
    # Stored, but the source says it changed since: fetched again and updated.
    update = "update"
    # Another source in this run has the same item.
    claimed = "claimed"


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

    def add(self, seconds: Mapping[str, float]) -> None:
        """Add the seconds another clock (a batch's) measured."""
        for name, value in seconds.items():
            self.seconds[name] += value


@dataclass
class SourceReport:
    """Counts and errors of one source in one run (or in one batch of it)."""

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
    # URLs whose text was cut to the stored maximum.
    clipped: list[str] = field(default_factory=list)
    # Why the run did not read the source at all (paused, or backing off after failed runs).
    held: str | None = None
    # When a backing-off source is tried next (None for a paused one: when it is resumed).
    next_attempt_at: datetime | None = None
    # Wall-clock seconds the run spent on the source: its discover and fetch, and its share of
    # processing (by the items of it processed).
    seconds: float = 0.0

    @property
    def status(self) -> str:
        """``skipped`` when the run held the source back, ``failed`` when it could not be read
        or most of the items it gave failed, ``partial`` when some did, else ``ok``."""
        if self.held:
            return "skipped"
        if self.error:
            return "failed"
        if not self.errors:
            return "ok"
        attempted = self.new + self.updated + self.errors
        return "failed" if self.errors * 2 > attempted else "partial"

    def absorb(self, other: SourceReport) -> None:
        """Add what a batch did for this source to this report."""
        self.found += other.found
        self.new += other.new
        self.duplicates += other.duplicates
        self.updated += other.updated
        self.errors += other.errors
        self.error = self.error or other.error
        self.item_errors.extend(other.item_errors)
        self.notes.extend(other.notes)
        self.skipped.extend(other.skipped)
        self.clipped.extend(other.clipped)
        self.seconds += other.seconds


@dataclass(frozen=True)
class Planned:
    """A lead with the key it is stored under and what to do with it."""

    source: Source
    lead: Lead
    key: str
    action: Action
    fetch_url: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A planned item with its page (or the error that kept it from being fetched)."""

    planned: Planned
    page: Page | None = None
    # The body's HTML when the page wraps it (a JSON answer's field), taken out at fetch time.
    body_html: str | None = None
    error: str | None = None
    # Why the page was deliberately not fetched (robots.txt), not an error.
    skipped: str | None = None


@dataclass
class BatchResult:
    """What one processed batch stored, per source, and the seconds it spent per stage."""

    reports: dict[str, SourceReport] = field(default_factory=dict)
    new_article_ids: list[int] = field(default_factory=list)
    alerts_queued: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def report(self, source_id: str) -> SourceReport:
        """This batch's report for ``source_id`` (made on first use)."""
        found = self.reports.get(source_id)
        if found is None:
            found = self.reports[source_id] = SourceReport(source_id)
        return found


@dataclass
class RunResult:
    """What one run did: the run id, per-source reports and the alerts it queued."""

    run_id: int
    status: str
    reports: dict[str, SourceReport]
    new_article_ids: list[int] = field(default_factory=list)
    alerts_queued: int = 0
