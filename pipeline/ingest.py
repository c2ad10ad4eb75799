"""One ingestion run as a cascade of plain stages; the Prefect flow wraps each stage in a task.

    discover  (per source, network)  Source → Leads
    plan      (whole run, no I/O)    Leads → which items to fetch, which are already known
    fetch     (per source, network)  planned Leads → Pages
    process   (per batch, CPU + DB)  Pages → Articles → TaggedArticles → verdicts → rows + alerts

A source that fails in discover or fetch is recorded on the run with its error; the others go
on. Every write is keyed on a natural key, so re-running a run adds nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.alerts.rules import matching_rules
from pipeline.charset import page_markup
from pipeline.clean import canonical_url
from pipeline.config import AlertsConfig
from pipeline.dates import parse_date
from pipeline.dedupe import Deduper, content_hash, item_key
from pipeline.errors import BudgetExceeded, ExtractError, NewswatchError, RobotsDisallowed
from pipeline.extract import extract_article, extract_html_fragment
from pipeline.fetch import Fetcher, save_validators
from pipeline.fetch.content import Expect
from pipeline.ingest_records import (
    BatchResult,
    Fetched,
    Planned,
    RunResult,
    SourceReport,
    StageClock,
)
from pipeline.models import Article, Lead, Source, TaggedArticle
from pipeline.sources import body_html_of, discover, notes_of
from pipeline.store import repo
from pipeline.store.tags import sync_taxonomy
from pipeline.tag import Tagger

# Articles per process task: large enough that a task's ~5 ms overhead is noise, small enough
# that a crash loses little work and progress shows in the flow run.
BATCH_SIZE = 200


def lead_key(source: Source, lead: Lead) -> str:
    """The natural key a lead's item is stored under (before its page is seen)."""
    return item_key(source.namespace, lead.item_id, canonical_url(lead.url))


async def discover_source(
    source: Source, fetcher: Fetcher, since: datetime | None, now: datetime | None = None
) -> list[Lead]:
    """Stage 1: the leads a source lists at ``now`` (default: the wall clock)."""
    with fetcher.source_scope(source):
        return await discover(source, fetcher, since=since, now=now)


def plan_items(
    discovered: Sequence[tuple[Source, list[Lead]]],
    known_keys: set[str] | Mapping[str, str | None],
) -> list[Planned]:
    """Stage 2: decide per lead whether to fetch it, in declaration order so runs are repeatable.

    ``known_keys`` maps each stored key to its stored change marker (or is a plain set): a
    stored item is fetched again only when its lead carries a newer marker.
    """
    markers: Mapping[str, str | None] = (
        known_keys if isinstance(known_keys, Mapping) else dict.fromkeys(known_keys)
    )
    claimed: set[str] = set()
    plan: list[Planned] = []
    for source, leads in discovered:
        for lead in leads:
            key = lead_key(source, lead)
            if key in markers and key not in claimed and changed_since(lead.modified, markers[key]):
                action = "update"
                claimed.add(key)
            elif key in markers:
                action = "known"
            elif key in claimed:
                action = "claimed"
            else:
                action = "body" if lead.body_html is not None else "fetch"
                claimed.add(key)
            template = source.options.get("body_url")
            fetch_url = lead.body_url or (
                str(template).format(item_id=lead.item_id)
                if template and lead.item_id
                else lead.url
            )
            plan.append(Planned(source, lead, key, action, fetch_url))
    return plan


def changed_since(marker: str | None, stored: str | None) -> bool:
    """Whether a source's change marker is newer than the stored one (both ISO-like times)."""
    if not marker:
        return False
    fresh = parse_date(marker)
    if fresh is None:
        return False
    if not stored:
        return True
    before = parse_date(stored)
    return before is None or fresh > before


async def fetch_items(items: Sequence[Planned], fetcher: Fetcher) -> list[Fetched]:
    """Stage 3: fetch the pages of planned items concurrently; a failed page is kept as an error.

    A source whose time budget runs out fails as a whole (``BudgetExceeded`` is raised once all
    its fetches have settled); a page robots.txt disallows is kept as skipped.
    """
    spent: list[BudgetExceeded] = []

    async def one(item: Planned) -> Fetched:
        if item.action not in ("fetch", "update") or item.fetch_url is None:
            return Fetched(item)
        # The article page itself must be HTML; a body endpoint (SFC JSON) is read by its adapter.
        expect: Expect | None = "html" if item.fetch_url == item.lead.url else None
        try:
            with fetcher.source_scope(item.source):
                page = await fetcher.get(item.fetch_url, expect=expect)
            return Fetched(item, page=page)
        except RobotsDisallowed as exc:
            return Fetched(item, skipped=str(exc))
        except BudgetExceeded as exc:
            spent.append(exc)
            return Fetched(item, error=str(exc))
        except NewswatchError as exc:
            return Fetched(item, error=str(exc))

    fetched = list(await asyncio.gather(*(one(item) for item in items)))
    if spent:
        raise spent[0]
    return fetched


def build_article(item: Fetched) -> Article:
    """Extract and clean the article of one fetched item, filling what the lead knows."""
    source, lead = item.planned.source, item.planned.lead
    body_html = lead.body_html
    if body_html is None and lead.body_url and item.page is not None:
        # A body endpoint that wraps the HTML (SFC JSON) is unwrapped by its adapter.
        body_html = body_html_of(source, item.page)
    if body_html is not None:
        article = Article(
            url=lead.url,
            title=lead.title,
            text=extract_html_fragment(body_html, lead.url),
            canonical_url=canonical_url(lead.url),
            lang=lead.lang or source.lang,
        )
        if not article.text:
            article = dataclasses.replace(article, text=lead.summary or lead.title)
    else:
        if item.page is None:
            raise ExtractError(f"{lead.url}: no page was fetched")
        article = extract_article(
            page_markup(item.page),
            item.page.final_url,
            fetched_at=item.page.fetched_at,
            selectors=source.selectors,
        )
    return dataclasses.replace(
        article,
        title=article.title or lead.title,
        published_at=article.published_at or lead.published_at,
        author=article.author or lead.author,
        description=article.description or lead.summary or None,
        canonical_url=article.canonical_url or canonical_url(lead.url),
        lang=article.lang or lead.lang or source.lang,
        source_id=source.id,
        item_id=lead.item_id,
        doc_type=lead.doc_type or source.doc_type,
        regulator=source.regulator,
        categories=lead.categories,
        entities=lead.entities,
    )


def seed_deduper(session: Session) -> Deduper:
    """A deduper holding every key already stored."""
    deduper = Deduper()
    for key, canonical, digest, _original in repo.dedupe_index(session):
        deduper.remember(key, canonical, digest)
    return deduper


def process_batch(
    items: Sequence[Fetched],
    *,
    engine: Engine,
    run_id: int,
    tagger: Tagger,
    deduper: Deduper,
    alerts: AlertsConfig,
    reports: dict[str, SourceReport],
    known_tag_ids: set[str] | None = None,
    clock: StageClock | None = None,
) -> BatchResult:
    """Stage 4: extract, tag, dedupe and store one batch."""
    clock = clock or StageClock()
    result = BatchResult()
    with Session(engine) as session, session.begin():
        for item in items:
            planned = item.planned
            report = reports[planned.source.id]
            if planned.action in ("known", "claimed"):
                report.duplicates += 1
                _record_repeat(session, planned, run_id, "same_item")
                continue
            if item.skipped is not None:
                report.skipped.append(item.skipped)
                continue
            if item.error is not None:
                report.errors += 1
                report.item_errors.append(item.error)
                continue
            if planned.action == "update":
                try:
                    with clock.stage("extract"):
                        article = build_article(item)
                except NewswatchError as exc:
                    report.errors += 1
                    report.item_errors.append(str(exc))
                    continue
                with clock.stage("tag"):
                    tags = tuple(tagger.tag_article(article))
                repo.update_article(
                    session,
                    TaggedArticle(article, tags, content_hash(article.text), tagger.version),
                    item_key=planned.key,
                    source_modified=planned.lead.modified,
                )
                report.updated += 1
                continue
            try:
                with clock.stage("extract"):
                    article = build_article(item)
            except NewswatchError as exc:
                report.errors += 1
                report.item_errors.append(str(exc))
                continue
            with clock.stage("tag"):
                tags = tuple(tagger.tag_article(article))
            with clock.stage("dedupe"):
                tagged = TaggedArticle(
                    article=article,
                    tags=tags,
                    content_hash=content_hash(article.text),
                    taxonomy_version=tagger.version,
                )
                verdict = deduper.check(article, key=planned.key, text_hash=tagged.content_hash)
            if verdict.kind == "same_item":
                report.duplicates += 1
                _record_repeat(session, planned, run_id, "same_item")
                continue
            duplicate_of = None
            if verdict.kind == "duplicate" and verdict.of is not None:
                duplicate_of = deduper.key_for(verdict.of)
            article_id, created = repo.insert_article(
                session,
                tagged,
                item_key=planned.key,
                duplicate_of_key=duplicate_of,
                known_tag_ids=known_tag_ids,
                source_modified=planned.lead.modified,
            )
            deduper.add(article, key=planned.key, text_hash=tagged.content_hash)
            repo.record_sighting(
                session,
                article_id=article_id,
                source_id=planned.source.id,
                url=planned.lead.url,
                guid=planned.lead.guid,
                verdict=verdict.kind if created else "same_item",
                run_id=run_id,
            )
            if not created or duplicate_of is not None:
                report.duplicates += 1
                continue
            report.new += 1
            result.new_article_ids.append(article_id)
            for rule in matching_rules(alerts.rules, tagged):
                for channel in rule.channels:
                    queued = repo.enqueue_alert(
                        session, article_id=article_id, rule=rule.id, channel=channel
                    )
                    result.alerts_queued += int(queued)
    return result


def _record_repeat(session: Session, planned: Planned, run_id: int, verdict: str) -> None:
    article_id = repo.article_id_for_key(session, planned.key)
    if article_id is None:
        return
    repo.record_sighting(
        session,
        article_id=article_id,
        source_id=planned.source.id,
        url=planned.lead.url,
        guid=planned.lead.guid,
        verdict=verdict,
        run_id=run_id,
    )


def batches(items: Sequence[Fetched], size: int = BATCH_SIZE) -> Iterable[Sequence[Fetched]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Stages:
    """The stage callables a run uses; the Prefect flow swaps in task-wrapped versions."""

    discover: Callable[..., Awaitable[list[Lead]]] = discover_source
    fetch: Callable[[Sequence[Planned], Fetcher], Awaitable[list[Fetched]]] = fetch_items
    process: Callable[..., Any] = process_batch


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
    options: dict[str, Any] | None = None,
    stages: Stages | None = None,
    clock: StageClock | None = None,
) -> RunResult:
    """One run over ``sources``: discover, plan, fetch, process; recorded in ``runs``.

    ``now`` stands for the wall clock where a source asks "until today" (replays pass the time
    their answers were recorded).
    """
    stages = stages or Stages()
    clock = clock or StageClock()
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, sources)
        known_tag_ids = sync_taxonomy(session, tagger)
        run_id = repo.start_run(session, flow_run_id=flow_run_id, options=options or {})
    reports = {source.id: SourceReport(source.id) for source in sources}

    async def guarded_discover(source: Source) -> tuple[Source, list[Lead]]:
        try:
            leads = await stages.discover(source, fetcher, since, now)
        except Exception as exc:  # one source failing must not stop the others
            reports[source.id].error = _describe(source, exc)
            return source, []
        reports[source.id].found = len(leads)
        reports[source.id].notes.extend(notes_of(leads))
        return source, leads

    with clock.stage("discover"):
        discovered = await asyncio.gather(*(guarded_discover(source) for source in sources))
    with Session(engine) as session:
        keys = [lead_key(source, lead) for source, leads in discovered for lead in leads]
        known = repo.stored_markers(session, keys)
        deduper = seed_deduper(session)
    plan = plan_items(discovered, known)

    async def guarded_fetch(source: Source) -> list[Fetched]:
        own = [item for item in plan if item.source.id == source.id]
        try:
            return await stages.fetch(own, fetcher)
        except Exception as exc:
            reports[source.id].error = _describe(source, exc)
            return []

    with clock.stage("fetch"):
        fetched_per_source = await asyncio.gather(*(guarded_fetch(source) for source in sources))
    fetched = [item for items in fetched_per_source for item in items]

    new_ids: list[int] = []
    queued = 0
    for batch in batches(fetched):
        with clock.stage("process"):
            outcome: BatchResult = stages.process(
                batch,
                engine=engine,
                run_id=run_id,
                tagger=tagger,
                deduper=deduper,
                alerts=alerts,
                reports=reports,
                known_tag_ids=known_tag_ids,
                clock=clock,
            )
        new_ids.extend(outcome.new_article_ids)
        queued += outcome.alerts_queued

    for report in reports.values():
        if report.skipped:
            report.notes.append(_skipped_note(report.skipped))
    status = _run_status(reports)
    # Validators are kept only for sources that stored everything they found: a 304 next run
    # lists nothing, so a feed whose items were not all stored must be read in full again.
    complete = [sid for sid, r in reports.items() if r.error is None and not r.errors]
    with Session(engine) as session, session.begin():
        save_validators(session, fetcher.new_validators(complete))
        for report in reports.values():
            error = report.error
            if error is None and report.item_errors:
                shown = "; ".join(report.item_errors[:3])
                more = len(report.item_errors) - 3
                error = shown + (f" (+{more} more)" if more > 0 else "")
            if error is None and report.notes:
                error = "; ".join(report.notes)
            repo.record_source_result(
                session,
                run_id,
                report.source_id,
                status=report.status,
                found=report.found,
                new=report.new,
                duplicates=report.duplicates,
                errors=report.errors + (1 if report.error else 0),
                error=error,
            )
        repo.finish_run(session, run_id, status)
    return RunResult(run_id, status, reports, new_ids, queued)


def _skipped_note(skipped: Sequence[str]) -> str:
    """A run-record note listing the URLs robots.txt kept from being fetched."""
    shown = "; ".join(skipped[:3])
    more = f" (+{len(skipped) - 3} more)" if len(skipped) > 3 else ""
    return f"{len(skipped)} URL(s) skipped, disallowed by robots.txt: {shown}{more}"


def _describe(source: Source, exc: BaseException) -> str:
    """A run-record message naming the source and the fault."""
    kind = type(exc).__name__
    return f"source {source.id!r}: {kind}: {exc}"


def _run_status(reports: dict[str, SourceReport]) -> str:
    failed = any(r.error for r in reports.values())
    item_errors = any(r.errors or r.notes for r in reports.values())
    if failed and all(r.error for r in reports.values()):
        return "failed"
    return "completed_with_errors" if failed or item_errors else "completed"


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
