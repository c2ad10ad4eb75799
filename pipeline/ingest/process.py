"""Stage 4, process a batch: build, tag, group into stories and store fetched items; queue
their alerts.

First, without the database, each item is built, tagged and fingerprinted (``prepare``).
Then, in one transaction, the batch asks the store which stored articles share its keys, URLs,
hashes, reference numbers, signature bands or title pairs (so a run's cost does not grow with
the history stored), and each item is stored in order: a new article with its tags, sighting and
alerts, in the story of the article it matched or a story of its own; a repeat as a sighting; a
changed item as an update (same story), unless the new version would destroy the stored one
(an empty body, or one under a third of the stored length: the stored version is kept and the
refusal recorded). Fingerprints, links and stories are written once per batch. The batch
returns what it did; it changes nothing it was given.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.alerts.config import AlertsConfig
from pipeline.dedupe import Deduper
from pipeline.ingest.prepare import Prepared, prepare_batch
from pipeline.ingest.records import Action, BatchResult, Fetched, StageClock
from pipeline.ingest.write import BatchWriter, is_repeat
from pipeline.models import Tag
from pipeline.store import repo
from pipeline.tag import Tagger

# An update whose text is under this share of the stored text is a broken answer (an empty
# content endpoint, an error page), not an edit: the stored version is kept.
MIN_UPDATE_SHARE = 1 / 3


def process_batch(
    items: Sequence[Fetched],
    *,
    engine: Engine,
    run_id: int,
    tagger: Tagger,
    alerts: AlertsConfig,
    known_tag_ids: Collection[str] = frozenset(),
    baseline_before: datetime | None = None,
) -> BatchResult:
    """Build, tag, dedupe and store one batch; ``known_tag_ids`` are tag rows stored already.

    On the first run, alerts of items published before ``baseline_before`` are stored as
    baselined, not sent."""
    clock = StageClock()
    result = BatchResult()
    prepared = prepare_batch(items, tagger, clock)
    with Session(engine) as session, session.begin():
        _store_new_tags(session, prepared, known_tag_ids)
        with clock.stage("dedupe"):
            deduper, ids = _batch_deduper(session, prepared)
        updated = [e.item.planned.key for e in prepared if e.item.planned.action is Action.update]
        lengths = repo.stored_text_lengths(session, updated) if updated else {}
        writer = BatchWriter(session, run_id, deduper, alerts, clock, result, ids, baseline_before)
        for entry in prepared:
            _dispatch(entry, writer, lengths)
        writer.flush()
    result.seconds = dict(clock.seconds)
    return result


def _dispatch(entry: Prepared, writer: BatchWriter, stored_lengths: dict[str, int]) -> None:
    """Hand one prepared item to the writer as what it is, and count it on its report."""
    item, planned = entry.item, entry.item.planned
    report = writer.result.report(planned.source.id)
    if is_repeat(planned):
        writer.repeat(planned)
    elif item.skipped is not None:
        report.skipped.append(item.skipped)
    elif planned.action is Action.update:
        _update(entry, writer, stored_lengths.get(planned.key, 0))
    elif entry.tagged is None or entry.print is None:
        report.errors += 1
        report.item_errors.append(str(item.error or entry.error))
    else:
        writer.judge(planned, entry.tagged, entry.print)
    if entry.clipped_from is not None:
        report.clipped.append(f"{planned.lead.url} ({entry.clipped_from:,} characters)")


def _update(entry: Prepared, writer: BatchWriter, stored_length: int) -> None:
    """Replace a stored item with its new version, unless that would destroy it."""
    planned = entry.item.planned
    report = writer.result.report(planned.source.id)
    refusal = update_refusal(entry, stored_length)
    if refusal is not None or entry.tagged is None:
        report.errors += 1
        report.item_errors.append(
            f"{planned.lead.url}: update refused, the stored version is kept: {refusal}"
        )
        return
    article_id = repo.update_article(
        writer.session, entry.tagged, item_key=planned.key, source_modified=planned.lead.modified
    )
    if entry.print is not None:
        writer.refile(article_id, entry.print)
    writer.changed(article_id, entry.tagged)
    report.updated += 1


def update_refusal(entry: Prepared, stored_length: int) -> str | None:
    """Why an update must not replace the stored version, or None when it may."""
    if entry.tagged is None:
        return entry.error or entry.item.error
    new = entry.tagged.article.text.strip()
    lead = entry.item.planned.lead
    # A page with no body gets the lead's title or summary as its text (see ``build``).
    if not new or new in (lead.title.strip(), lead.summary.strip()):
        return "the new version has no body"
    if len(new) < stored_length * MIN_UPDATE_SHARE:
        return (
            f"the new text has {len(new):,} characters, under a third of the stored"
            f" {stored_length:,}"
        )
    return None


def _store_new_tags(
    session: Session, prepared: Sequence[Prepared], known: Collection[str]
) -> frozenset[str]:
    """Store the rows of the batch's tags not stored yet (names sources attach), in one go."""
    fresh: dict[str, Tag] = {}
    for entry in prepared:
        if entry.tagged is not None:
            fresh.update((tag.id, tag) for tag in entry.tagged.tags if tag.id not in known)
    if fresh:
        repo.upsert_tags(session, list(fresh.values()))
    return frozenset(known) | frozenset(fresh)


def _batch_deduper(
    session: Session, prepared: Sequence[Prepared]
) -> tuple[Deduper, dict[str, int]]:
    """A deduper holding the stored articles this batch's new items may join, oldest first,
    and the row id of each by item key."""
    prints = [
        entry.print
        for entry in prepared
        if entry.print is not None and entry.item.planned.action is not Action.update
    ]
    deduper = Deduper()
    ids: dict[str, int] = {}
    for stored in repo.find_candidates(session, prints) if prints else []:
        if stored.apart:  # split off by an analyst: nothing joins it
            continue
        deduper.add_print(stored.print, stored.found_by)
        ids[stored.print.key] = stored.article_id
    return deduper, ids
