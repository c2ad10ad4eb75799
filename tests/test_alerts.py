"""The alert commands and flow as the desk and the operator use them: `alerts list` says what it
left out, `retry` revives the dead, `preview` shows what a rule would match, `test` tries one
channel, `ingest --format json` stays JSON, the send-alerts flow runs, and no secret leaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from support.alerting import FIXTURES, alerts_toml, hook_channel, ingest, jsonl_channel, outbox
from support.receivers import free_port, smtp_server, webhook_receiver
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.store import db, schema

runner = CliRunner()


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A database holding the fixtures' run, its alerts sent to a JSONL file."""
    folder = tmp_path_factory.mktemp("alerts")
    url = f"sqlite:///{folder / 'alerts.db'}"
    db.upgrade(url)
    alerts = alerts_toml(folder, {"jsonl": jsonl_channel(folder / "alerts.jsonl")})
    outcome = ingest(url, alerts)
    assert outcome.delivery is not None and outcome.delivery.ok
    yield url, alerts


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_alerts_list_says_how_many_rows_it_left_out(stored: tuple[str, Path]) -> None:
    url, _ = stored
    total = len(outbox(url))
    code, out, err = invoke("alerts", "list", "--limit", "5", "--format", "json", "--db", url)
    assert code == 0
    rows = json.loads(out)  # stdout is JSON only; the note is on stderr
    assert len(rows) == 5
    assert f"{total - 5} more alert(s) match" in err
    assert {"rule", "url", "attempts", "last_error", "story_id", "key"} <= set(rows[0])
    code, out, err = invoke("alerts", "list", "--limit", str(total), "--db", url)
    assert code == 0 and "more alert" not in err
    assert "rule" in out and "last error" in out and "url" in out


def test_alerts_list_filters_by_status_rule_and_story(stored: tuple[str, Path]) -> None:
    url, _ = stored
    rows = outbox(url)
    digest = [r for r in rows if r.mode == "digest"]
    code, out, _ = invoke(
        "alerts",
        "list",
        "--rule",
        "hkma-sfc-digital-assets",
        "--format",
        "json",
        "--db",
        url,
        "--limit",
        "1000",
    )
    assert code == 0 and len(json.loads(out)) == len(digest)
    story = rows[0].story_id
    code, out, _ = invoke("alerts", "list", "--story", str(story), "--format", "json", "--db", url)
    assert {r["story_id"] for r in json.loads(out)} == {story}
    code, _, err = invoke("alerts", "list", "--status", "lost", "--db", url)
    assert code == 1 and "'lost'" in err


def test_retry_revives_dead_alerts_and_send_delivers_them(
    stored: tuple[str, Path], tmp_path: Path
) -> None:
    url, alerts = stored
    engine = db.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            session.execute(
                update(schema.AlertRow)
                .where(schema.AlertRow.status == "sent", schema.AlertRow.mode == "immediate")
                .values(status="dead", attempts=6, last_error="HTTP 503")
            )
    finally:
        engine.dispose()
    dead = [r for r in outbox(url) if r.status == "dead"]
    assert dead
    code, _, err = invoke("alerts", "retry", "--db", url)
    assert code == 1 and "name the alerts" in err
    code, out, _ = invoke("alerts", "retry", str(dead[0].id), "--db", url)
    assert code == 0 and "1 alert(s) owed again" in out
    code, out, _ = invoke("alerts", "retry", "--all", "--db", url)
    assert f"{len(dead) - 1} alert(s) owed again" in out
    before = len((alerts.parent / "alerts.jsonl").read_text(encoding="utf-8").splitlines())
    code, out, _ = invoke("alerts", "send", "--db", url, "--alerts", str(alerts))
    assert code == 0, out
    after = (alerts.parent / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(after) == before + len({r.key for r in dead})  # rows of one key: one message
    assert {r.status for r in outbox(url) if r.mode == "immediate"} <= {"sent", "baselined"}


def test_preview_lists_the_stories_a_rule_would_have_matched(stored: tuple[str, Path]) -> None:
    url, alerts = stored
    code, out, _ = invoke(
        "alerts",
        "preview",
        "sfc-enforcement",
        "--days",
        "5000",
        "--format",
        "json",
        "--db",
        url,
        "--alerts",
        str(alerts),
    )
    assert code == 0, out
    hits = json.loads(out)
    assert hits and all(h["source"].startswith("sfc-") for h in hits)
    assert len({h["story_id"] for h in hits}) == len(hits)
    code, _, err = invoke("alerts", "preview", "no-such-rule", "--db", url, "--alerts", str(alerts))
    assert code == 1 and "hkma-new-item" in err
    assert len(outbox(url)) == len(outbox(url))  # nothing queued: reading only


def test_alerts_test_tries_one_channel(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    with webhook_receiver() as receiver:
        alerts = alerts_toml(
            tmp_path,
            {"jsonl": jsonl_channel(out), "hook": hook_channel(receiver.apprise_url())},
        )
        code, stdout, _ = invoke("alerts", "test", "--channel", "hook", "--alerts", str(alerts))
        assert code == 0 and "hook: ok" in stdout
        assert len(receiver.requests) == 1 and not out.exists()
        assert receiver.requests[0].key
    code, _, err = invoke("alerts", "test", "--channel", "nope", "--alerts", str(alerts))
    assert code == 1 and "'nope' is not declared" in err


def test_ingest_json_output_is_json_and_a_failed_delivery_exits_1(
    migrated_db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    alerts = alerts_toml(
        tmp_path,
        {"console": 'kind = "console"', "hook": hook_channel(f"json://127.0.0.1:{port}/h", 2)},
    )
    result = runner.invoke(
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
            "sfc-news",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 1
    summary = json.loads(result.stdout)  # console alerts and errors went to stderr
    assert summary["alerts"]["sent"] > 0 and summary["alerts"]["failed"] > 0
    assert "ALERT" in result.stderr or "sfc" in result.stderr.lower()
    assert "alert delivery failed" in result.stderr


def test_no_secret_in_output_logs_errors_or_the_database(tmp_path: Path) -> None:
    secret = "s3cr3t-Desk-Pa55"
    url = f"sqlite:///{tmp_path / 'n.db'}"
    db.upgrade(url)
    with smtp_server() as server:
        mail = server.url("mailto", password="${NEWSWATCH_TEST_SMTP_PASSWORD}")
        alerts = alerts_toml(tmp_path, {"mail": f'kind = "apprise"\nurl = "{mail}"\ntimeout = 5'})
        env = {**os.environ, "NEWSWATCH_TEST_SMTP_PASSWORD": secret}
        command = [sys.executable, "-m", "pipeline.cli"]
        runs = [
            [
                *command,
                "ingest",
                "--replay",
                str(FIXTURES),
                "--db",
                url,
                "--alerts",
                str(alerts),
                "--source",
                "hkma-press",
                "--verbose",
            ],
            [*command, "alerts", "send", "--db", url, "--alerts", str(alerts), "--verbose"],
            [*command, "alerts", "list", "--db", url, "--format", "json"],
            [*command, "alerts", "test", "--alerts", str(alerts), "--verbose"],
            [*command, "sources", "check", "--alerts", str(alerts)],
        ]
        outputs = [subprocess.run(c, capture_output=True, text=True, env=env) for c in runs]
        assert server.mails == [] and server.logins and not any(ok for _, ok in server.logins)
    ingest_run, send_run = outputs[0], outputs[1]
    assert ingest_run.returncode == 1 and send_run.returncode == 1
    assert "535" in send_run.stderr or "auth" in send_run.stderr.lower(), send_run.stderr
    # Logs go to stderr, captured with the rest.
    shown = "".join(o.stdout + o.stderr for o in outputs)
    assert secret not in shown
    database = (tmp_path / "n.db").read_bytes()
    assert secret.encode() not in database
    rows = outbox(url)
    assert rows and all(secret not in (r.last_error or "") for r in rows)
    assert any(r.last_error for r in rows if r.mode == "immediate")


def test_the_send_alerts_flow_delivers_and_ends_failed_when_a_delivery_fails(
    tmp_path: Path,
) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from flows.send_alerts import send_alerts
    from pipeline.errors import DeliveryError

    url = f"sqlite:///{tmp_path / 'flow.db'}"
    db.upgrade(url)
    out = tmp_path / "a.jsonl"
    down = hook_channel(f"json://127.0.0.1:{free_port()}/h", 2)
    held = {"jsonl": jsonl_channel(out), "hook": down}
    ingest(
        url,
        alerts_toml(
            tmp_path, {k: v + "\nenabled = false" for k, v in held.items()}, name="held.toml"
        ),
        source_ids=["hkma-press"],
    )
    assert not out.exists()
    only_jsonl = alerts_toml(
        tmp_path, {"jsonl": jsonl_channel(out), "hook": down + "\nenabled = false"}
    )
    with prefect_test_harness():
        report = send_alerts(db_url=url, alerts_path=str(only_jsonl))
        assert report["sent"] > 0 and report["failed"] == 0
        assert len(out.read_text(encoding="utf-8").splitlines()) == report["sent"]
        assert send_alerts(db_url=url, alerts_path=str(only_jsonl))["sent"] == 0
        both = alerts_toml(tmp_path, held, name="both.toml")
        with pytest.raises(DeliveryError, match="hook"):
            send_alerts(db_url=url, alerts_path=str(both))
    hook_rows = [r for r in outbox(url) if r.channel == "hook" and r.mode == "immediate"]
    assert hook_rows and {r.status for r in hook_rows} == {"failed"}


class Exploding:
    """A channel with a bug of its own."""

    def send(self, message: object) -> None:
        raise RuntimeError("boom")


def test_a_channel_that_raises_fails_its_own_messages_only(tmp_path: Path) -> None:
    from pipeline.alerts import send_alerts
    from pipeline.configuration import load_alerts_config
    from pipeline.settings import find_config_files

    url = f"sqlite:///{tmp_path / 'n.db'}"
    db.upgrade(url)
    out = tmp_path / "a.jsonl"
    channels = {"jsonl": jsonl_channel(out), "buggy": 'kind = "console"'}
    held = {k: v + "\nenabled = false" for k, v in channels.items()}
    ingest(url, alerts_toml(tmp_path, held, name="held.toml"), source_ids=["hkma-press"])
    config = load_alerts_config(find_config_files(None, alerts=alerts_toml(tmp_path, channels)))
    engine = db.make_engine(url)
    try:
        report = send_alerts(engine, config, channels={"buggy": Exploding()})
    finally:
        engine.dispose()
    assert report.sent == report.failed > 0
    assert all("RuntimeError: boom" in error for error in report.errors)
    assert len(out.read_text(encoding="utf-8").splitlines()) == report.sent
    buggy = [r for r in outbox(url) if r.channel == "buggy" and r.mode == "immediate"]
    assert {r.status for r in buggy} == {"failed"}
