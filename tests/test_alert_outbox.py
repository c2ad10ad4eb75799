"""The outbox in the store: one row per (rule, story, channel, event), claimed by one sender,
reclaimed from a sender that died, retried, dead, revived."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipeline.alerts.deliver import gone_claimers, new_claimer
from pipeline.alerts.owed import alert_key
from pipeline.models import Article, OwedAlert, Source, TaggedArticle
from pipeline.store import alert_reads, db, repo, schema

NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=1)


def _stored_story(engine: Engine, n: int = 1) -> list[tuple[int, int]]:
    """``n`` stored articles, each a story of its own: (article id, story id)."""
    source = Source(id="hkma-press", name="HKMA", kind="hkma_api", urls=("https://x.example/",))
    out = []
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, [source])
        for index in range(n):
            article = Article(
                url=f"https://x.example/{index}",
                title=f"Release {index}",
                text="The HKMA announced something. " * 5,
                source_id="hkma-press",
                published_at=NOW,
                doc_type="press_release",
                regulator=True,
            )
            tagged = TaggedArticle(article, (), f"hash{index}", "v")
            article_id, _ = repo.insert_article(session, tagged, item_key=f"hkma-press:{index}")
            stories = repo.place_articles(session, [repo.Placement(article_id, None, None, 1.0)])
            out.append((article_id, stories[article_id]))
    return out


def _owe(engine: Engine, pairs: list[tuple[int, int]], channel: str = "hook") -> int:
    rows = [
        OwedAlert("reg", story, article, channel, alert_key(story, channel, "new"), NOW)
        for article, story in pairs
    ]
    with Session(engine) as session, session.begin():
        return repo.enqueue_alerts(session, rows)


def _claim(engine: Engine, claimer: str, **kwargs: object) -> list[repo.ClaimedRow]:
    with Session(engine) as session:
        return repo.claim_alerts(
            session,
            claimer=claimer,
            now=kwargs.pop("now", NOW),  # type: ignore[arg-type]
            stale_before=kwargs.pop("stale_before", LONG_AGO),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )


def _statuses(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(schema.AlertRow.status).order_by(schema.AlertRow.id)))


def test_a_row_is_queued_once_per_rule_story_channel_and_event(engine: Engine) -> None:
    pairs = _stored_story(engine)
    assert _owe(engine, pairs) == 1
    assert _owe(engine, pairs) == 0
    story = pairs[0][1]
    with Session(engine) as session:
        assert repo.alerted_channels(session, [story]) == {(story, "hook")}
        assert repo.alerted_channels(session, [story + 1000]) == set()


def test_a_row_owed_twice_in_one_call_is_queued_once_the_first_as_given(engine: Engine) -> None:
    ((article, story),) = _stored_story(engine)
    key = alert_key(story, "hook", "new")
    first = OwedAlert("reg", story, article, "hook", key, NOW, severity="high")
    again = OwedAlert("reg", story, article, "hook", key, NOW, severity="low")
    other_rule = OwedAlert("other", story, article, "hook", key, NOW)
    with Session(engine) as session, session.begin():
        assert repo.enqueue_alerts(session, [first, again, other_rule, again]) == 2
    with Session(engine) as session:
        rows = session.execute(
            select(schema.AlertRow.rule, schema.AlertRow.severity).order_by(schema.AlertRow.rule)
        ).all()
    assert [tuple(row) for row in rows] == [("other", "normal"), ("reg", "high")]


def test_two_claimers_never_take_the_same_row(engine: Engine) -> None:
    _owe(engine, _stored_story(engine, 6))
    first = _claim(engine, "a", limit=4)
    second = _claim(engine, "b", limit=4)
    assert len(first) == 4 and len(second) == 2
    assert not {row.id for row in first} & {row.id for row in second}
    assert _claim(engine, "c") == []
    assert all(row.attempts == 1 for row in first + second)


def test_a_stale_claim_or_a_dead_claimer_gives_the_row_back(engine: Engine) -> None:
    _owe(engine, _stored_story(engine, 2))
    taken = _claim(engine, "gone-host:1:x", limit=1)
    assert len(taken) == 1
    # A live claim: another sender may not take it.
    assert [r.id for r in _claim(engine, "b", limit=5)] != [taken[0].id]
    assert _claim(engine, "c") == []
    # Named as a dead claimer: taken again, same key, a second attempt.
    again = _claim(engine, "d", dead_claimers=["gone-host:1:x"])
    assert [(r.id, r.key, r.attempts) for r in again] == [(taken[0].id, taken[0].key, 2)]
    # Stale by time: a claim made before ``stale_before``.
    later = _claim(engine, "e", now=NOW + timedelta(hours=1), stale_before=NOW + timedelta(1))
    assert len(later) == 2


def test_failure_waits_then_dies_and_retry_revives(engine: Engine) -> None:
    _owe(engine, _stored_story(engine, 1))
    [row] = _claim(engine, "a")
    with Session(engine) as session, session.begin():
        assert (
            repo.mark_failed(
                session, [row.id], "a", error="HTTP 503", retry_at=NOW + timedelta(minutes=5)
            )
            == 1
        )
    assert _statuses(engine) == ["failed"]
    assert _claim(engine, "a") == []  # waiting for its retry time
    assert _claim(engine, "a", tried_before=NOW + timedelta(seconds=1))  # an operator's send
    with Session(engine) as session, session.begin():
        repo.mark_failed(session, [row.id], "a", error="HTTP 503", retry_at=None)
    assert _statuses(engine) == ["dead"]
    assert _claim(engine, "a", now=NOW + timedelta(days=30), stale_before=NOW) == []
    with Session(engine) as session, session.begin():
        assert repo.retry_alerts(session, ids=[row.id]) == 1
    [revived] = _claim(engine, "a")
    assert revived.attempts == 1
    with Session(engine) as session, session.begin():
        assert repo.mark_sent(session, [revived.id], "a", NOW) == 1
    with Session(engine) as session:
        [shown] = alert_reads.outbox_rows(session)
    assert (shown.status, shown.last_error, shown.sent_at) == ("sent", None, NOW)


def test_a_sender_that_lost_its_claim_does_not_overwrite_the_new_one(engine: Engine) -> None:
    _owe(engine, _stored_story(engine, 1))
    [row] = _claim(engine, "old")
    _claim(engine, "new", dead_claimers=["old"])
    with Session(engine) as session, session.begin():
        assert repo.mark_sent(session, [row.id], "old", NOW) == 0
    assert _statuses(engine) == ["sending"]


def test_gone_claimers_are_processes_of_this_host_that_ended() -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    me = new_claimer()
    host = me.split(":")[0]
    dead = f"{host}:{ended.stdout.strip()}:abcd"
    assert gone_claimers([me, dead, "other-host:1:abcd"]) == [dead]


def test_list_counts_every_match_and_filters(engine: Engine) -> None:
    pairs = _stored_story(engine, 3)
    _owe(engine, pairs)
    _owe(engine, pairs[:1], channel="mail")
    with Session(engine) as session:
        assert alert_reads.count_outbox_rows(session) == 4
        where = alert_reads.OutboxFilter(channel="mail")
        assert [r.story_id for r in alert_reads.outbox_rows(session, where)] == [pairs[0][1]]
        newest = alert_reads.outbox_rows(session, limit=2)
        assert len(newest) == 2 and newest[0].id > newest[1].id
        shown = newest[0]
        assert (shown.title, shown.source_id, shown.published_at) == (
            "Release 0",
            "hkma-press",
            NOW,
        )
        assert shown.url == "https://x.example/0" and shown.regulator
        assert shown.snippet == "The HKMA announced something. " * 5
        assert repo.outbox_counts(session) == {"pending": 4}


def test_migration_keeps_every_alert_row_of_the_old_outbox(db_url: str) -> None:
    from sqlalchemy import text

    db.upgrade(db_url, "0005")
    engine = db.make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO sources (id, name, kind, lang, regulator, doc_type, enabled, urls)"
                    " VALUES ('hkma-press', 'HKMA', 'hkma_api', 'en', true, 'press_release',"
                    " true, '[]')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO stories (id, article_count, outlets, languages, updated_at)"
                    " VALUES (7, 2, '[]', '[]', :now)"
                ),
                {"now": NOW},
            )
            for article_id in (1001, 1002):  # past the ids the sequences give later
                connection.execute(
                    text(
                        "INSERT INTO articles (id, item_key, source_id, url, title, text,"
                        " doc_type, regulator, first_seen_at, content_hash, taxonomy_version,"
                        " categories, entities, story_id) VALUES (:id, :key, 'hkma-press',"
                        " :url, 't', 'x', 'press_release', true, :now, '', '', '[]', '[]', 7)"
                    ),
                    {
                        "id": article_id,
                        "key": f"k{article_id}",
                        "url": f"u{article_id}",
                        "now": NOW,
                    },
                )
            for alert_id, article_id, status, attempts in [
                (1, 1001, "sent", 1),
                (2, 1002, "failed", 5),
                (3, 1002, "pending", 0),
            ]:
                channel = "jsonl" if alert_id < 3 else "mail"
                connection.execute(
                    text(
                        "INSERT INTO alerts (id, article_id, rule, channel, status, created_at,"
                        " attempts) VALUES (:id, :article, 'reg', :channel, :status, :now,"
                        " :attempts)"
                    ),
                    {
                        "id": alert_id,
                        "article": article_id,
                        "channel": channel,
                        "status": status,
                        "now": NOW,
                        "attempts": attempts,
                    },
                )
        db.upgrade(db_url)
        with Session(engine) as session:
            rows = alert_reads.outbox_rows(session, newest_first=False)
        assert [(r.id, r.story_id, r.channel, r.event, r.status) for r in rows] == [
            (1, 7, "jsonl", "new", "sent"),
            (2, 7, "jsonl", "article:1002", "dead"),
            (3, 7, "mail", "new", "pending"),
        ]
        assert rows[0].key == alert_key(7, "jsonl", "new")
        # New rows get ids past the carried ones.
        _owe(engine, _stored_story(engine, 1))
        with Session(engine) as session:
            assert max(r.id for r in alert_reads.outbox_rows(session)) == 4
    finally:
        engine.dispose()
