"""Migration 0014: the latest weeks' story-term keys filed again in their fortnight's range,
recovered from the old keys, so that articles stored before the upgrade are still found by
the articles stored after it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from support.store import downgrade

from pipeline.models import Article, Source, TaggedArticle
from pipeline.store import db, repo, schema
from pipeline.stories import features

SOURCE = Source(id="news", name="News", kind="rss", urls=("https://news.example/",))
GOLDEN = 0x9E3779B97F4A7C15
MIX = 0xBF58476D1CE4E5B9


def old_key(term: int, period: int) -> int:
    """A term's key as revision 0013's code filed it."""
    mixed = ((term ^ (period * GOLDEN)) * MIX) & ((1 << 64) - 1)
    return mixed - (1 << 64) if mixed >= 1 << 63 else mixed


def _store_in_old_form(session: Session, index: int, at: datetime) -> tuple[int, set[int]]:
    """An article filed as 0013 filed it; returns its id and the keys the code files now."""
    article = Article(
        url=f"https://news.example/{index}",
        title=f"Regulator licenses stablecoin issuers in landmark decision number {index}",
        text="The regulator granted the first licences to stablecoin issuers. " * 10,
        published_at=at,
        lang="en",
        source_id=SOURCE.id,
    )
    tagged = TaggedArticle(article, (), f"hash-{index}", "v1")
    article_id, _ = repo.insert_article(session, tagged, item_key=f"news:{index}")
    item = features.article_fingerprint(article, key=f"news:{index}")
    repo.file_prints(session, [(article_id, item)])
    period = features._day(at) // features.PERIOD_DAYS
    terms = [features._key(f"t:{term}") for term in item._story_terms()]
    assert terms, "the title makes story terms"
    session.execute(delete(schema.ArticleKey).where(schema.ArticleKey.article_id == article_id))
    old = [old_key(term, period) for term in terms] + sorted(item.band_keys())
    session.add_all(schema.ArticleKey(key=key, article_id=article_id) for key in old)
    return article_id, set(item.stored_keys())


def _keys(session: Session, article_id: int) -> set[int]:
    stmt = select(schema.ArticleKey.key).where(schema.ArticleKey.article_id == article_id)
    return set(session.scalars(stmt))


def _last_evening_of_previous_fortnight(now: datetime) -> datetime:
    """20:00 UTC on the last day of the fortnight before this one: already the next day, and
    the next fortnight, in Hong Kong."""
    first_day = now.toordinal() // features.PERIOD_DAYS * features.PERIOD_DAYS
    return datetime.combine(date.fromordinal(first_day - 1), time(20), tzinfo=UTC)


def test_upgrade_files_recent_term_keys_as_the_code_files_them(db_url: str) -> None:
    db.upgrade(db_url)
    downgrade(db_url, "0013")
    engine = db.make_engine(db_url)
    if engine.dialect.name == "postgresql":
        # Days are UTC days whatever the server's zone: a Hong Kong session must not move one.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            name = connection.exec_driver_sql("SELECT current_database()").scalar()
            connection.exec_driver_sql(f"ALTER DATABASE {name} SET timezone = 'Asia/Hong_Kong'")
        engine.dispose()
    now = datetime.now(UTC)
    try:
        with Session(engine) as session, session.begin():
            repo.sync_sources(session, [SOURCE])
            recent, recent_keys = _store_in_old_form(session, 1, now - timedelta(days=3))
            older, older_keys = _store_in_old_form(session, 2, now - timedelta(days=120))
            evening, evening_keys = _store_in_old_form(
                session, 3, _last_evening_of_previous_fortnight(now)
            )
            stale = _keys(session, older)
            assert not recent_keys <= _keys(session, recent)  # term keys in the old form
        db.upgrade(db_url)
        with Session(engine) as session:
            # Every key the code now files the recent articles under is there, old ones kept.
            assert recent_keys <= _keys(session, recent)
            assert evening_keys <= _keys(session, evening)
            # Past the lookback nothing is added: no lookup reads that fortnight any more.
            assert _keys(session, older) == stale and not older_keys <= stale
            db.check_schema(engine)
    finally:
        engine.dispose()
