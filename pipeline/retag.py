"""Re-tag stored articles after ``taxonomy.toml`` changes, writing only what changed.

An article is considered when its ``taxonomy_version`` differs from the tagger's (or always, with
``all_articles``). Its tags are computed again from the stored title, text, entities and
categories and compared with its stored links: a link that is the same (count, title, lead,
evidence) is left as it is, so its ``taxonomy_version`` keeps naming the version that last changed
it; links that appear, vanish or change are written. The article's own ``taxonomy_version``
always moves to the current version, so the next retag skips it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from pipeline.models import Article, Tag
from pipeline.store import repo
from pipeline.store.schema import Article as ArticleRow
from pipeline.store.schema import ArticleTag, TagRow
from pipeline.store.tags import sync_taxonomy
from pipeline.tag import Tagger

# Articles per transaction: a crash loses at most this much work, and one IN (...) list of
# ids stays far below SQLite's bound-parameter limit.
RETAG_BATCH = 200

_LINK_FIELDS = ("count", "in_title", "in_lead", "evidence")


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

    def fill_names(self, session: Session) -> None:
        """Look up the names of lost tags (a removed node is no longer in the taxonomy)."""
        missing = sorted(set(self.lost) - set(self.names))
        if missing:
            found = session.execute(select(TagRow.id, TagRow.name).where(TagRow.id.in_(missing)))
            self.names.update({tag_id: name for tag_id, name in found})

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


def _link_key(values: Any) -> tuple[Any, ...]:
    return (values.count, bool(values.in_title), bool(values.in_lead), tuple(values.evidence))


def _tag_key(tag: Tag) -> tuple[Any, ...]:
    return (tag.count, tag.in_title, tag.in_lead, tuple(tag.evidence))


def article_ids_to_retag(session: Session, version: str, *, all_articles: bool) -> list[int]:
    """Ids of the stored articles a retag to ``version`` must look at, in id order."""
    stmt = select(ArticleRow.id).order_by(ArticleRow.id)
    if not all_articles:
        stmt = stmt.where(ArticleRow.taxonomy_version != version)
    return list(session.scalars(stmt))


def retag_batch(session: Session, tagger: Tagger, ids: Sequence[int]) -> RetagReport:
    """Re-tag the articles ``ids`` within the caller's transaction; what changed in them.

    The taxonomy's tag rows must exist already (``sync_taxonomy``).
    """
    version = tagger.version
    report = RetagReport(taxonomy_version=version)
    stored: dict[int, dict[str, Any]] = {article_id: {} for article_id in ids}
    for row in session.execute(
        select(
            ArticleTag.article_id,
            ArticleTag.tag_id,
            *(getattr(ArticleTag, name) for name in _LINK_FIELDS),
        ).where(ArticleTag.article_id.in_(ids))
    ):
        stored[row.article_id][row.tag_id] = row
    articles = session.execute(
        select(
            ArticleRow.id,
            ArticleRow.title,
            ArticleRow.text,
            ArticleRow.entities,
            ArticleRow.categories,
        ).where(ArticleRow.id.in_(ids))
    )
    taxonomy_ids = {node.id for node in tagger.nodes}
    for article_id, title, text, entities, categories in articles:
        article = Article(
            url="",
            title=title or "",
            text=text or "",
            entities=tuple(entities or ()),
            categories=tuple(categories or ()),
        )
        wanted = {tag.id: tag for tag in tagger.tag_article(article)}
        have = stored[article_id]
        added = [wanted[tag_id] for tag_id in sorted(set(wanted) - set(have))]
        removed = sorted(set(have) - set(wanted))
        changed = [
            wanted[tag_id]
            for tag_id in sorted(set(wanted) & set(have))
            if _tag_key(wanted[tag_id]) != _link_key(have[tag_id])
        ]
        report.considered += 1
        if not (added or removed or changed):
            continue
        report.rewritten += 1
        if removed:
            session.execute(
                delete(ArticleTag).where(
                    ArticleTag.article_id == article_id, ArticleTag.tag_id.in_(removed)
                )
            )
            report.lost.update(removed)
        if added:
            # Tags from the source (licensed corporations, feed categories) are not in the
            # taxonomy, so their rows may not exist yet.
            fresh = [tag for tag in added if tag.id not in taxonomy_ids]
            repo.upsert_tags(session, fresh)
            session.execute(
                ArticleTag.__table__.insert(),
                [repo.link_values(article_id, tag, version) for tag in added],
            )
            report.gained.update(tag.id for tag in added)
            report.names.update((tag.id, tag.name) for tag in added)
        for tag in changed:
            session.execute(
                update(ArticleTag)
                .where(ArticleTag.article_id == article_id, ArticleTag.tag_id == tag.id)
                .values(repo.link_values(article_id, tag, version))
            )
    session.execute(
        update(ArticleRow)
        .where(ArticleRow.id.in_(ids), ArticleRow.taxonomy_version != version)
        .values(taxonomy_version=version)
    )
    return report


def _chunks(ids: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def retag_articles(
    engine: Engine, tagger: Tagger, *, all_articles: bool = False, batch_size: int = RETAG_BATCH
) -> RetagReport:
    """Re-tag stored articles with ``tagger``'s taxonomy; see the module docstring."""
    report = RetagReport(taxonomy_version=tagger.version)
    with Session(engine) as session, session.begin():
        sync_taxonomy(session, tagger)
        ids = article_ids_to_retag(session, tagger.version, all_articles=all_articles)
    for chunk in _chunks(ids, batch_size):
        with Session(engine) as session, session.begin():
            report.merge(retag_batch(session, tagger, chunk))
    with Session(engine) as session:
        report.fill_names(session)
    return report
