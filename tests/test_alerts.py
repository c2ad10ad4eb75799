"""Alert rules, channels and outbox delivery: every alert once, failures kept for a retry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.local_site import Answer, LocalSite

from pipeline.alerts import deliver_pending, matching_rules
from pipeline.alerts.channels import (
    AppriseChannel,
    ConsoleChannel,
    DeliveryError,
    JsonlChannel,
    alert_record,
    alert_text,
)
from pipeline.alerts.config import AlertChannel, AlertRule, AlertsConfig
from pipeline.errors import ConfigError
from pipeline.models import Alert, Article, Source, Tag, TaggedArticle
from pipeline.store import db, repo, schema

NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)


def tagged(
    *, regulator: bool, source: str = "hkma-press", tags: tuple[Tag, ...] = ()
) -> TaggedArticle:
    article = Article(
        url=f"https://example.org/{source}/1",
        title="Stablecoin issuer licences granted",
        text="The HKMA granted the first stablecoin issuer licences. " * 8,
        canonical_url=f"https://example.org/{source}/1",
        published_at=NOW,
        source_id=source,
        item_id="20251103-1",
        doc_type="press_release",
        regulator=regulator,
    )
    return TaggedArticle(
        article=article, tags=tags, content_hash="h" + source, taxonomy_version="v"
    )


STABLECOIN = Tag(id="stablecoins", name="Stablecoins", kind="topic", type="topic", count=2)


def test_rules_match_on_every_condition_given() -> None:
    regulator_rule = AlertRule(id="reg", channels=("c",), regulator=True)
    topic_rule = AlertRule(id="topic", channels=("c",), topics=("Stablecoins",))
    source_rule = AlertRule(id="src", channels=("c",), sources=("sfc-news",), regulator=True)
    rules = [regulator_rule, topic_rule, source_rule]
    assert matching_rules(rules, tagged(regulator=True)) == [regulator_rule]
    assert matching_rules(rules, tagged(regulator=False, tags=(STABLECOIN,))) == [topic_rule]
    assert matching_rules(rules, tagged(regulator=True, source="sfc-news")) == [
        regulator_rule,
        source_rule,
    ]
    assert matching_rules(rules, tagged(regulator=False)) == []


def test_jsonl_channel_appends_one_line_per_alert(tmp_path: Path) -> None:
    alert = Alert(
        id=7,
        article_id=3,
        source_id="sfc-news",
        rule="reg",
        channel="jsonl",
        title="T",
        url="https://example.org/x",
        published_at=NOW,
        created_at=NOW,
        snippet="s",
    )
    path = tmp_path / "out" / "alerts.jsonl"
    JsonlChannel(path).send(alert)
    JsonlChannel(path).send(alert)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [alert_record(alert)] * 2
    assert lines[0]["published_at"] == "2025-11-03T17:30:00+08:00"


def test_date_only_regulator_items_show_their_hong_kong_day() -> None:
    midnight_hkt = datetime(2025, 11, 19, 16, 0, tzinfo=UTC)  # 20 Nov 00:00 in Hong Kong
    alert = Alert(
        id=1,
        article_id=1,
        source_id="hkma-press",
        rule="r",
        channel="console",
        title="Scam alert related to banks",
        url="https://example.org/x",
        published_at=midnight_hkt,
        created_at=NOW,
    )
    assert "(2025-11-20)" in alert_text(alert)
    assert alert_record(alert)["published_at"] == "2025-11-20T00:00:00+08:00"


def test_jsonl_channel_reports_an_unwritable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    alert = Alert(
        id=1,
        article_id=1,
        source_id="s",
        rule="r",
        channel="jsonl",
        title="T",
        url="u",
        published_at=None,
        created_at=NOW,
    )
    with pytest.raises(DeliveryError, match="alert 1"):
        JsonlChannel(blocker / "alerts.jsonl").send(alert)


def test_outbox_delivers_each_alert_once_and_keeps_failures(
    migrated_db_url: str, tmp_path: Path
) -> None:
    engine = db.make_engine(migrated_db_url)
    source = Source(
        id="hkma-press", name="HKMA", kind="hkma_api", urls=("https://x.example/",), regulator=True
    )
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, [source])
        article_id, created = repo.insert_article(
            session, tagged(regulator=True), item_key="hkma-press:20251103-1"
        )
        assert created
        assert repo.enqueue_alerts(session, [(article_id, "reg", "jsonl")])
        assert repo.enqueue_alerts(session, [(article_id, "reg", "broken")])
        assert not repo.enqueue_alerts(session, [(article_id, "reg", "jsonl")])
    out = tmp_path / "alerts.jsonl"
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    config = AlertsConfig(
        rules=(AlertRule(id="reg", channels=("jsonl", "broken"), regulator=True),),
        channels={
            "jsonl": AlertChannel(id="jsonl", kind="jsonl", path=str(out)),
            "broken": AlertChannel(id="broken", kind="jsonl", path=str(blocker / "a.jsonl")),
        },
    )
    console = Console(file=open(tmp_path / "console.txt", "w"))  # noqa: SIM115
    first = deliver_pending(engine, config, console=console)
    assert (first.sent, first.failed) == (1, 1)
    second = deliver_pending(engine, config, console=console)
    assert second.sent == 0 and second.failed == 1
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    with Session(engine) as session:
        statuses = sorted(a.status for a in repo.list_alerts(session))
    assert statuses == ["failed", "sent"]
    engine.dispose()


def test_apprise_channel_refuses_an_unreadable_url_without_showing_its_password() -> None:
    with pytest.raises(ConfigError) as caught:
        AppriseChannel("mailtos://ops:hunter2@", name="mail")
    assert str(caught.value) == (
        "alert channel 'mail': URL mailtos://***@ is not a URL Apprise can read"
    )


def test_console_channel_prints_bracketed_titles_as_written(tmp_path: Path) -> None:
    out = tmp_path / "console.txt"
    with out.open("w", encoding="utf-8") as handle:
        channel = ConsoleChannel(Console(file=handle, width=200))
        channel.send(
            Alert(
                id=1,
                article_id=1,
                source_id="sfc-news",
                rule="r",
                channel="console",
                title="[Update] SFC warns of [red] flags",
                url="https://example.org/x",
                published_at=NOW,
                created_at=NOW,
            )
        )
    assert "[Update] SFC warns of [red] flags" in out.read_text(encoding="utf-8")


def test_a_channel_that_cannot_be_built_fails_alone(
    migrated_db_url: str, tmp_path: Path, local_site: LocalSite
) -> None:
    local_site.set("/hook", Answer(b"ok", 200, "text/plain"), method="POST")
    engine = db.make_engine(migrated_db_url)
    source = Source(
        id="hkma-press", name="HKMA", kind="hkma_api", urls=("https://x.example/",), regulator=True
    )
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, [source])
        article_id, _ = repo.insert_article(
            session, tagged(regulator=True), item_key="hkma-press:20251103-1"
        )
        for channel in ("mail", "hook", "jsonl"):
            repo.enqueue_alerts(session, [(article_id, "reg", channel)])
    out = tmp_path / "alerts.jsonl"
    webhook = local_site.url.replace("http://", "json://") + "/hook"
    # A URL load_alerts would refuse, as when Apprise changes under a checked file.
    config = AlertsConfig(
        rules=(AlertRule(id="reg", channels=("mail", "hook", "jsonl"), regulator=True),),
        channels={
            "mail": AlertChannel(id="mail", kind="apprise", url="mailtos://ops:hunter2@"),
            "hook": AlertChannel(id="hook", kind="apprise", url=webhook),
            "jsonl": AlertChannel(id="jsonl", kind="jsonl", path=str(out)),
        },
    )
    report = deliver_pending(engine, config)
    assert (report.sent, report.failed) == (2, 1)
    reason = "alert channel 'mail': URL mailtos://***@ is not a URL Apprise can read"
    assert report.errors == [reason]
    [(method, path, body)] = local_site.requests
    assert (method, path) == ("POST", "/hook")
    assert b"Stablecoin issuer licences granted" in body
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    with Session(engine) as session:
        rows = session.execute(
            select(schema.AlertRow.channel, schema.AlertRow.status, schema.AlertRow.last_error)
        ).all()
    assert sorted(rows) == [
        ("hook", "sent", None),
        ("jsonl", "sent", None),
        ("mail", "failed", reason),
    ]
    assert "hunter2" not in reason
    engine.dispose()
