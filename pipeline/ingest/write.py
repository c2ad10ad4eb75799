"""Stage 4b, write a batch: each prepared item's verdict in order, then every write of the
batch in a few statements.

Items are judged one after another, so a copy later in the batch finds the article earlier in
it; an article needs no row id to be judged, only to be written. So the verdicts come first
(``BatchWriter.store``) and the writes after (``BatchWriter.flush``): the stories the batch
starts, then the new articles, each with its story id, in one multi-row INSERT, then their tag
links, sightings, alerts, fingerprints, story links and summaries, each in one statement for
the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from pipeline.alerts.config import AlertsConfig
from pipeline.alerts.owed import Placed, owed_alerts
from pipeline.alerts.rules import MatchSubject
from pipeline.dedupe import Deduper
from pipeline.ingest.records import Action, BatchResult, Planned, StageClock
from pipeline.models import TaggedArticle, Verdict
from pipeline.store import repo
from pipeline.stories.features import Fingerprint

# Verdicts of a copy: stored and grouped, but counted as duplicates (alerted as their story is).
COPIES = frozenset({"duplicate", "near_duplicate"})


@dataclass(frozen=True)
class Judged:
    """A new item with its verdict, waiting to be written."""

    planned: Planned
    tagged: TaggedArticle
    print: Fingerprint
    verdict: Verdict


@dataclass
class BatchWriter:
    """Judges a batch's new items in order, then writes the batch in the caller's transaction."""

    session: Session
    run_id: int
    deduper: Deduper
    alerts: AlertsConfig
    clock: StageClock
    result: BatchResult
    # Row id of every stored article the deduper holds, by item key.
    ids: dict[str, int]
    # The first run on an empty store: items published before this are baselined, not sent.
    baseline_before: datetime | None = None
    judged: list[Judged] = field(default_factory=list)
    repeats: list[Planned] = field(default_factory=list)
    refiled: list[tuple[int, Fingerprint]] = field(default_factory=list)
    updated: list[tuple[int, TaggedArticle]] = field(default_factory=list)

    def judge(self, planned: Planned, tagged: TaggedArticle, print_: Fingerprint) -> None:
        """Decide what a new item is (new, a copy, a translation, a write-up, a repeat)."""
        with self.clock.stage("dedupe"):
            verdict = self.deduper.check_print(print_)
            if verdict.kind != "same_item":
                self.deduper.add_print(print_)
        if verdict.kind == "same_item":
            self.repeat(planned)
        else:
            self.judged.append(Judged(planned, tagged, print_, verdict))

    def repeat(self, planned: Planned) -> None:
        """An item stored already: counted, and its sighting noted at the flush."""
        self.result.report(planned.source.id).duplicates += 1
        self.repeats.append(planned)

    def refile(self, article_id: int, print_: Fingerprint) -> None:
        """An updated article: filed again under its new fingerprint, in the same story."""
        self.refiled.append((article_id, print_))

    def changed(self, article_id: int, tagged: TaggedArticle) -> None:
        """An updated article: rules that ask to hear of changes may alert on it."""
        self.updated.append((article_id, tagged))

    def flush(self) -> None:
        """Write everything judged: articles in their stories, links, sightings, alerts,
        fingerprints, story summaries."""
        # Stories first, so each article row is written once with its story id.
        with self.clock.stage("stories"):
            story_of = repo.plan_stories(self.session, [self._joining(j) for j in self.judged])
        rows = [self._new_row(j, story_of[j.planned.key]) for j in self.judged]
        created = repo.insert_articles(self.session, rows)
        self.ids.update(created)
        written = [j for j in self.judged if j.planned.key in created]
        lost = [j for j in self.judged if j.planned.key not in created]
        for judged in lost:
            self.repeat(judged.planned)  # stored by a run at the same time
        with self.clock.stage("stories"):
            self._mark_in_batch_copies(written)
            self._sightings(written)
            self._count(written)
            repo.file_prints(self.session, [(self.ids[j.planned.key], j.print) for j in written])
            repo.file_prints(self.session, self.refiled, replace_old=True)
            placed = {self.ids[j.planned.key]: story_of[j.planned.key] for j in written}
            # A story planned for a lost article is removed if no article of the batch joined it.
            vacated = {story_of[j.planned.key] for j in lost}
            stories = repo.place_articles(
                self.session, [self._placement(j) for j in written], placed, vacated
            )
        self._alert(written, stories)

    def _joining(self, judged: Judged) -> repo.Joining:
        """What a judged item joins: a stored article by id, else one earlier in the batch."""
        of = judged.verdict.of_key
        stored = self.ids.get(of) if of else None
        return repo.Joining(judged.planned.key, stored, of if stored is None else None)

    def _new_row(self, judged: Judged, story_id: int) -> repo.NewArticle:
        copy_of = self._copy_of(judged)
        return repo.NewArticle(
            judged.tagged,
            judged.planned.key,
            duplicate_of_id=self.ids.get(copy_of) if copy_of else None,
            source_modified=judged.planned.lead.modified,
            story_id=story_id,
        )

    def _copy_of(self, judged: Judged) -> str | None:
        """The key of the article this one copies, if it is a copy."""
        return judged.verdict.of_key if judged.verdict.kind in COPIES else None

    def _mark_in_batch_copies(self, written: list[Judged]) -> None:
        """Copies of articles earlier in this batch learn their original's id only now."""
        copies = {
            self.ids[j.planned.key]: self.ids[of]
            for j in written
            if (of := self._copy_of(j)) is not None and of in self.ids
        }
        repo.mark_copies(self.session, copies)

    def _sightings(self, written: list[Judged]) -> None:
        rows = [self._sighting(j.planned, self.ids[j.planned.key], j.verdict.kind) for j in written]
        known = repo.article_ids_for_keys(
            self.session, [p.key for p in self.repeats if p.key not in self.ids]
        )
        for planned in self.repeats:
            article_id = self.ids.get(planned.key) or known.get(planned.key)
            if article_id is not None:
                rows.append(self._sighting(planned, article_id, "same_item"))
        repo.record_sightings(self.session, rows)

    def _sighting(self, planned: Planned, article_id: int, verdict: str) -> repo.SightingRow:
        lead = planned.lead
        return repo.SightingRow(
            article_id, planned.source.id, lead.url, lead.guid, verdict, self.run_id
        )

    def _count(self, written: list[Judged]) -> None:
        for judged in written:
            report = self.result.report(judged.planned.source.id)
            if judged.verdict.kind in COPIES:
                report.duplicates += 1
            else:
                report.new += 1
                self.result.new_article_ids.append(self.ids[judged.planned.key])

    def _alert(self, written: list[Judged], stories: dict[int, int]) -> None:
        """Queue the alerts the batch's articles and updates owe, in the same transaction."""
        placed = [
            Placed(
                article_id=(article_id := self.ids[j.planned.key]),
                story_id=stories[article_id],
                subject=MatchSubject.from_tagged(j.tagged),
                published_at=j.tagged.article.published_at,
                joined=j.verdict.kind != "new",
            )
            for j in written
        ]
        if self.updated:
            story_of = repo.stories_of(self.session, [a for a, _ in self.updated])
            placed.extend(
                Placed(
                    article_id=article_id,
                    story_id=story,
                    subject=MatchSubject.from_tagged(tagged),
                    published_at=tagged.article.published_at,
                    joined=True,
                    event=f"update:{tagged.content_hash[:12]}",
                )
                for article_id, tagged in self.updated
                if (story := story_of.get(article_id)) is not None
            )
        joined = {p.story_id for p in placed if p.joined}
        owed = owed_alerts(
            placed,
            self.alerts.rules,
            alerted=repo.alerted_channels(self.session, joined),
            now=repo.utc_now(),
            baseline_before=self.baseline_before,
        )
        self.result.alerts_queued += repo.enqueue_alerts(self.session, owed)

    def _placement(self, judged: Judged) -> repo.Placement:
        verdict = judged.verdict
        linked = self.ids.get(verdict.of_key) if verdict.of_key else None
        kind = None if verdict.kind == "new" else verdict.kind
        return repo.Placement(self.ids[judged.planned.key], linked, kind, verdict.score)


def is_repeat(planned: Planned) -> bool:
    """Whether the plan already knows the item is stored (or claimed by another run)."""
    return planned.action in (Action.known, Action.claimed)
