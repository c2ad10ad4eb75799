"""Stories in the store, on SQLite and Postgres: what a replayed run groups, how an analyst
reads and splits a story, and how a rebuild regroups only what changed.

The tiers themselves (translation, near-duplicate, same story, and their negatives) are tested
in test_story_tiers.py without a database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from support import REPO, prose
from support.store import count_articles, downgrade
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import IngestOptions, run_once
from pipeline.regroup import rebuild_stories, split_article
from pipeline.retag import retag_batch
from pipeline.store import db, repo, schema
from pipeline.stories import match
from pipeline.stories.features import fingerprint
from pipeline.tag import Tagger

FIXTURES = REPO / "fixtures" / "http"
# The crypto dealer and custodian bill, as six outlets wrote it up on 19-20 November 2025.
DEALER_BILL = (
    "Government and SFC publish consultation conclusions on regulating virtual asset dealing"
    " and custodian services",
    "Hong Kong to table crypto dealer and custodian bill in 2026",
    "Hong Kong to license crypto dealers and custodians under new bill",
    "Hong Kong to Introduce Crypto Dealer and Custodian Bill in 2026",
    "Hong Kong Moves Ahead With Licensing Regimes for VA Dealers and Custodians",
    "Hong Kong to license virtual asset dealers and custodians",
)

runner = CliRunner()
PRINTS = schema.ArticlePrint


def replay(db_url: str, alerts: Path) -> None:
    """One ingestion of the recorded fixtures into ``db_url``."""
    options = IngestOptions(
        db_url=db_url,
        sources_path=REPO / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts,
        replay=FIXTURES,
    )
    outcome = asyncio.run(run_once(options))
    assert outcome.status == "completed", outcome.as_dict()


def no_alerts(directory: Path) -> Path:
    path = directory / "alerts.toml"
    path.write_text("", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def replayed(
    module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database holding one replayed run (read only: tests that write make their own)."""
    replay(module_migrated_db_url, no_alerts(tmp_path_factory.mktemp("alerts")))
    yield module_migrated_db_url


def story_of(session: Session, **where: str) -> int:
    """The story of the one article matching ``where`` (column = value)."""
    stmt = select(schema.Article.story_id)
    for column, value in where.items():
        stmt = stmt.where(getattr(schema.Article, column) == value)
    [story] = session.scalars(stmt).all()
    assert story is not None
    return story


def partition(session: Session) -> set[frozenset[str]]:
    """The stories as sets of item keys (ids aside)."""
    groups: dict[int, set[str]] = {}
    for key, story in session.execute(select(schema.Article.item_key, schema.Article.story_id)):
        groups.setdefault(story, set()).add(key)
    return {frozenset(keys) for keys in groups.values()}


def test_every_article_is_in_exactly_one_story(replayed: str) -> None:
    engine = db.make_engine(replayed)
    with Session(engine) as session:
        articles = count_articles(session)
        unplaced = session.scalar(
            select(func.count()).where(schema.Article.story_id.is_(None))
        )
        stories = session.execute(select(schema.Story)).scalars().all()
        sizes = dict(
            session.execute(
                select(schema.Article.story_id, func.count()).group_by(schema.Article.story_id)
            ).all()
        )
    engine.dispose()
    assert unplaced == 0
    assert {story.id for story in stories} == set(sizes)
    assert all(story.article_count == sizes[story.id] for story in stories)
    assert sum(story.article_count for story in stories) == articles
    # Grouping, not dropping: fewer stories than articles, and some of many outlets.
    assert len(stories) < articles
    assert max(len(story.outlets) for story in stories) >= 5


def test_each_hkma_release_shares_a_story_with_its_translation(replayed: str) -> None:
    engine = db.make_engine(replayed)
    with Session(engine) as session:
        english = session.execute(
            select(schema.Article.id, schema.Article.item_id, schema.Article.story_id).where(
                schema.Article.source_id == "hkma-press"
            )
        ).all()
        chinese = {
            item_id: (article_id, story)
            for article_id, item_id, story in session.execute(
                select(
                    schema.Article.id, schema.Article.item_id, schema.Article.story_id
                ).where(schema.Article.source_id == "hkma-press-tc")
            )
        }
        links = {link.article_id: link for link in session.scalars(select(schema.StoryLink))}
    engine.dispose()
    assert len(english) >= 10
    for article_id, item_id, story in english:
        translated_id, translated_story = chinese[item_id]
        assert translated_story == story, item_id
        link = links.get(translated_id) or links[article_id]
        assert link.kind == "translation" and link.score == 1.0


def test_joint_statement_and_dealer_bill_are_one_story_each(replayed: str) -> None:
    engine = db.make_engine(replayed)
    with Session(engine) as session:
        hkma = story_of(session, source_id="hkma-press", item_id="20251112-5")
        sfc = story_of(session, source_id="sfc-news", item_id="25PR118")
        bill = {story_of(session, title=title) for title in DEALER_BILL}
        lead = session.get(schema.Story, hkma)
        lead_row = session.get(schema.Article, lead.lead_article_id) if lead else None
    engine.dispose()
    assert hkma == sfc
    assert len(bill) == 1
    # The regulator's own release leads its story.
    assert lead_row is not None and lead_row.regulator


def test_same_template_releases_stay_apart_each_with_its_translation(replayed: str) -> None:
    engine = db.make_engine(replayed)
    with Session(engine) as session:
        stories = {
            (source, item_id): story_of(session, source_id=source, item_id=item_id)
            for source in ("hkma-press", "hkma-press-tc")
            for item_id in ("20251118-3", "20251118-4", "20251031-1", "20251107-1")
        }
    engine.dispose()
    for item_id in ("20251118-3", "20251118-4", "20251031-1", "20251107-1"):
        assert stories["hkma-press", item_id] == stories["hkma-press-tc", item_id]
    # Two tender results of one day, and two weeks' reserve figures: four stories, not two.
    english = {stories["hkma-press", item_id] for item_id in ("20251118-3", "20251118-4")}
    weekly = {stories["hkma-press", item_id] for item_id in ("20251031-1", "20251107-1")}
    assert len(english) == 2 and len(weekly) == 2


def test_a_syndicated_copy_and_a_rewrite_join_their_stories(replayed: str) -> None:
    engine = db.make_engine(replayed)
    with Session(engine) as session:
        copy = session.scalar(
            select(schema.Article).where(
                schema.Article.canonical_url
                == "https://fintechnews.hk/36811/ai/hkma-expectations-banks-use-ai-agents/"
            )
        )
        original = session.scalar(
            select(schema.Article).where(
                schema.Article.canonical_url
                == "https://www.regulationasia.com/hkma-sets-out-expectations-on-banks-use-of-ai-agents/"
            )
        )
        rewrite = session.scalar(
            select(schema.Article).where(
                schema.Article.title.like("Hong Kong Expects Only a Handful of Stablecoin%")
            )
        )
        assert copy is not None and original is not None and rewrite is not None
        pair = {copy.id, original.id}
        link = session.scalar(select(schema.StoryLink).where(schema.StoryLink.article_id.in_(pair)))
        others = session.scalar(
            select(func.count()).where(
                schema.Article.story_id == rewrite.story_id, schema.Article.id != rewrite.id
            )
        )
        rewrite_link = session.get(schema.StoryLink, rewrite.id)
    engine.dispose()
    # Both kept; the later-stored one is the near-duplicate of the other, and no new item.
    assert copy.story_id == original.story_id
    assert link is not None and link.kind == "near_duplicate" and link.score >= 0.8
    assert {link.article_id, link.linked_article_id} == pair
    assert copy.duplicate_of in pair or original.duplicate_of in pair
    # Another outlet's write-up of the stablecoin licensing update joins that story.
    assert others >= 1
    if rewrite_link is not None:
        assert rewrite_link.kind == "same_story"


def test_search_names_each_articles_story(replayed: str) -> None:
    result = runner.invoke(
        app, ["search", "--source", "hkma-press-tc", "--format", "json", "--db", replayed]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits and all(isinstance(hit["story_id"], int) for hit in hits)


def test_stories_list_and_show(replayed: str) -> None:
    listed = runner.invoke(app, ["stories", "list", "--format", "json", "--db", replayed])
    assert listed.exit_code == 0, listed.output
    stories = json.loads(listed.output)
    assert stories and all(story["articles"] >= 2 for story in stories)
    biggest = max(stories, key=lambda story: story["articles"])
    shown = runner.invoke(
        app, ["stories", "show", str(biggest["id"]), "--format", "json", "--db", replayed]
    )
    assert shown.exit_code == 0, shown.output
    story = json.loads(shown.output)
    members = story["members"]
    # The story's tags are the union of its articles', each with how many carry it.
    assert story["tags"] and all(1 <= tag["articles"] <= len(members) for tag in story["tags"])
    assert max(tag["articles"] for tag in story["tags"]) >= 2
    assert len(members) == biggest["articles"]
    linked = [member for member in members if member["link"]]
    # Every article but the story's first says how it joined, with a score.
    assert len(linked) == len(members) - 1
    assert all(member["score"] > 0 and member["linked_article_id"] for member in linked)
    table = runner.invoke(app, ["stories", "show", str(biggest["id"]), "--db", replayed])
    assert table.exit_code == 0 and f"story {biggest['id']}" in table.output


def test_show_of_a_missing_story_says_so(replayed: str) -> None:
    result = runner.invoke(app, ["stories", "show", "999999", "--db", replayed])
    assert result.exit_code == 1
    assert "story 999999: no such story" in result.output


def test_split_keeps_the_article_apart_through_a_rebuild(
    migrated_db_url: str, tmp_path: Path
) -> None:
    replay(migrated_db_url, no_alerts(tmp_path))
    engine = db.make_engine(migrated_db_url)
    with Session(engine) as session:
        articles = count_articles(session)
        target = session.scalar(
            select(schema.Article.id).where(schema.Article.title == DEALER_BILL[2])
        )
        before = story_of(session, title=DEALER_BILL[2])
    assert target is not None
    result = runner.invoke(app, ["stories", "split", str(target), "--db", migrated_db_url])
    assert result.exit_code == 0, result.output
    assert f"article {target} left story {before}" in result.output
    again = runner.invoke(app, ["stories", "split", str(target), "--db", migrated_db_url])
    assert again.exit_code == 1 and "already a story of its own" in again.output
    rebuild_stories(engine)
    with Session(engine) as session:
        own = story_of(session, title=DEALER_BILL[2])
        others = {story_of(session, title=t) for t in DEALER_BILL if t != DEALER_BILL[2]}
        link = session.get(schema.StoryLink, target)
        assert count_articles(session) == articles
        assert session.get(schema.Story, own).article_count == 1  # type: ignore[union-attr]
    engine.dispose()
    assert own != before and others == {before}
    assert link is not None and link.kind == "split"


def test_rebuild_writes_only_what_a_threshold_change_moves(
    migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay(migrated_db_url, no_alerts(tmp_path))
    engine = db.make_engine(migrated_db_url)
    # A rebuild replays the articles in time order where a run met them source by source, so
    # the first may regroup a few; after it, a rebuild with nothing changed writes nothing.
    first = rebuild_stories(engine)
    assert first.refiled == 0 and first.moved < first.articles // 10
    unchanged = rebuild_stories(engine)
    assert (unchanged.moved, unchanged.relinked, unchanged.refiled) == (0, 0, 0)
    with Session(engine) as session:
        original = partition(session)
    monkeypatch.setattr(match, "SAME_STORY_MIN", 0.95)
    monkeypatch.setattr(match, "REGULATOR_PAIR_MIN", 0.95)
    stricter = rebuild_stories(engine)
    with Session(engine) as session:
        strict = partition(session)
        kinds = set(session.scalars(select(schema.StoryLink.kind)))
    assert stricter.moved > 0 and stricter.stories_after > stricter.stories_before
    assert len(strict) > len(original) and "translation" in kinds
    monkeypatch.undo()
    restored = rebuild_stories(engine)
    with Session(engine) as session:
        assert partition(session) == original
    engine.dispose()
    assert restored.moved == stricter.moved and restored.refiled == 0


def test_upgrade_makes_each_stored_article_a_story_of_one(db_url: str) -> None:
    db.upgrade(db_url, "0004")
    engine = db.make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sources (id, name, kind, lang, regulator, doc_type, enabled, urls)"
                " VALUES ('news', 'News', 'rss', 'en', false, 'news', true, '[]')"
            )
        )
        for number in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO articles (item_key, source_id, url, title, text, doc_type,"
                    " regulator, first_seen_at, content_hash, taxonomy_version, categories,"
                    " entities) VALUES (:key, 'news', :url, 'T', 'body', 'news', false,"
                    " CURRENT_TIMESTAMP, '', '', '[]', '[]')"
                ),
                {"key": f"url:https://x.example/{number}", "url": f"https://x.example/{number}"},
            )
    db.upgrade(db_url)
    with Session(engine) as session:
        rows = session.execute(select(schema.Article.id, schema.Article.story_id)).all()
        stories = session.scalars(select(schema.Story)).all()
    assert len(rows) == 2 and all(story == article for article, story in rows)
    assert {(s.article_count, tuple(s.outlets), tuple(s.languages)) for s in stories} == {
        (1, ("news",), ())
    }
    # The next rebuild fingerprints them; a new story after the backfill gets a fresh id.
    report = rebuild_stories(engine)
    assert report.articles == 2 and report.refiled == 2
    split_free = {story for _, story in rows}
    with Session(engine, expire_on_commit=False) as session, session.begin():
        (created,) = repo.create_stories(session, 1)
    assert created not in split_free
    engine.dispose()
    downgrade(db_url, "0004")
    with db.make_engine(db_url).connect() as connection:
        names = set(db_table_names(connection))
    assert "stories" not in names and "articles" in names


def db_table_names(connection: object) -> list[str]:
    from sqlalchemy import inspect

    return inspect(connection).get_table_names()


def test_split_of_an_unknown_article_is_a_clear_error(migrated_db_url: str) -> None:
    result = runner.invoke(app, ["stories", "split", "424242", "--db", migrated_db_url])
    assert result.exit_code == 1
    assert "article 424242: no such article" in result.output
    engine = db.make_engine(migrated_db_url)
    with pytest.raises(Exception, match="no such article"):
        split_article(engine, 424242)
    engine.dispose()


def test_a_batch_reads_only_the_stored_articles_sharing_its_keys(replayed: str) -> None:
    engine = db.make_engine(replayed)
    with Session(engine) as session:
        stored = session.scalar(
            select(schema.Article).where(schema.Article.title == DEALER_BILL[1])
        )
        assert stored is not None
        copy = fingerprint(
            key="url:https://elsewhere.example/copy",
            title=stored.title,
            text=stored.text.replace("Hong Kong", "HK", 1),
            lang=stored.lang,
            at=stored.published_at,
        )
        unrelated = fingerprint(
            key="url:https://elsewhere.example/other",
            title="Lunar rover finds water ice near the south pole",
            text=" ".join(prose.sentences("unrelated", 20)),
            lang="en",
            at=stored.published_at,
        )
        found = {c.article_id: c for c in repo.find_candidates(session, [copy, unrelated])}
        articles = count_articles(session)
    engine.dispose()
    # Of all the stored articles, only those sharing a key with the copy come back (the
    # original and its story), none for the unrelated article.
    assert stored.id in found and len(found) < articles // 10
    assert found[stored.id].print.shingles is not None  # verified exactly, from its text


def test_retag_refiles_the_tags_stories_compare(
    migrated_db_url: str, tmp_path: Path
) -> None:
    replay(migrated_db_url, no_alerts(tmp_path))
    engine = db.make_engine(migrated_db_url)
    with Session(engine) as session:
        before = {row.article_id: row.tags for row in session.scalars(select(PRINTS))}
    tagger = Tagger.from_path(REPO / "taxonomy.toml")
    with Session(engine) as session, session.begin():
        ids = list(session.scalars(select(schema.Article.id)))
        # Stored links are taken away, as if the taxonomy had changed; the retag puts them back.
        session.execute(schema.ArticleTag.__table__.delete())
        session.execute(schema.ArticlePrint.__table__.update().values(tags="[]"))
        report = retag_batch(session, tagger, ids)
    with Session(engine) as session:
        after = {row.article_id: row.tags for row in session.scalars(select(PRINTS))}
    engine.dispose()
    assert report.rewritten > 0
    changed = [article for article in before if before[article] != "[]"]
    assert changed and all(after[article] == before[article] for article in changed)
