"""One ingestion run over the stages, recorded in ``runs``: discover, plan, fetch, process.

The stages are plain callables (``Stages``); the Prefect flow swaps in task-wrapped versions of
the same functions. A source that fails in discover or fetch is recorded on the run with its
error and the others go on. Each stage returns what it produced, and this module alone adds it
up into the run's per-source reports.

A paused source, or one backing off after failed runs, is not read: the run records it as
``skipped`` with the reason and when it is tried next, unless the operator named the run's
sources. After the run the store counts each read source's failures in a row (the backoff).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.alerts.config import AlertsConfig
from pipeline.fetch import Fetcher
from pipeline.ingest import progress
from pipeline.ingest.fetch import discover_source, fetch_items
from pipeline.ingest.plan import hold_sources, lead_key, plan_items
from pipeline.ingest.prepare import MAX_TEXT_CHARS
from pipeline.ingest.process import process_batch
from pipeline.ingest.records import (
    BatchResult,
    Fetched,
    Planned,
    RunResult,
    SourceReport,
    StageClock,
)
from pipeline.models import Lead, Source
from pipeline.sources import notes_of
from pipeline.store import repo
from pipeline.tag import Tagger

# Articles per process task and transaction. Some of a batch's work does not grow with its
# size: reading back the stored articles its keys share and the stories it joins, a statement
# per table, the commit. bench/pipeline.py, where every article shares keys and stories with
# hundreds stored: 335 articles/s in batches of 200, 369 in 500, 382 in 1,000 (the same code).
# Still small: a batch is two or three seconds of work, all a crash can lose, and the flow run
# shows progress at that pace.
BATCH_SIZE = 1000
# Item errors quoted on a source's run record; the rest are counted.
ERRORS_SHOWN = 3


class ProcessStage(Protocol):
    """The signature of stage 4 (``process_batch``)."""

    def __call__(
        self,
        items: Sequence[Fetched],
        *,
        engine: Engine,
        run_id: int,
        tagger: Tagger,
        alerts: AlertsConfig,
        known_tag_ids: frozenset[str],
        baseline_before: datetime | None = None,
    ) -> BatchResult:
        """Process one batch."""
        ...


DiscoverStage = Callable[[Source, Fetcher, datetime | None, datetime | None], Awaitable[list[Lead]]]
FetchStage = Callable[[Sequence[Planned], Fetcher], Awaitable[list[Fetched]]]


@dataclass
class Stages:
    """The stage callables a run uses; the Prefect flow swaps in task-wrapped versions."""

    discover: DiscoverStage = discover_source
    fetch: FetchStage = fetch_items
    process: ProcessStage = process_batch


@dataclass(frozen=True)
class RunContext:
    """What every stage of one run is given."""

    engine: Engine
    fetcher: Fetcher
    tagger: Tagger
    alerts: AlertsConfig
    stages: Stages
    clock: StageClock


async def run_ingest(
    *,
    engine: Engine,
    sources: Sequence[Source],
    fetcher: Fetcher,
    tagger: Tagger,
    alerts: AlertsConfig,
    since: datetime | None = None,
    now: datetime | None = None,
    flow_run_id: str | None = None,
    options: Mapping[str, Any] | None = None,
    stages: Stages | None = None,
    clock: StageClock | None = None,
    replayed: bool = False,
    named: bool = False,
) -> RunResult:
    """One run over ``sources``: discover, plan, fetch, process; recorded in ``runs``.

    Sources paused or backing off are skipped and recorded so, unless ``named`` (an operator
    named the run's sources, which are then read whatever their state).

    ``now`` stands for the wall clock where a source asks "until today" (replays pass the time
    their answers were recorded). The first run on an empty store baselines the alerts of items
    published before the alerts' ``initial_window``, counted back from ``now`` (a replay
    without one: from its newest item, when its answers were recorded).
    """
    run = RunContext(engine, fetcher, tagger, alerts, stages or Stages(), clock or StageClock())
    # The wall clock, not ``now``: a replay's recorded day says nothing of when a source failed.
    started = repo.utc_now()
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, sources)
        known_tag_ids = frozenset(repo.sync_taxonomy(session, tagger.nodes))
        first_run = repo.is_first_run(session)
        run_id = repo.start_run(session, flow_run_id=flow_run_id, options=dict(options or {}))
        states = repo.source_states(session, [source.id for source in sources])
    reports = {source.id: SourceReport(source.id) for source in sources}
    sources = _held_back(sources, states, reports, started, named=named)
    with run.clock.stage("discover"):
        discovered = await _discover(run, sources, since, now, reports)
    with Session(engine) as session:
        keys = [lead_key(source, lead) for source, leads in discovered for lead in leads]
        stored = repo.stored_markers(session, keys)
    plan = plan_items(discovered, stored)
    progress.expect_items(len(plan))
    baseline_before = (
        baseline_cutoff(alerts, now, discovered, replayed=replayed) if first_run else None
    )
    with run.clock.stage("fetch"):
        fetched = await _fetch(run, sources, plan, reports)
    new_ids: list[int] = []
    queued = 0
    with collector_between_batches():
        for batch in batches(fetched):
            with run.clock.stage("process"):
                outcome = run.stages.process(
                    batch,
                    engine=engine,
                    run_id=run_id,
                    tagger=tagger,
                    alerts=alerts,
                    known_tag_ids=known_tag_ids,
                    baseline_before=baseline_before,
                )
            run.clock.add(outcome.seconds)
            for source_id, part in outcome.reports.items():
                reports[source_id].absorb(part)
            new_ids.extend(outcome.new_article_ids)
            queued += outcome.alerts_queued
            progress.items_stored(len(batch))
            gc.collect(0)
    status = _finish(run, run_id, reports, started)
    return RunResult(run_id, status, reports, new_ids, queued)


@contextmanager
def collector_between_batches() -> Iterator[None]:
    """Run the garbage collector only where the caller asks (``gc.collect(0)`` after each
    batch), and leave every object that exists now (the fetched pages, the configuration, the
    taxonomy's automaton) out of its passes; both undone after the block.

    A batch allocates millions of short-lived objects, so the collector ran thousands of times
    a run, its full passes walking every fetched page again: about a tenth of a run's time
    (bench/pipeline.py). A batch leaves a few hundred objects in cycles, all made during the
    batch: with the collector off nothing made since the last collection left its youngest
    generation, so collecting that one frees them, without walking what earlier batches left
    in caches (a full collection after each batch cost 30 ms).
    """
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


def _held_back(
    sources: Sequence[Source],
    states: Mapping[str, repo.SourceState],
    reports: dict[str, SourceReport],
    now: datetime,
    *,
    named: bool,
) -> list[Source]:
    """The sources the run reads; each one it skips gets the reason on its report."""
    read, held = hold_sources(sources, states, now=now, named=named)
    for source_id, state in held.items():
        reports[source_id].held = state.describe(now)
        # A paused source has no next attempt of its own: it waits for the operator.
        reports[source_id].next_attempt_at = None if state.paused else state.next_attempt_at
    return read


async def _discover(
    run: RunContext,
    sources: Sequence[Source],
    since: datetime | None,
    now: datetime | None,
    reports: dict[str, SourceReport],
) -> list[tuple[Source, list[Lead]]]:
    """Stage 1 for every source at once; a failing source is recorded and yields no leads."""

    async def guarded(source: Source) -> tuple[Source, list[Lead]]:
        started = time.perf_counter()
        try:
            leads = await run.stages.discover(source, run.fetcher, since, now)
        except Exception as exc:  # one source failing must not stop the others
            reports[source.id].error = _describe_failure(source, exc)
            return source, []
        finally:
            reports[source.id].seconds += time.perf_counter() - started
        reports[source.id].found = len(leads)
        reports[source.id].notes.extend(notes_of(leads))
        return source, leads

    return list(await asyncio.gather(*(guarded(source) for source in sources)))


async def _fetch(
    run: RunContext,
    sources: Sequence[Source],
    plan: Sequence[Planned],
    reports: dict[str, SourceReport],
) -> list[Fetched]:
    """Stage 3, one fetch per source at once; a source that fails is recorded, the rest go on."""

    async def guarded(source: Source) -> list[Fetched]:
        own = [item for item in plan if item.source.id == source.id]
        started = time.perf_counter()
        try:
            return await run.stages.fetch(own, run.fetcher)
        except Exception as exc:
            reports[source.id].error = _describe_failure(source, exc)
            return []
        finally:
            reports[source.id].seconds += time.perf_counter() - started

    per_source = await asyncio.gather(*(guarded(source) for source in sources))
    return [item for items in per_source for item in items]


def baseline_cutoff(
    alerts: AlertsConfig,
    now: datetime | None,
    discovered: Sequence[tuple[Source, list[Lead]]],
    *,
    replayed: bool,
) -> datetime | None:
    """Items published before this are baselined on a first run; None when nothing is."""
    window = alerts.delivery.initial_window
    if not window:
        return None
    reference = now
    if reference is None and replayed:
        leads = [lead for _, found in discovered for lead in found]
        dates = [lead.published_at for lead in leads if lead.published_at is not None]
        reference = max(dates, default=None)
    return (reference or repo.utc_now()) - window


def batches(items: Sequence[Fetched], size: int = BATCH_SIZE) -> Iterable[Sequence[Fetched]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _finish(
    run: RunContext, run_id: int, reports: Mapping[str, SourceReport], started: datetime
) -> str:
    """Record every source's outcome, each read source's failures in a row, and the run's
    status; keep validators of complete sources."""
    for report in reports.values():
        if report.skipped:
            report.notes.append(
                _listing(report.skipped, "URL(s) skipped, disallowed by robots.txt")
            )
        if report.clipped:
            report.notes.append(
                _listing(report.clipped, f"text(s) cut to {MAX_TEXT_CHARS:,} characters")
            )
    status = _run_status(reports)
    _share_processing(reports, run.clock.seconds.get("process", 0.0))
    # Validators are kept only for sources that stored everything they found: a 304 next run
    # lists nothing, so a feed whose items were not all stored must be read in full again.
    complete = [
        sid for sid, r in reports.items() if r.held is None and r.error is None and not r.errors
    ]
    attempts = {
        sid: (_recorded_error(r) or "failed") if r.status == "failed" else None
        for sid, r in reports.items()
        if r.held is None
    }
    with Session(run.engine) as session, session.begin():
        repo.save_validators(session, run.fetcher.new_validators(complete))
        for report in reports.values():
            repo.record_source_result(
                session,
                run_id,
                report.source_id,
                status=report.status,
                found=report.found,
                new=report.new,
                duplicates=report.duplicates,
                errors=report.errors + (1 if report.error else 0),
                error=report.held or _recorded_error(report),
                duration=None if report.held else round(report.seconds, 3),
            )
        repo.record_attempts(session, attempts, at=started)
        repo.finish_run(session, run_id, status)
    return status


def _share_processing(reports: Mapping[str, SourceReport], seconds: float) -> None:
    """Add the run's processing time to its sources' seconds, shared by the items each had
    processed (stored, found stored, or failed)."""
    processed = {
        sid: r.new + r.updated + r.duplicates + r.errors
        for sid, r in reports.items()
        if r.held is None
    }
    total = sum(processed.values())
    if total:
        for sid, items in processed.items():
            reports[sid].seconds += seconds * items / total


def _recorded_error(report: SourceReport) -> str | None:
    """The message a source's run record keeps: its failure, its item errors (the first few,
    then how many more) and its notes."""
    parts = [report.error] if report.error is not None else []
    if report.item_errors:
        shown = "; ".join(report.item_errors[:ERRORS_SHOWN])
        more = len(report.item_errors) - ERRORS_SHOWN
        parts.append(shown + (f" (+{more} more)" if more > 0 else ""))
    parts.extend(report.notes)
    return "; ".join(parts) if parts else None


def _listing(items: Sequence[str], what: str) -> str:
    """A run-record note: how many ``what``, the first few named."""
    shown = "; ".join(items[:ERRORS_SHOWN])
    more = len(items) - ERRORS_SHOWN
    return f"{len(items)} {what}: {shown}" + (f" (+{more} more)" if more > 0 else "")


def _describe_failure(source: Source, exc: BaseException) -> str:
    """A run-record message naming the source and the fault."""
    return f"source {source.id!r}: {type(exc).__name__}: {exc}"


def _run_status(reports: Mapping[str, SourceReport]) -> str:
    """``failed`` when every source the run read failed, ``completed_with_errors`` when any had
    trouble or was skipped for failing before (a paused source is the operator's choice)."""
    statuses = [report.status for report in reports.values() if report.held is None]
    if statuses and all(status == "failed" for status in statuses):
        return "failed"
    troubled = any(status != "ok" for status in statuses)
    backing_off = any(report.next_attempt_at is not None for report in reports.values())
    noted = any(report.notes for report in reports.values())
    return "completed_with_errors" if troubled or backing_off or noted else "completed"
