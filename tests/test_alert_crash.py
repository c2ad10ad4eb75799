"""Exactly once under crashes and concurrency: an ingestion killed (SIGKILL) while storing or
while sending, then run again; two ``alerts send`` processes at once. The receiver is a real
HTTP server on 127.0.0.1 and counts deliveries by alert id (its Idempotency-Key)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.alerting import FIXTURES, alerts_toml, hook_channel, outbox, stories_with_sources
from support.receivers import Request, WebhookReceiver, webhook_receiver

from pipeline.store import db, schema

# Long enough for Prefect's start, the fixtures' ingestion and a hundred deliveries.
RUN_TIMEOUT = 240


class KillingReceiver(WebhookReceiver):
    """A receiver that kills the sending process when its ``kill_at``-th request arrives,
    before answering: the request is received, the sender never learns it was."""

    def __init__(self, kill_at: int) -> None:
        super().__init__()
        self.kill_at = kill_at
        self.victim: subprocess.Popen[bytes] | None = None

    def _record(self, request: Request) -> int:
        status = super()._record(request)
        if len(self.requests) == self.kill_at and self.victim is not None:
            _kill(self.victim)
        return status


def _ingest(db_url: str, alerts: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pipeline.cli", "ingest", "--replay", str(FIXTURES)]
    command += ["--db", db_url, "--alerts", str(alerts)]
    # A session of its own: the kill takes the run's Prefect server with it, as a machine
    # crash would, instead of leaving it running after the test.
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the run and every process it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _articles(db_url: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(schema.Article)) or 0)
    finally:
        engine.dispose()


def _kill_while_storing(process: subprocess.Popen[bytes], db_url: str) -> None:
    """SIGKILL once the first batch of articles is stored, before any alert is sent."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if _articles(db_url) > 0:
            _kill(process)
            break
        time.sleep(0.05)
    process.wait(RUN_TIMEOUT)


@pytest.mark.parametrize("kill_point", ["while-storing", "first-send", "fourth-send"])
def test_a_killed_ingestion_run_again_delivers_every_item_once(
    kill_point: str, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    db.upgrade(db_url)
    kill_at = {"while-storing": 0, "first-send": 1, "fourth-send": 4}[kill_point]
    receiver = KillingReceiver(kill_at).start()
    try:
        alerts = alerts_toml(tmp_path, {"hook": hook_channel(receiver.apprise_url())})
        killed = _ingest(db_url, alerts)
        receiver.victim = killed
        if kill_at == 0:
            _kill_while_storing(killed, db_url)
        killed.wait(RUN_TIMEOUT)
        assert killed.returncode == -signal.SIGKILL, killed.stderr.read() if killed.stderr else ""
        receiver.victim = None
        again = _ingest(db_url, alerts)
        _, err = again.communicate(timeout=RUN_TIMEOUT)
        assert again.returncode == 0, err.decode()
    finally:
        receiver.stop()
    rows = [row for row in outbox(db_url) if row.mode == "immediate"]
    assert rows and {row.status for row in rows} == {"sent"}
    keys = {row.key for row in rows}
    assert set(receiver.unique_keys()) == keys
    # Every regulator item's story was alerted.
    sources = stories_with_sources(db_url)
    regulator = {s for s, ids in sources.items() if any(i.startswith(("hkma", "sfc")) for i in ids)}
    assert regulator <= {row.story_id for row in rows}
    # Only the message in flight at the kill arrives twice, with the same key: its row was
    # left ``sending`` by a process that is gone, and the next run sent it again.
    repeats = {key: n for key, n in Counter(r.key for r in receiver.requests).items() if n > 1}
    assert len(repeats) == (1 if kill_at else 0), repeats
    assert all(n == 2 for n in repeats.values())


@pytest.mark.postgres
def test_two_senders_at_once_never_deliver_a_row_twice(tmp_path: Path) -> None:
    server = os.environ.get("NEWSWATCH_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("NEWSWATCH_TEST_POSTGRES_URL is not set: no Postgres server to test against")
    from conftest import postgres_database

    with postgres_database(server) as db_url, webhook_receiver(delay=0.05) as receiver:
        db.upgrade(db_url)
        held = hook_channel(receiver.apprise_url()) + "\nenabled = false"
        alerts_toml(tmp_path, {"hook": held}, name="held.toml")
        stored = _ingest(db_url, tmp_path / "held.toml")
        _, err = stored.communicate(timeout=RUN_TIMEOUT)
        assert stored.returncode == 0, err.decode()
        owed = [row for row in outbox(db_url) if row.mode == "immediate"]
        assert len(owed) > 20 and {row.status for row in owed} == {"pending"}
        assert receiver.requests == []
        alerts = alerts_toml(tmp_path, {"hook": hook_channel(receiver.apprise_url())})
        command = [sys.executable, "-m", "pipeline.cli", "alerts", "send", "--db", db_url]
        senders = [
            subprocess.Popen([*command, "--alerts", str(alerts)], stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        for sender in senders:
            _, err = sender.communicate(timeout=RUN_TIMEOUT)
            assert sender.returncode == 0, err.decode()
        keys = {row.key for row in owed}
        assert sorted(r.key for r in receiver.requests) == sorted(keys)
        assert {row.status for row in outbox(db_url) if row.mode == "immediate"} == {"sent"}
