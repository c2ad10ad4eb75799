"""Alerts end to end on the recorded fixtures: one per story and channel, a receiver that is
down, a first-run baseline, digests at their hour; real receivers on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from support.alerting import (
    FIXTURES,
    alerts_toml,
    hook_channel,
    ingest,
    jsonl_channel,
    lines,
    outbox,
    stories_with_sources,
)
from support.receivers import free_port, webhook_receiver
from typer.testing import CliRunner

from pipeline.alerts import send_alerts
from pipeline.cli import app
from pipeline.configuration import load_alerts_config
from pipeline.settings import find_config_files
from pipeline.store import db


def test_every_regulator_story_alerts_once_per_channel(
    migrated_db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "alerts.jsonl"
    alerts = alerts_toml(tmp_path, {"jsonl": jsonl_channel(out)})
    first = ingest(migrated_db_url, alerts)
    assert first.delivery is not None and first.delivery.ok, first.delivery
    sent = lines(out)
    assert sent, "no alert was delivered"
    story_ids = [line["story_id"] for line in sent]
    assert len(story_ids) == len(set(story_ids)), "a story alerted twice on one channel"
    assert len({line["alert_id"] for line in sent}) == len(sent)
    sources = stories_with_sources(migrated_db_url)
    # Every HKMA release and its Chinese version: one story, one alert, both versions listed.
    bilingual = [s for s, ids in sources.items() if {"hkma-press", "hkma-press-tc"} <= ids]
    assert len(bilingual) >= 10
    for story in bilingual:
        [line] = [line for line in sent if line["story_id"] == story]
        languages = {v["language"] for v in line["versions"]}  # type: ignore[union-attr]
        assert any(str(lang).startswith("zh") for lang in languages), line["versions"]
        assert any(str(lang).startswith("en") for lang in languages), line["versions"]
    # The joint statement, stored from both regulators' sources: one story, one alert.
    joint = [
        s
        for s, ids in sources.items()
        if any(i.startswith("hkma") for i in ids) and any(i.startswith("sfc") for i in ids)
    ]
    assert joint, "the joint statement is not one story"
    for story in joint:
        assert story_ids.count(story) == 1
    # Every regulator item's story was alerted (or is waiting for its digest).
    regulator_stories = {
        s for s, ids in sources.items() if any(i.startswith(("hkma", "sfc")) for i in ids)
    }
    immediate = {row.story_id for row in outbox(migrated_db_url) if row.mode == "immediate"}
    assert regulator_stories <= immediate
    second = ingest(migrated_db_url, alerts)
    assert second.alerts_queued == 0 and second.delivery is not None
    assert second.delivery.sent == 0
    assert len(lines(out)) == len(sent)


def test_a_receiver_that_is_down_keeps_alerts_owed_until_it_is_back(
    migrated_db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    alerts = alerts_toml(tmp_path, {"hook": hook_channel(f"json://127.0.0.1:{port}/hook", 5)})
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--replay",
            str(FIXTURES),
            "--db",
            migrated_db_url,
            "--alerts",
            str(alerts),
            "--source",
            "hkma-press",
            "--source",
            "hkma-press-tc",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "alert delivery failed" in result.output
    rows = outbox(migrated_db_url)
    immediate = [row for row in rows if row.mode == "immediate"]
    assert immediate and all(row.status == "failed" for row in immediate)
    assert all(row.last_error and str(port) in row.last_error for row in immediate)
    with webhook_receiver(port=port) as back:
        sent = CliRunner().invoke(
            app, ["alerts", "send", "--db", migrated_db_url, "--alerts", str(alerts)]
        )
        assert sent.exit_code == 0, sent.output
        keys = {row.key for row in immediate}
        assert sorted(back.unique_keys()) == sorted(keys)
        assert len(back.requests) == len(keys)
        again = CliRunner().invoke(
            app, ["alerts", "send", "--db", migrated_db_url, "--alerts", str(alerts)]
        )
        assert again.exit_code == 0 and len(back.requests) == len(keys)
    assert {row.status for row in outbox(migrated_db_url) if row.mode == "immediate"} == {"sent"}


def test_first_run_baselines_history_and_alerts_the_recent(
    migrated_db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "alerts.jsonl"
    alerts = alerts_toml(tmp_path, {"jsonl": jsonl_channel(out)}, window="24h")
    outcome = ingest(migrated_db_url, alerts)
    rows = outbox(migrated_db_url)
    baselined = [row for row in rows if row.status == "baselined"]
    alerted = [row for row in rows if row.status == "sent"]
    assert baselined and alerted
    newest = max(row.published_at for row in rows if row.published_at)
    cutoff = newest - timedelta(hours=24)
    assert all(row.published_at and row.published_at < cutoff for row in baselined)
    assert all(row.published_at is None or row.published_at >= cutoff for row in alerted)
    assert outcome.alerts_queued == len([row for row in rows if row.status != "baselined"])
    assert {line["alert_id"] for line in lines(out)} == {row.key for row in alerted}


def test_a_digest_is_one_message_per_rule_and_day_at_its_hour(
    migrated_db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "alerts.jsonl"
    alerts = alerts_toml(tmp_path, {"jsonl": jsonl_channel(out)})
    ingest(migrated_db_url, alerts)
    digest_rows = [row for row in outbox(migrated_db_url) if row.mode == "digest"]
    assert len({row.story_id for row in digest_rows}) >= 3
    assert {row.status for row in digest_rows} == {"pending"}
    [due] = {row.due_at for row in digest_rows}
    config = load_alerts_config(find_config_files(None, alerts=alerts))
    engine = db.make_engine(migrated_db_url)
    try:
        early = send_alerts(engine, config, clock=lambda: due - timedelta(minutes=1))
        assert early.sent == 0 and early.waiting >= len(digest_rows)
        report = send_alerts(engine, config, clock=lambda: due + timedelta(minutes=1))
    finally:
        engine.dispose()
    assert report.sent == 1
    [digest] = [line for line in lines(out) if line.get("schema") == "newswatch.digest/1"]
    assert digest["rule"] == "hkma-sfc-digital-assets"
    groups = digest["groups"]
    assert isinstance(groups, list) and groups
    listed = [a["story_id"] for g in groups for a in g["alerts"]]
    assert set(listed) == {row.story_id for row in digest_rows}
    assert {g["regulator"] for g in groups} <= {"HKMA", "SFC", "other"}


def test_a_broken_channel_never_stops_the_others(migrated_db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    with webhook_receiver() as receiver:
        alerts = alerts_toml(
            tmp_path,
            {
                "mail": 'kind = "apprise"\nurl = "mailtos://desk:${NEWSWATCH_TEST_UNSET}@127.0.0.1"',
                "hook": hook_channel(receiver.apprise_url()),
                "jsonl": jsonl_channel(out),
            },
        )
        outcome = ingest(migrated_db_url, alerts, source_ids=["hkma-press"])
    assert outcome.delivery is not None
    rows = outbox(migrated_db_url)
    mail = [row for row in rows if row.channel == "mail" and row.mode == "immediate"]
    assert mail and all(row.status == "failed" for row in mail)
    assert all("NEWSWATCH_TEST_UNSET" in (row.last_error or "") for row in mail)
    assert outcome.delivery.failed == len(mail)
    assert outcome.delivery.sent == 2 * len(mail)
    assert len(receiver.unique_keys()) == len(lines(out)) == len(mail)
