"""Stories in the store: placing articles in stories, keeping each story's summary current,
splitting a wrong link, and the reads analysts make.

Every stored article belongs to exactly one story (``articles.story_id``). An article that
matched an earlier one joins that article's story, and ``story_links`` records the match (tier,
score, the earlier article); one that matched nothing starts a story of its own. A story's
summary row (lead article, first and last seen, outlets, languages, size) is recomputed for
the stories a write touched, in a few statements per batch.

An ingested batch decides its stories before its articles are stored (``plan_stories``), so each
article row is written once, story and all: on Postgres a later ``UPDATE`` of ``story_id`` would
write a second version of every new row, compute its search vector again and index it again
(``story_id`` and the text indexes rule out a heap-only update). Its links, which name row ids,
and the summaries follow the insert (``place_articles`` with the planned stories).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from pipeline.errors import StoreError
from pipeline.store.schema import LINK_KINDS, Article, Story, StoryLink
from pipeline.store.sql import check_allowed, chunks, dialect_insert, utc_now
from pipeline.store.story_summaries import SUMMARY_COLUMNS, story_summaries

# The Core tables: executemany statements skip the ORM's per-row bookkeeping.
STORIES = cast(Table, Story.__table__)
ARTICLES = cast(Table, Article.__table__)

# An article as placement names it: a row id, or an item key before the row exists.
Ref = TypeVar("Ref", bound=Hashable)


@dataclass(frozen=True)
class Placement:
    """Where an article goes: into the story of ``linked_article_id``, or a story of its own."""

    article_id: int
    linked_article_id: int | None = None
    kind: str | None = None
    score: float = 1.0


def stories_of(session: Session, article_ids: Iterable[int]) -> dict[int, int | None]:
    """The story of each stored article in ``article_ids``."""
    found: dict[int, int | None] = {}
    for chunk in chunks(sorted(set(article_ids))):
        stmt = select(Article.id, Article.story_id).where(Article.id.in_(chunk))
        found.update({article_id: story for article_id, story in session.execute(stmt)})
    return found


def place_articles(
    session: Session,
    placements: Sequence[Placement],
    placed: Mapping[int, int] | None = None,
    vacated: Iterable[int] = (),
) -> dict[int, int]:
    """Put each stored article in its story, in order; returns each article's story id.

    An article linked to one placed earlier in the same call joins that one's story. Those in
    ``placed`` (article id → story) were stored in their story already (``plan_stories``): only
    their links are written. Links are recorded, new stories created, and the summaries of
    every story touched brought up to date, with those of ``vacated`` (stories planned for
    articles a run at the same time stored first: removed if nothing joined them).
    """
    placed = placed or {}
    rest = [p for p in placements if p.article_id not in placed]
    outside = (
        {p.linked_article_id for p in rest if p.linked_article_id is not None}
        - {p.article_id for p in rest}
        - set(placed)
    )
    story_of: dict[int, int | None] = {**stories_of(session, outside), **placed}
    assigned = _assign(session, [(p.article_id, p.linked_article_id) for p in rest], story_of)
    set_stories(session, assigned)
    write_links(session, [p for p in placements if p.kind is not None and p.linked_article_id])
    everything = {**placed, **assigned}
    # One refresh for all, so the story rows are locked in one sorted pass (see refresh_stories).
    refresh_stories(session, {*everything.values(), *vacated})
    return everything


@dataclass(frozen=True)
class Joining:
    """A new article's match, before it is stored: ``key`` names it in its batch; it joins the
    story of the stored article ``linked_id``, else of the batch's earlier ``linked_key``."""

    key: str
    linked_id: int | None = None
    linked_key: str | None = None


def plan_stories(session: Session, joinings: Sequence[Joining]) -> dict[str, int]:
    """The story of each new article of a batch, by item key, in order, before any is stored.

    Stories an article starts are created now (empty: ``place_articles`` fills in their
    summaries once the articles are stored with their ``story_id``). An article linked to one
    earlier in the batch joins that one's story, even when that one's row is not written after
    all (a run at the same time stored it): the story is then theirs alone.
    """
    stored = {j.linked_id for j in joinings if j.linked_id is not None}
    story_of: dict[str | int, int | None] = {
        article: story for article, story in stories_of(session, stored).items()
    }
    order = [(j.key, j.linked_id if j.linked_id is not None else j.linked_key) for j in joinings]
    return {cast(str, ref): story for ref, story in _assign(session, order, story_of).items()}


def _assign(
    session: Session, order: Sequence[tuple[Ref, Ref | None]], story_of: dict[Ref, int | None]
) -> dict[Ref, int]:
    """The story of each article in ``order`` (with what it links to), creating new ones.

    ``story_of`` holds the stories of the linked articles stored before; it is extended with
    each article placed, so a later one linked to it follows it.
    """
    pending: dict[Ref, int] = {}  # article → index of the new story it starts or joins
    joined: dict[Ref, int] = {}
    starters = 0
    for article, target in order:
        story = story_of.get(target) if target is not None else None
        if story is not None:
            joined[article] = story
            story_of[article] = story
        elif target is not None and target in pending:
            pending[article] = pending[target]
        else:
            pending[article] = starters
            starters += 1
    created = create_stories(session, starters)
    return {**joined, **{article: created[index] for article, index in pending.items()}}


def create_stories(session: Session, count: int) -> list[int]:
    """Create ``count`` empty stories; their ids in order (summaries follow on refresh)."""
    if count == 0:
        return []
    now = utc_now()
    rows = [
        {"article_count": 0, "outlets": [], "languages": [], "updated_at": now}
        for _ in range(count)
    ]
    stmt = insert(STORIES).returning(STORIES.c.id, sort_by_parameter_order=True)
    return [row.id for row in session.execute(stmt, rows)]


def set_stories(session: Session, assigned: Mapping[int, int]) -> None:
    """Set ``articles.story_id`` for each article given (one statement, many rows)."""
    if not assigned:
        return
    stmt = (
        update(ARTICLES)
        .where(ARTICLES.c.id == bindparam("b_id"))
        .values(story_id=bindparam("b_story"))
    )
    rows = [{"b_id": article, "b_story": story} for article, story in assigned.items()]
    session.connection().execute(stmt, rows)


def write_links(session: Session, placements: Sequence[Placement]) -> None:
    """Record how each article joined its story, replacing a link recorded before."""
    if not placements:
        return
    now = utc_now()
    rows = []
    for placement in placements:
        check_allowed(placement.kind or "", LINK_KINDS, f"link of article {placement.article_id}")
        rows.append(
            {
                "article_id": placement.article_id,
                "linked_article_id": placement.linked_article_id,
                "kind": placement.kind,
                "score": placement.score,
                "made_at": now,
            }
        )
    stmt = dialect_insert(session, StoryLink)
    stmt = stmt.on_conflict_do_update(
        index_elements=["article_id"],
        set_={
            "linked_article_id": stmt.excluded.linked_article_id,
            "kind": stmt.excluded.kind,
            "score": stmt.excluded.score,
            "made_at": stmt.excluded.made_at,
        },
    )
    session.execute(stmt, rows)


def drop_links(session: Session, article_ids: Sequence[int]) -> None:
    """Forget how ``article_ids`` joined their stories (they now start stories of their own)."""
    for chunk in chunks(list(article_ids)):
        session.execute(delete(StoryLink).where(StoryLink.article_id.in_(chunk)))


def refresh_stories(session: Session, story_ids: Iterable[int]) -> None:
    """Recompute the summary of each story given; a story left with no article is removed.

    The story rows are locked first, in id order, so two runs adding articles to one story at
    once take turns: the second counts its members only after the first has committed. Without
    the lock each would count the members it sees (its own and the committed ones), and the last
    to write would leave a count that misses the other's articles. ``FOR NO KEY UPDATE`` is the
    lock the summary ``UPDATE`` takes anyway; SQLite, with one writer at a time, needs none.
    """
    wanted = sorted({story for story in story_ids if story is not None})
    for chunk in chunks(wanted):
        lock = select(STORIES.c.id).where(STORIES.c.id.in_(chunk)).order_by(STORIES.c.id)
        session.execute(lock.with_for_update(key_share=True)).all()
    summaries = story_summaries(session, wanted, utc_now())
    if summaries:
        summary = (
            update(STORIES)
            .where(STORIES.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in SUMMARY_COLUMNS})
        )
        session.connection().execute(summary, list(summaries.values()))
    empty = [story for story in wanted if story not in summaries]
    for chunk in chunks(empty):
        session.execute(delete(Story).where(Story.id.in_(chunk)))


def split_off(session: Session, article_id: int) -> tuple[int, int]:
    """Take an article out of its story into a story of its own, kept apart from then on.

    Returns (the story it left, its new story). The link that put it there is replaced by a
    ``split`` mark naming the article it had been linked to, so a rebuild keeps it apart.
    """
    row = session.execute(select(Article.story_id).where(Article.id == article_id)).first()
    if row is None:
        raise StoreError(f"article {article_id}: no such article")
    old_story = row.story_id
    members = session.scalar(
        select(func.count()).select_from(Article).where(Article.story_id == old_story)
    )
    if old_story is not None and (members or 0) <= 1:
        raise StoreError(f"article {article_id} is already a story of its own ({old_story})")
    link = session.get(StoryLink, article_id)
    previous = link.linked_article_id if link is not None else None
    (new_story,) = create_stories(session, 1)
    set_stories(session, {article_id: new_story})
    write_links(session, [Placement(article_id, previous, "split", 0.0)])
    refresh_stories(session, [story for story in (old_story, new_story) if story is not None])
    return old_story or new_story, new_story


def stored_links(session: Session, article_ids: Sequence[int]) -> dict[int, Placement]:
    """The recorded link of each of ``article_ids`` that has one."""
    found: dict[int, Placement] = {}
    for chunk in chunks(list(article_ids)):
        stmt = select(StoryLink).where(StoryLink.article_id.in_(chunk))
        for link in session.scalars(stmt):
            found[link.article_id] = Placement(
                link.article_id, link.linked_article_id, link.kind, link.score
            )
    return found
