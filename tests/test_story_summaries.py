"""A story's summary, computed by the database from its members, on SQLite and Postgres: the
regulator's release leads (else the earliest, then the lowest id), first and last seen, size,
outlets and languages, and a story left empty is removed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.models import Article, Source, TaggedArticle
from pipeline.store import repo, schema

DAY = datetime(2025, 11, 12, 9, 0, tzinfo=UTC)


def _store(
    session: Session,
    key: str,
    *,
    source_id: str,
    published: datetime | None,
    regulator: bool = False,
    lang: str | None = "en",
) -> int:
    article = Article(
        url=f"https://x.example/{key}",
        title=f"Title {key}",
        text="The regulator said something about stablecoins. " * 5,
        source_id=source_id,
        doc_type="press_release" if regulator else "news",
        regulator=regulator,
        published_at=published,
        lang=lang,
    )
    article_id, created = repo.insert_article(
        session, TaggedArticle(article, (), f"hash-{key}", "v"), item_key=key
    )
    assert created
    return article_id


def _sources(session: Session, *ids: str) -> None:
    repo.sync_sources(
        session,
        [Source(id=i, name=i, kind="rss", urls=(f"https://{i}.example/feed",)) for i in ids],
    )


def _story(session: Session, story_id: int) -> schema.Story:
    session.expire_all()
    story = session.get(schema.Story, story_id)
    assert story is not None
    return story


def test_the_release_leads_though_an_outlet_reported_first(session: Session) -> None:
    _sources(session, "outlet-a", "outlet-b", "hkma-press")
    early = _store(session, "a", source_id="outlet-a", published=DAY.replace(hour=8))
    release = _store(
        session, "r", source_id="hkma-press", published=DAY.replace(hour=10), regulator=True
    )
    late = _store(
        session, "b", source_id="outlet-b", published=DAY.replace(hour=12), lang="zh-Hant"
    )
    placed = repo.place_articles(
        session,
        [
            repo.Placement(early),
            repo.Placement(release, early, "same_story", 0.7),
            repo.Placement(late, early, "same_story", 0.6),
        ],
    )
    story = _story(session, placed[early])
    assert {placed[release], placed[late]} == {story.id}
    assert story.lead_article_id == release
    assert story.article_count == 3
    assert story.first_seen_at == DAY.replace(hour=8)
    assert story.last_seen_at == DAY.replace(hour=12)
    assert story.outlets == ["hkma-press", "outlet-a", "outlet-b"]
    assert story.languages == ["en", "zh-Hant"]


def test_without_a_release_the_earliest_leads_and_ties_go_to_the_lower_id(
    session: Session,
) -> None:
    _sources(session, "outlet-a", "outlet-b")
    first = _store(session, "a", source_id="outlet-a", published=DAY, lang=None)
    twin = _store(session, "b", source_id="outlet-a", published=DAY, lang=None)
    later = _store(session, "c", source_id="outlet-b", published=DAY.replace(hour=11))
    placed = repo.place_articles(
        session,
        [
            repo.Placement(later),
            repo.Placement(twin, later, "same_story", 0.8),
            repo.Placement(first, later, "same_story", 0.8),
        ],
    )
    story = _story(session, placed[later])
    assert story.lead_article_id == min(first, twin)
    assert story.article_count == 3
    assert story.outlets == ["outlet-a", "outlet-b"]
    # An article without a language adds none.
    assert story.languages == ["en"]


def test_an_undated_article_counts_from_when_it_was_first_seen(session: Session) -> None:
    _sources(session, "outlet-a")
    dated = _store(session, "a", source_id="outlet-a", published=DAY)
    undated = _store(session, "b", source_id="outlet-a", published=None)
    placed = repo.place_articles(
        session, [repo.Placement(dated), repo.Placement(undated, dated, "same_story", 0.7)]
    )
    seen = session.scalar(select(schema.Article.first_seen_at).where(schema.Article.id == undated))
    story = _story(session, placed[dated])
    assert seen is not None and seen > DAY
    assert story.first_seen_at == DAY
    assert story.last_seen_at == seen
    assert story.lead_article_id == dated


def test_a_story_left_empty_is_removed_and_the_other_recounted(session: Session) -> None:
    _sources(session, "outlet-a")
    one = _store(session, "a", source_id="outlet-a", published=DAY)
    two = _store(session, "b", source_id="outlet-a", published=DAY.replace(hour=11))
    placed = repo.place_articles(session, [repo.Placement(one), repo.Placement(two)])
    assert placed[one] != placed[two]
    # Move the second article into the first one's story, then refresh both.
    session.execute(
        schema.Article.__table__.update()
        .where(schema.Article.id == two)
        .values(story_id=placed[one])
    )
    repo.refresh_stories(session, [placed[one], placed[two]])
    assert session.get(schema.Story, placed[two]) is None
    story = _story(session, placed[one])
    assert story.article_count == 2
    assert story.last_seen_at == DAY.replace(hour=11)
