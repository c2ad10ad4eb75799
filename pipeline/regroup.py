"""Rebuild stories over the stored articles (after a threshold or taxonomy change), writing
only what changed.

Two passes, one transaction, so a failed rebuild changes nothing. First every article's
fingerprint is computed again from its stored title, text and tags, and filed anew where its
keys differ from those stored. Then the articles are replayed in time order, as ingestion met
them: each is checked against the articles before it that share a key (``pipeline.dedupe``),
and joins the story of the one it matches. An article an analyst split off stays a story of
its own: it joins nothing and nothing joins it. A
group keeps the story id its first article had, so stories that did not change keep their ids;
only articles whose story or link changed are written, and stories left empty are removed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.dedupe import Deduper
from pipeline.store import repo

# Articles read and compared per step: one IN (...) list each, well under SQLite's limits.
REBUILD_BATCH = 500

# Told (steps done, steps to do) after each batch: every article is a step twice, once when
# its fingerprint is refiled and once when it is replayed.
Progress = Callable[[int, int | None], None]


@dataclass
class RebuildReport:
    """What a rebuild did."""

    articles: int = 0
    refiled: int = 0
    relinked: int = 0
    moved: int = 0
    stories_before: int = 0
    stories_after: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for ``--format json``)."""
        return asdict(self)


@dataclass
class Grouping:
    """The replay's result: each article's group (its first article) and link."""

    group_of: dict[int, int]
    links: dict[int, repo.Placement]


def rebuild_stories(engine: Engine, *, progress: Progress | None = None) -> RebuildReport:
    """Recompute fingerprints and stories for every stored article; write what changed.

    ``progress(done, total)`` hears of each batch of either pass (see ``Progress``).
    """
    report = RebuildReport()
    tell = progress or _silent
    with Session(engine) as session, session.begin():
        order = repo.articles_in_time_order(session)
        report.articles = len(order)
        report.stories_before = repo.story_count(session)
        steps = 2 * len(order)
        tell(0, steps)
        for start in range(0, len(order), REBUILD_BATCH):
            report.refiled += _refile(session, order[start : start + REBUILD_BATCH])
            tell(min(start + REBUILD_BATCH, len(order)), steps)
        grouping = _replay(session, order, lambda done: tell(len(order) + done, steps))
        _write(session, order, grouping, report)
        report.stories_after = repo.story_count(session)
    return report


def _refile(session: Session, ids: Sequence[int]) -> int:
    """File the articles ``ids`` under their keys afresh where the keys changed."""
    filed = repo.filed_keys(session, ids)
    changed = [
        (article_id, print_)
        for article_id, print_ in repo.fresh_prints(session, ids)
        if filed.get(article_id) != (repo.tags_json(print_), set(print_.stored_keys()))
    ]
    repo.file_prints(session, changed, replace_old=True)
    return len(changed)


def _silent(done: int, total: int | None) -> None:
    """No one listens to the progress."""


def _replay(session: Session, order: Sequence[int], replayed: Callable[[int], None]) -> Grouping:
    """Each article, in time order, checked against the earlier ones that share a key;
    ``replayed`` hears how many are done after each batch."""
    position = {article_id: index for index, article_id in enumerate(order)}
    grouping = Grouping({}, {})
    for start in range(0, len(order), REBUILD_BATCH):
        ids = order[start : start + REBUILD_BATCH]
        prints = repo.with_shingles(session, repo.load_prints(session, ids), ids)
        prints.sort(key=lambda stored: position[stored.article_id])
        deduper, id_of = Deduper(), {}
        for stored in repo.find_candidates(session, [p.print for p in prints]):
            if position[stored.article_id] < start and not stored.apart:
                deduper.add_print(stored.print)
                id_of[stored.print.key] = stored.article_id
        for stored in prints:
            _place(stored, deduper, id_of, grouping)
        replayed(start + len(ids))
    return grouping


def _place(
    stored: repo.StoredPrint,
    deduper: Deduper,
    id_of: dict[str, int],
    grouping: Grouping,
) -> None:
    """Group one article with the earlier one it matches; one split off stays alone."""
    article_id = stored.article_id
    if stored.apart:
        grouping.group_of[article_id] = article_id
        return
    verdict = deduper.check_print(stored.print)
    deduper.add_print(stored.print)
    id_of[stored.print.key] = article_id
    linked = id_of.get(verdict.of_key) if verdict.of_key else None
    if linked is None or verdict.kind in ("new", "same_item"):
        grouping.group_of[article_id] = article_id
        return
    grouping.group_of[article_id] = grouping.group_of[linked]
    grouping.links[article_id] = repo.Placement(article_id, linked, verdict.kind, verdict.score)


def _write(
    session: Session, order: Sequence[int], grouping: Grouping, report: RebuildReport
) -> None:
    """Write the stories and links that differ from those stored."""
    current = repo.stories_of(session, order)
    links = repo.stored_links(session, order)
    story_of_group: dict[int, int] = {}
    claimed: set[int] = set()
    needs_new: list[int] = []
    for article_id in order:
        if grouping.group_of[article_id] != article_id:
            continue
        # A group keeps the story its first article is in, unless an earlier group took it.
        story = current.get(article_id)
        if story is None or story in claimed:
            needs_new.append(article_id)
        else:
            story_of_group[article_id] = story
            claimed.add(story)
    for group, story in zip(needs_new, repo.create_stories(session, len(needs_new)), strict=True):
        story_of_group[group] = story
    moves = {
        article_id: story_of_group[grouping.group_of[article_id]]
        for article_id in order
        if current.get(article_id) != story_of_group[grouping.group_of[article_id]]
    }
    repo.set_stories(session, moves)
    report.moved = len(moves)
    _write_links(session, order, grouping, links, report)
    left = {story for article_id in moves if (story := current.get(article_id)) is not None}
    repo.refresh_stories(session, left | set(moves.values()))


def _write_links(
    session: Session,
    order: Sequence[int],
    grouping: Grouping,
    stored: dict[int, repo.Placement],
    report: RebuildReport,
) -> None:
    changed = [
        link
        for article_id, link in grouping.links.items()
        if _link_key(stored.get(article_id)) != _link_key(link)
    ]
    gone = [
        article_id
        for article_id in order
        if article_id in stored
        and article_id not in grouping.links
        and stored[article_id].kind != "split"
    ]
    repo.write_links(session, changed)
    repo.drop_links(session, gone)
    report.relinked = len(changed) + len(gone)


def _link_key(link: repo.Placement | None) -> tuple[Any, ...] | None:
    if link is None:
        return None
    return (link.linked_article_id, link.kind, round(link.score, 3))


def split_article(engine: Engine, article_id: int) -> tuple[int, int]:
    """Take one article out of its story; returns (the story it left, its own new story)."""
    with Session(engine) as session, session.begin():
        return repo.split_off(session, article_id)
