"""Re-tag stored articles after ``taxonomy.toml`` changes, writing only what changed.

An article is considered when its ``taxonomy_version`` differs from the tagger's (or always, with
``all_articles``). Its tags are computed again from the stored title, text, entities and
categories and handed to the store, which compares them with the stored links: a link that is
the same (count, title, lead, evidence) is left as it is, so its ``taxonomy_version`` keeps
naming the version that last changed it; links that appear, vanish or change are written. The
article's own ``taxonomy_version`` always moves to the current version, so the next retag skips
it. Batches are written in their own transactions, so a re-run picks up where one stopped.
The fingerprints that story grouping compares are refiled for the articles whose tags changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.store import repo
from pipeline.tag import Tagger

# Articles per transaction: a crash loses at most this much work, and one IN (...) list of
# ids stays far below SQLite's bound-parameter limit.
RETAG_BATCH = 200


@dataclass(frozen=True)
class TagChange:
    """How many articles gained and lost one tag in a retag."""

    tag_id: str
    name: str
    gained: int
    lost: int


@dataclass
class RetagReport:
    """What a retag did: articles considered and rewritten, and the per-tag changes."""

    taxonomy_version: str
    considered: int = 0
    rewritten: int = 0
    gained: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def unchanged(self) -> int:
        """Articles whose tags came out exactly as stored."""
        return self.considered - self.rewritten

    def changes(self) -> list[TagChange]:
        """Per-tag gains and losses, most changed first."""
        rows = [
            TagChange(key, self.names.get(key, key), self.gained[key], self.lost[key])
            for key in set(self.gained) | set(self.lost)
        ]
        return sorted(rows, key=lambda c: (-(c.gained + c.lost), c.tag_id))

    def merge(self, other: RetagReport) -> None:
        """Add another batch's counts to these."""
        self.considered += other.considered
        self.rewritten += other.rewritten
        self.gained.update(other.gained)
        self.lost.update(other.lost)
        self.names.update(other.names)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able summary."""
        return {
            "taxonomy_version": self.taxonomy_version,
            "considered": self.considered,
            "rewritten": self.rewritten,
            "unchanged": self.unchanged,
            "tags": [
                {"id": c.tag_id, "name": c.name, "gained": c.gained, "lost": c.lost}
                for c in self.changes()
            ],
        }


def retag_batch(session: Session, tagger: Tagger, ids: Sequence[int]) -> RetagReport:
    """Re-tag the articles ``ids`` within the caller's transaction; what changed in them.

    The taxonomy's tag rows must exist already (``repo.sync_taxonomy``).
    """
    report = RetagReport(taxonomy_version=tagger.version)
    wanted = {
        article_id: tagger.tag_article(article)
        for article_id, article in repo.articles_to_tag(session, ids)
    }
    names = {tag.id: tag.name for tags in wanted.values() for tag in tags}
    retagged: list[int] = []
    for article_id, change in repo.rewrite_links(session, wanted, tagger.version).items():
        report.considered += 1
        if not change.any:
            continue
        retagged.append(article_id)
        report.rewritten += 1
        report.gained.update(change.added)
        report.lost.update(change.removed)
        report.names.update((tag_id, names[tag_id]) for tag_id in change.added)
    # Stories compare articles on their tags: the fingerprints of those whose tags changed are
    # filed again (their stories stay as they are until ``newswatch stories rebuild``).
    repo.file_prints(session, repo.fresh_prints(session, retagged), replace_old=True)
    return report


def retag_one_batch(engine: Engine, tagger: Tagger, ids: Sequence[int]) -> RetagReport:
    """Re-tag one batch of articles in its own transaction."""
    with Session(engine) as session, session.begin():
        return retag_batch(session, tagger, ids)


RunBatch = Callable[[Engine, Tagger, Sequence[int]], RetagReport]
# Told (articles done, articles to do) before the first batch and after each one.
Progress = Callable[[int, int | None], None]


def _chunks(ids: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def retag_articles(
    engine: Engine,
    tagger: Tagger,
    *,
    all_articles: bool = False,
    batch_size: int = RETAG_BATCH,
    run_batch: RunBatch = retag_one_batch,
    progress: Progress | None = None,
) -> RetagReport:
    """Re-tag stored articles with ``tagger``'s taxonomy; see the module docstring.

    ``run_batch`` runs one batch (the Prefect flow passes a task wrapping ``retag_one_batch``);
    ``progress(done, total)`` hears of each batch done.
    """
    report = RetagReport(taxonomy_version=tagger.version)
    with Session(engine) as session, session.begin():
        repo.sync_taxonomy(session, tagger.nodes)
        ids = repo.article_ids_to_retag(session, tagger.version, all_articles=all_articles)
    done = 0
    if progress is not None:
        progress(done, len(ids))
    for chunk in _chunks(ids, batch_size):
        report.merge(run_batch(engine, tagger, list(chunk)))
        done += len(chunk)
        if progress is not None:
            progress(done, len(ids))
    # A removed node's name is only in its stored row now.
    missing = set(report.lost) - set(report.names)
    if missing:
        with Session(engine) as session:
            report.names.update(repo.tag_names(session, missing))
    return report
