"""Stage 4, process a batch: build, tag, dedupe and store fetched items; queue their alerts.

First, without the database, each item is built and tagged (``build``); a text longer than
``MAX_TEXT_CHARS`` is cut, and the cut recorded. Then, in one transaction, the batch asks the
store which stored articles share its keys, URLs and content hashes (so a run's cost does not
grow with the history stored), and each item is stored in order: a new article with its tags,
sighting and alerts; a repeat as a sighting; a changed item as an update, unless the new
version would destroy the stored one (an empty body, or one under a third of the stored
length: the stored version is kept and the refusal recorded). The batch returns what it did;
it changes nothing it was given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.alerts.config import AlertsConfig
from pipeline.alerts.rules import matching_rules
from pipeline.clean import clip_text
from pipeline.dedupe import Deduper, content_hash
from pipeline.errors import NewswatchError
from pipeline.ingest.build import build_article
from pipeline.ingest.records import Action, BatchResult, Fetched, Planned, StageClock
from pipeline.models import Tag, TaggedArticle
from pipeline.store import repo
from pipeline.tag import Tagger

# The longest text stored: about 40,000 words, far past any news article or regulator release,
# while a 5 MB page of one line stays 5 MB no more.
MAX_TEXT_CHARS = 200_000
# An update whose text is under this share of the stored text is a broken answer (an empty
# content endpoint, an error page), not an edit: the stored version is kept.
MIN_UPDATE_SHARE = 1 / 3


@dataclass(frozen=True)
class Prepared:
    """A fetched item with its tagged article, ready to store (or why there is none)."""

    item: Fetched
    tagged: TaggedArticle | None = None
    error: str | None = None
    # The length of the text before it was cut to ``MAX_TEXT_CHARS``, when it was.
    clipped_from: int | None = None


def process_batch(
    items: Sequence[Fetched],
    *,
    engine: Engine,
    run_id: int,
    tagger: Tagger,
    alerts: AlertsConfig,
    known_tag_ids: Collection[str] = frozenset(),
) -> BatchResult:
    """Build, tag, dedupe and store one batch; ``known_tag_ids`` are tag rows stored already."""
    clock = StageClock()
    result = BatchResult()
    prepared = [_prepare(item, tagger, clock) for item in items]
    with Session(engine) as session, session.begin():
        stored_tags = _store_new_tags(session, prepared, known_tag_ids)
        with clock.stage("dedupe"):
            deduper = _batch_deduper(session, prepared)
        updated = [e.item.planned.key for e in prepared if e.item.planned.action is Action.update]
        lengths = repo.stored_text_lengths(session, updated) if updated else {}
        writer = BatchWriter(
            session, run_id, deduper, alerts, stored_tags, clock, result, lengths
        )
        for entry in prepared:
            writer.store(entry)
    result.seconds = dict(clock.seconds)
    return result


def _prepare(item: Fetched, tagger: Tagger, clock: StageClock) -> Prepared:
    """Extract and tag an item that needs it (no database)."""
    action = item.planned.action
    if action in (Action.known, Action.claimed) or item.skipped or item.error:
        return Prepared(item)
    try:
        with clock.stage("extract"):
            article = build_article(item)
    except NewswatchError as exc:
        return Prepared(item, error=str(exc))
    clipped_from = None
    if len(article.text) > MAX_TEXT_CHARS:
        clipped_from = len(article.text)
        article = dataclasses.replace(article, text=clip_text(article.text, MAX_TEXT_CHARS))
    with clock.stage("tag"):
        tags = tuple(tagger.tag_article(article))
    tagged = TaggedArticle(article, tags, content_hash(article.text), tagger.version)
    return Prepared(item, tagged, clipped_from=clipped_from)


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


def _batch_deduper(session: Session, prepared: Sequence[Prepared]) -> Deduper:
    """A deduper holding the stored articles that share a key, URL or hash with this batch."""
    new = [
        (entry.item.planned.key, entry.tagged)
        for entry in prepared
        if entry.tagged is not None and entry.item.planned.action is not Action.update
    ]
    keys = [key for key, _ in new]
    urls = [tagged.article.canonical_url or tagged.article.url for _, tagged in new]
    hashes = [tagged.content_hash for _, tagged in new]
    deduper = Deduper()
    for key, canonical, digest in repo.dedupe_matches(session, keys, urls, hashes):
        deduper.remember(key, canonical, digest)
    return deduper


@dataclass
class BatchWriter:
    """Stores a batch's prepared items in order, in the caller's transaction."""

    session: Session
    run_id: int
    deduper: Deduper
    alerts: AlertsConfig
    stored_tags: frozenset[str]
    clock: StageClock
    result: BatchResult
    # Stored text length of each item this batch updates.
    stored_lengths: dict[str, int]

    def store(self, entry: Prepared) -> None:
        """Store one prepared item and count what happened to it on its source's report."""
        item, planned = entry.item, entry.item.planned
        report = self.result.report(planned.source.id)
        if planned.action in (Action.known, Action.claimed):
            report.duplicates += 1
            self._record_repeat(planned)
        elif item.skipped is not None:
            report.skipped.append(item.skipped)
        elif planned.action is Action.update:
            self._update(entry)
        elif entry.tagged is None:
            report.errors += 1
            report.item_errors.append(str(item.error or entry.error))
        else:
            self._store_new(planned, entry.tagged)
        if entry.clipped_from is not None:
            report.clipped.append(f"{planned.lead.url} ({entry.clipped_from:,} characters)")

    def _update(self, entry: Prepared) -> None:
        """Replace a stored item with its new version, unless that would destroy it."""
        planned = entry.item.planned
        report = self.result.report(planned.source.id)
        refusal = update_refusal(entry, self.stored_lengths.get(planned.key, 0))
        if refusal is not None or entry.tagged is None:
            report.errors += 1
            report.item_errors.append(
                f"{planned.lead.url}: update refused, the stored version is kept: {refusal}"
            )
            return
        repo.update_article(
            self.session, entry.tagged, item_key=planned.key, source_modified=planned.lead.modified
        )
        report.updated += 1

    def _store_new(self, planned: Planned, tagged: TaggedArticle) -> None:
        """Store an item not stored before: a new article, or a copy of one (a duplicate)."""
        report = self.result.report(planned.source.id)
        with self.clock.stage("dedupe"):
            verdict = self.deduper.check(
                tagged.article, key=planned.key, text_hash=tagged.content_hash
            )
        if verdict.kind == "same_item":
            report.duplicates += 1
            self._record_repeat(planned)
            return
        duplicate_of = None
        if verdict.kind == "duplicate" and verdict.of is not None:
            duplicate_of = self.deduper.key_for(verdict.of)
        article_id, created = repo.insert_article(
            self.session,
            tagged,
            item_key=planned.key,
            duplicate_of_key=duplicate_of,
            known_tag_ids=self.stored_tags,
            source_modified=planned.lead.modified,
        )
        self.deduper.add(tagged.article, key=planned.key, text_hash=tagged.content_hash)
        self._record_sighting(planned, article_id, verdict.kind if created else "same_item")
        if not created or duplicate_of is not None:
            report.duplicates += 1
            return
        report.new += 1
        self.result.new_article_ids.append(article_id)
        self._queue_alerts(article_id, tagged)

    def _queue_alerts(self, article_id: int, tagged: TaggedArticle) -> None:
        for rule in matching_rules(self.alerts.rules, tagged):
            for channel in rule.channels:
                queued = repo.enqueue_alert(
                    self.session, article_id=article_id, rule=rule.id, channel=channel
                )
                self.result.alerts_queued += int(queued)

    def _record_repeat(self, planned: Planned) -> None:
        """Note that the source carried an item stored already."""
        article_id = repo.article_id_for_key(self.session, planned.key)
        if article_id is not None:
            self._record_sighting(planned, article_id, "same_item")

    def _record_sighting(self, planned: Planned, article_id: int, verdict: str) -> None:
        repo.record_sighting(
            self.session,
            article_id=article_id,
            source_id=planned.source.id,
            url=planned.lead.url,
            guid=planned.lead.guid,
            verdict=verdict,
            run_id=self.run_id,
        )
