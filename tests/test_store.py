"""Repository functions on SQLite and Postgres: idempotent writes, runs, outbox, fetch state."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from support.store import count_articles, run_record

from pipeline.errors import StoreError
from pipeline.models import Article, Source, Tag, TaggedArticle, Validators
from pipeline.store import repo, schema
from pipeline.stories.features import fingerprint

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
PUBLISHED = datetime(2025, 11, 3, 17, 45, tzinfo=HONG_KONG)

HKMA = Source(
    id="hkma-press",
    name="HKMA press releases",
    kind="hkma_api",
    urls=("https://api.hkma.gov.hk/public/press-releases",),
    regulator=True,
    doc_type="press_release",
)
NEWS = Source(
    id="fintechnews-hk", name="Fintech News HK", kind="rss", urls=("https://fintechnews.hk/feed/",)
)

ANT = Tag(
    id="ant-group",
    name="Ant Group",
    kind="entity",
    type="company",
    count=3,
    evidence=("Eric Jing, Chairman of Ant Group",),
    in_title=True,
)
HKMA_TAG = Tag(id="hkma", name="HKMA", kind="entity", type="regulator", count=1)
STABLECOINS = Tag(
    id="stablecoins",
    name="Stablecoins",
    kind="topic",
    type="topic",
    count=2,
    evidence=("stablecoin issuer", "stablecoins"),
)


def tagged(
    n: int = 1,
    *,
    source: Source = HKMA,
    tags: tuple[Tag, ...] = (ANT, HKMA_TAG),
    text: str | None = None,
    published_at: datetime | None = PUBLISHED,
) -> TaggedArticle:
    article = Article(
        url=f"https://example.org/{source.id}/{n}?utm_source=x",
        title=f"Release {n}: stablecoin licences",
        text=text if text is not None else f"Body {n}. " + "The HKMA granted licences. " * 20,
        published_at=published_at,
        author="HKMA",
        lang="en",
        canonical_url=f"https://example.org/{source.id}/{n}",
        description=f"Summary {n}",
        source_id=source.id,
        item_id=f"2025110{n}",
        doc_type=source.doc_type,
        regulator=source.regulator,
        categories=("Press release",),
        entities=("Ant Group",),
    )
    return TaggedArticle(
        article=article, tags=tags, content_hash=f"hash-{n}", taxonomy_version="v1"
    )


def store(engine: Engine, *items: tuple[TaggedArticle, str]) -> list[int]:
    """Insert articles in one committed transaction; returns their ids."""
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, [HKMA, NEWS])
        return [repo.insert_article(session, t, item_key=key)[0] for t, key in items]


def test_sync_sources_inserts_then_updates(session: Session) -> None:
    repo.sync_sources(session, [HKMA, NEWS])
    repo.sync_sources(session, [Source(**{**HKMA.__dict__, "name": "HKMA", "enabled": False})])
    rows = {row.id: row for row in session.scalars(select(schema.SourceRow))}
    assert set(rows) == {"hkma-press", "fintechnews-hk"}
    assert rows["hkma-press"].name == "HKMA" and rows["hkma-press"].enabled is False
    assert rows["hkma-press"].regulator is True
    assert rows["hkma-press"].urls == ["https://api.hkma.gov.hk/public/press-releases"]
    assert rows["fintechnews-hk"].kind == "rss" and rows["fintechnews-hk"].regulator is False
    repo.sync_sources(session, [])  # nothing to do is not an error


def test_insert_article_twice_stores_one_row(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, [HKMA])
        first_id, created = repo.insert_article(session, tagged(), item_key="hkma-press:1")
    assert created
    # A second transaction, as a re-run would be.
    with Session(engine) as session, session.begin():
        again_id, created_again = repo.insert_article(session, tagged(), item_key="hkma-press:1")
        assert (again_id, created_again) == (first_id, False)
        assert count_articles(session) == 1
        links = session.scalar(select(func.count()).select_from(schema.ArticleTag))
        assert links == 2


def test_insert_article_stores_every_field_with_utc_times(engine: Engine) -> None:
    before = datetime.now(UTC)
    [article_id] = store(engine, (tagged(), "hkma-press:1"))
    with Session(engine) as session:
        row = session.get(schema.Article, article_id)
        assert row is not None
        assert row.item_key == "hkma-press:1" and row.source_id == "hkma-press"
        assert row.url == "https://example.org/hkma-press/1?utm_source=x"
        assert row.canonical_url == "https://example.org/hkma-press/1"
        assert row.summary == "Summary 1" and row.author == "HKMA" and row.lang == "en"
        assert row.item_id == "20251101" and row.doc_type == "press_release" and row.regulator
        assert row.content_hash == "hash-1" and row.taxonomy_version == "v1"
        assert row.categories == ["Press release"] and row.entities == ["Ant Group"]
        assert row.duplicate_of is None
        assert row.published_at == PUBLISHED
        assert row.published_at is not None and row.published_at.utcoffset() == timedelta(0)
        assert row.published_at.hour == 9  # 17:45 in Hong Kong is 09:45 UTC
        assert row.first_seen_at.tzinfo is not None and row.first_seen_at >= before
        links = {
            link.tag_id: link
            for link in session.scalars(
                select(schema.ArticleTag).where(schema.ArticleTag.article_id == article_id)
            )
        }
        assert set(links) == {"ant-group", "hkma"}
        assert links["ant-group"].count == 3 and links["ant-group"].in_title is True
        assert links["ant-group"].evidence == ["Eric Jing, Chairman of Ant Group"]
        assert links["ant-group"].taxonomy_version == "v1"
        tags = {tag.id: tag for tag in session.scalars(select(schema.TagRow))}
        assert tags["hkma"].regulator is True and tags["ant-group"].regulator is False
        assert tags["ant-group"].kind == "entity" and tags["ant-group"].type == "company"


def test_article_without_publication_date_is_stored(engine: Engine) -> None:
    [article_id] = store(engine, (tagged(published_at=None, tags=()), "url:https://x.example/a"))
    with Session(engine) as session:
        row = session.get(schema.Article, article_id)
        assert row is not None and row.published_at is None


def test_naive_publication_time_is_read_as_utc(engine: Engine) -> None:
    naive = datetime(2025, 11, 3, 9, 45)
    [article_id] = store(engine, (tagged(tags=(), published_at=naive), "hkma-press:1"))
    with Session(engine) as session:
        row = session.get(schema.Article, article_id)
        assert row is not None and row.published_at == naive.replace(tzinfo=UTC)


def test_duplicate_is_kept_and_marked(engine: Engine) -> None:
    original_id, *_ = store(engine, (tagged(1), "hkma-press:1"))
    with Session(engine) as session, session.begin():
        copy = tagged(2, source=NEWS)
        copy_id, created = repo.insert_article(
            session, copy, item_key="url:https://example.org/copy", duplicate_of_key="hkma-press:1"
        )
    assert created
    with Session(engine) as session:
        row = session.get(schema.Article, copy_id)
        assert row is not None and row.duplicate_of == original_id
        by_hash = candidates(session, content_hash="hash-2")
        by_url = candidates(session, canonical="https://example.org/hkma-press/1")
        by_key = candidates(session, key="hkma-press:1", content_hash="hash-2")
    copy_row = ("url:https://example.org/copy", "https://example.org/fintechnews-hk/2", "hash-2")
    original_row = ("hkma-press:1", "https://example.org/hkma-press/1", "hash-1")
    assert by_hash == [copy_row]
    assert by_url == [original_row]
    # Oldest first, each article once.
    assert by_key == [original_row, copy_row]


def candidates(
    session: Session, *, key: str = "url:x", canonical: str | None = None, content_hash: str = ""
) -> list[tuple[str, str | None, str]]:
    """(key, canonical URL, hash) of the stored articles a fingerprint with these finds."""
    asked = fingerprint(
        key=key, title="", text="", lang="en", at=None, canonical=canonical,
        content_hash=content_hash,
    )
    return [
        (found.print.key, found.print.canonical, found.print.content_hash)
        for found in repo.find_candidates(session, [asked])
    ]


def test_stored_markers_and_ids_by_key(engine: Engine) -> None:
    ids = store(engine, *((tagged(n), f"hkma-press:{n}") for n in (1, 2, 3)))
    asked = [f"hkma-press:{n}" for n in range(1200)]  # more than one IN chunk
    with Session(engine) as session:
        assert set(repo.stored_markers(session, asked)) == {f"hkma-press:{n}" for n in (1, 2, 3)}
        assert repo.stored_markers(session, []) == {}
        assert repo.article_id_for_key(session, "hkma-press:2") == ids[1]
        assert repo.article_id_for_key(session, "hkma-press:99") is None


def test_nothing_is_committed_by_the_repository(engine: Engine) -> None:
    with Session(engine) as session:
        repo.sync_sources(session, [HKMA])
        repo.insert_article(session, tagged(), item_key="hkma-press:1")
        session.rollback()
    with Session(engine) as session:
        assert count_articles(session) == 0
        assert session.scalar(select(func.count()).select_from(schema.SourceRow)) == 0


def test_upsert_tags_keeps_what_is_not_given(session: Session) -> None:
    repo.upsert_tags(session, [ANT, HKMA_TAG, STABLECOINS, ANT])
    repo.upsert_tags(session, [ANT], parents={"ant-group": "alibaba"}, regulators={"ant-group"})
    renamed = Tag(id="ant-group", name="Ant Group Co", kind="entity", type="company", count=1)
    repo.upsert_tags(session, [renamed])  # no parents/regulators given: keep the stored ones
    rows = {row.id: row for row in session.scalars(select(schema.TagRow))}
    assert rows["ant-group"].name == "Ant Group Co"
    assert rows["ant-group"].parent_id == "alibaba" and rows["ant-group"].regulator is True
    assert rows["hkma"].regulator is True and rows["stablecoins"].kind == "topic"
    repo.upsert_tags(session, [renamed], parents={}, regulators=set())
    session.expire_all()
    row = session.get(schema.TagRow, "ant-group")
    assert row is not None and row.parent_id is None and row.regulator is False
    entities = set(session.scalars(text("SELECT id FROM entities")))
    topics = set(session.scalars(text("SELECT id FROM topics")))
    assert entities == {"ant-group", "hkma"} and topics == {"stablecoins"}


def test_rewrite_links_writes_only_changes(engine: Engine) -> None:
    [article_id] = store(engine, (tagged(), "hkma-press:1"))
    recount = Tag(id="ant-group", name="Ant Group", kind="entity", type="company", count=5)
    with Session(engine) as session, session.begin():
        [change] = repo.rewrite_links(session, {article_id: [recount, STABLECOINS]}, "v2").values()
    assert change == repo.LinkChange(
        added=("stablecoins",), removed=("hkma",), changed=("ant-group",)
    )
    with Session(engine) as session, session.begin():
        links = {
            link.tag_id: link
            for link in session.scalars(
                select(schema.ArticleTag).where(schema.ArticleTag.article_id == article_id)
            )
        }
        assert set(links) == {"ant-group", "stablecoins"}
        assert links["ant-group"].count == 5 and links["ant-group"].taxonomy_version == "v2"
        assert links["stablecoins"].evidence == ["stablecoin issuer", "stablecoins"]
        article = session.get(schema.Article, article_id)
        assert article is not None and article.taxonomy_version == "v2"
        again = repo.rewrite_links(session, {article_id: [recount, STABLECOINS]}, "v2")
        assert not again[article_id].any


def test_sighting_is_recorded_once_per_source(engine: Engine) -> None:
    [article_id] = store(engine, (tagged(), "hkma-press:1"))
    with Session(engine) as session, session.begin():
        run_id = repo.start_run(session, flow_run_id=None, options={})

        def seen(source: str, verdict: str, run: int | None) -> repo.SightingRow:
            return repo.SightingRow(article_id, source, "https://x.example/1", "g1", verdict, run)

        repo.record_sightings(session, [seen("hkma-press", "new", run_id)])
        repo.record_sightings(
            session,
            [seen("hkma-press", "same_item", run_id), seen("fintechnews-hk", "same_item", None)],
        )
        with pytest.raises(StoreError, match="'seen'"):
            repo.record_sightings(session, [seen("x", "seen", None)])
    with Session(engine) as session:
        rows = session.execute(
            select(schema.Sighting.source_id, schema.Sighting.verdict, schema.Sighting.run_id)
        ).all()
    assert sorted(rows) == [("fintechnews-hk", "same_item", None), ("hkma-press", "new", run_id)]


def test_run_records_keep_per_source_counts_and_errors(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, [HKMA, NEWS])
        older = repo.start_run(session, flow_run_id=None, options={})
        run_id = repo.start_run(
            session, flow_run_id="f-1", options={"replay": "fixtures/http", "sources": ["a"]}
        )
        assert run_record(session, run_id).status == "running"
        repo.record_source_result(
            session, run_id, "hkma-press", status="ok", found=3, new=3, duplicates=0, errors=0
        )
        # Recording again replaces the row (a retried task).
        repo.record_source_result(
            session, run_id, "hkma-press", status="ok", found=10, new=8, duplicates=2, errors=0
        )
        repo.record_source_result(
            session,
            run_id,
            "fintechnews-hk",
            status="failed",
            found=0,
            new=0,
            duplicates=0,
            errors=1,
            error="source 'fintechnews-hk': FeedError: not a feed",
        )
        repo.finish_run(session, run_id, "completed_with_errors")
        repo.finish_run(session, older, "failed", error="configuration: bad kind")
    with Session(engine) as session:
        record = run_record(session, run_id)
        assert record.status == "completed_with_errors" and record.flow_run_id == "f-1"
        assert record.options == {"replay": "fixtures/http", "sources": ["a"]}
        assert record.finished_at is not None and record.finished_at >= record.started_at
        rows = {row.source_id: row for row in record.sources}
        assert (rows["hkma-press"].found, rows["hkma-press"].new) == (10, 8)
        assert rows["hkma-press"].duplicates == 2 and rows["hkma-press"].error is None
        assert rows["fintechnews-hk"].status == "failed" and rows["fintechnews-hk"].errors == 1
        assert "FeedError" in (rows["fintechnews-hk"].error or "")
        latest = repo.latest_runs(session, limit=5)
        assert [r.id for r in latest] == [run_id, older]
        assert latest[1].error == "configuration: bad kind" and latest[1].status == "failed"
        assert [r.id for r in repo.latest_runs(session, limit=1)] == [run_id]
        as_json = json.loads(json.dumps(repo.run_record_dict(record)))
        assert as_json["sources"][0]["source_id"] == "fintechnews-hk"
        assert datetime.fromisoformat(as_json["started_at"]) == record.started_at
        with pytest.raises(StoreError, match="'done'"):
            repo.finish_run(session, run_id, "done")
        with pytest.raises(StoreError, match="run 999 does not exist"):
            repo.finish_run(session, 999, "completed")


def test_fetch_state_round_trip(session: Session) -> None:
    url = "https://fintechnews.hk/feed/"
    assert repo.fetch_state_get(session, url) is None
    repo.fetch_state_put(session, url, etag='"abc"', last_modified="Mon, 03 Nov 2025 09:00:00 GMT")
    repo.fetch_state_put(session, url, etag='"def"', last_modified=None, status=200)
    state = repo.fetch_state_get(session, url)
    assert state == Validators(etag='"def"', last_modified=None, last_status=200)


def test_two_writers_racing_on_one_item_store_one_row(engine: Engine) -> None:
    store(engine)  # the sources
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    started = threading.Barrier(2)

    def writer() -> None:
        try:
            with Session(engine) as session, session.begin():
                started.wait()
                results.append(repo.insert_article(session, tagged(), item_key="hkma-press:1"))
                time.sleep(0.2)  # hold the transaction open while the other writer arrives
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({article_id for article_id, _ in results}) == 1
    with Session(engine) as session:
        assert count_articles(session) == 1
