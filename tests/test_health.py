"""``newswatch health``: exit 0 and ``ok`` when the scheduled ingestion can be left alone, else 1
and one line per reason (a source failing its last runs or silent past its period, no recent
daily run, alerts dead or overdue); paused and backing-off sources are warnings; 2 when the
database cannot be read; JSON for monitors and Prometheus text for scrapers. Real runs against a
real HTTP server on 127.0.0.1, real alert deliveries to a real receiver that fails, a real
database (SQLite and Postgres)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from support import REPO
from support.feeds import feed, page
from support.local_site import Answer, LocalSite
from support.receivers import webhook_receiver
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.alerts import STATUSES
from pipeline.cli.health import exposition
from pipeline.config import check_sources
from pipeline.health import Facts, SourceFacts, Thresholds, Verdict, parse_period, span
from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.settings import EXPECTED_NEW_EVERY, EXPECTED_NEW_EVERY_OTHER
from pipeline.store import db, repo, schema
from pipeline.store.source_state import hong_kong_time

NOT_A_FEED = Answer(b"<html><body>maintenance</body></html>")
# The text exposition format, line by line: comments, and samples with optional labels.
METRIC = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(rf"^({METRIC})(?:\{{{LABEL}(?:,{LABEL})*\}})? (-?[0-9.]+(?:e[+-]?\d+)?)$")
COMMENT_RE = re.compile(rf"^# (HELP|TYPE) ({METRIC}) (.*)$")


def publish(site: LocalSite, name: str, count: int) -> None:
    """``name``'s feed lists ``count`` items, each with its page."""
    links = [f"{site.url}/{name}/{n}.html" for n in range(1, count + 1)]
    site.set(f"/{name}.xml", feed(links))
    for n, link in enumerate(links, 1):
        site.set(link, page(f"{name} item {n}"))


def entry(site: LocalSite, name: str, extra: str = "") -> str:
    return (
        f'[[source]]\nid = "{name}"\nname = "{name}"\nkind = "rss"\n'
        f'urls = ["{site.url}/{name}.xml"]\n{extra}'
    )


# Each source of the tests: ``wire`` (news), ``circulars`` (a regulator's circulars), ``broken``
# (a page where its feed should be) and ``empty`` (a feed listing nothing).
EXTRA = {
    "wire": "",
    "circulars": 'regulator = true\ndoc_type = "circular"\n',
    "broken": "",
    "empty": "",
}


def write_sources(site: LocalSite, path: Path, names: tuple[str, ...], **extra: str) -> Path:
    publish(site, "wire", 2)
    publish(site, "circulars", 2)
    publish(site, "empty", 0)
    site.set("/broken.xml", NOT_A_FEED)
    text = "".join(entry(site, name, EXTRA[name] + extra.get(name, "")) for name in names)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Setup:
    """Sources on the local site, a runner over them and ``newswatch health`` with them."""

    db_url: str
    sources: Path
    alerts: Path

    def run(
        self, *named: str, regulators_only: bool = False, partition: str | None = None
    ) -> RunOutcome:
        options = IngestOptions(
            db_url=self.db_url,
            sources_path=self.sources,
            taxonomy_path=REPO / "taxonomy.toml",
            alerts_path=self.alerts,
            source_ids=list(named),
            regulators_only=regulators_only,
            partition=partition,
        )
        return asyncio.run(run_once(options))

    def health(self, *args: str) -> Result:
        every = [*args, "--db", self.db_url, "--sources", str(self.sources)]
        return CliRunner().invoke(app, ["health", *every])

    def cli(self, *args: str) -> Result:
        every = [*args, "--db", self.db_url]
        return CliRunner().invoke(app, every)


@pytest.fixture
def setup(migrated_db_url: str, local_site: LocalSite, tmp_path: Path) -> Callable[..., Setup]:
    """``setup(*sources, alerts=TEXT, source=PERIOD…)``: those sources (each with its
    ``expected_every`` when given), alerts.toml holding TEXT."""

    def make(*names: str, alerts: str = "", **expected: str) -> Setup:
        extra = {name: f'expected_every = "{value}"\n' for name, value in expected.items()}
        sources = write_sources(local_site, tmp_path / "sources.toml", names, **extra)
        alerts_path = tmp_path / "alerts.toml"
        alerts_path.write_text(alerts, encoding="utf-8")
        return Setup(migrated_db_url, sources, alerts_path)

    return make


@pytest.fixture
def store(migrated_db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def reasons(result: Result) -> list[dict[str, Any]]:
    data = json.loads(result.stdout)
    assert isinstance(data["reasons"], list)
    return data["reasons"]


def lines(result: Result) -> list[str]:
    return result.stdout.strip().splitlines()


def metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a valid exposition, by name and labels; the grammar checked line by line
    and the whole parsed by Prometheus's own client."""
    assert text.endswith("\n")
    typed: set[str] = set()
    for line in text.splitlines():
        comment = COMMENT_RE.match(line)
        if comment:
            if comment[1] == "TYPE":
                assert comment[3] == "gauge" and comment[2] not in typed, line
                typed.add(comment[2])
            continue
        sample = SAMPLE_RE.match(line)
        assert sample, f"not a sample line: {line!r}"
        assert sample[1] in typed, f"sample before its TYPE: {line!r}"
    found = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge" and family.documentation
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_a_healthy_store_says_ok(setup: Callable[..., Setup]) -> None:
    s = setup("wire", "circulars")
    assert s.run().status == "completed"
    result = s.health()
    assert result.exit_code == 0, result.output
    assert lines(result) == ["ok"]
    as_json = s.health("--format", "json")
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    assert (data["status"], data["reasons"]) == ("ok", [])
    assert data["checked_at"].endswith("+08:00")
    prometheus = s.health("--format", "prometheus")
    assert prometheus.exit_code == 0, prometheus.output
    found = metrics(prometheus.stdout)
    assert found[("newswatch_health_ok", ())] == 1
    assert found[("newswatch_health_database_readable", ())] == 1
    wire, circulars = (("source", "wire"),), (("source", "circulars"),)
    assert found[("newswatch_source_consecutive_failures", wire)] == 0
    assert 0 <= found[("newswatch_source_last_new_article_age_seconds", wire)] < 60
    assert found[("newswatch_source_expected_new_article_seconds", wire)] == 3 * 86400
    assert found[("newswatch_source_expected_new_article_seconds", circulars)] == 30 * 86400
    assert found[("newswatch_source_paused", circulars)] == 0
    assert 0 <= found[("newswatch_last_daily_run_age_seconds", ())] < 60
    assert {found[("newswatch_alerts", (("status", st),))] for st in STATUSES} == {0}


def test_a_source_failing_its_last_runs_fails_health(
    setup: Callable[..., Setup], local_site: LocalSite, store: Engine
) -> None:
    s = setup("wire", "broken")
    s.run(), s.run()
    assert s.health().exit_code == 0  # two failures: the blips every site has
    two = s.health("--failed-runs", "2")
    assert two.exit_code == 1
    assert lines(two)[0].startswith("source_failing broken: failed its last 2 runs in a row")
    s.run()
    with Session(store) as session:
        state = repo.source_states(session)["broken"]
    assert state.consecutive_failures == 3
    assert state.last_failure_at is not None and state.next_attempt_at is not None
    failing = s.health()
    assert failing.exit_code == 1
    assert lines(failing) == [
        "source_failing broken: failed its last 3 runs in a row (limit 3); last failure"
        f" {hong_kong_time(state.last_failure_at)}: {state.last_error}",
        "warning: source_backing_off broken: backing off; next attempt after"
        f" {hong_kong_time(state.next_attempt_at)}",
    ]
    [failed, backing_off] = reasons(s.health("--format", "json"))
    assert (failed["check"], failed["subject"], failed["severity"]) == (
        "source_failing",
        "broken",
        "error",
    )
    assert (failed["value"], failed["threshold"]) == (3, 3)
    assert (backing_off["check"], backing_off["severity"]) == ("source_backing_off", "warning")
    found = metrics(s.health("--format", "prometheus").stdout)
    assert found[("newswatch_health_ok", ())] == 0
    assert found[("newswatch_source_consecutive_failures", (("source", "broken"),))] == 3
    assert found[("newswatch_source_backing_off", (("source", "broken"),))] == 1
    reason = (("check", "source_failing"), ("severity", "error"))
    assert found[("newswatch_health_reasons", reason)] == 1

    # Mended and read on an operator's word: one success clears it.
    publish(local_site, "broken", 1)
    assert s.run("broken").reports["broken"].status == "ok"
    assert s.health().exit_code == 0


def _age(engine: Engine, model: Any, column: str, source_id: str, when: datetime) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(model).where(model.source_id == source_id).values({column: when}))


def test_a_source_silent_past_its_period_fails_health(
    setup: Callable[..., Setup], store: Engine
) -> None:
    s = setup("wire", "circulars", "empty")
    assert s.run().status == "completed"
    now = datetime.now(UTC)
    # As if days passed: wire and circulars last listed an item new to them four days ago,
    # empty (which lists nothing) was first read four days and two hours ago.
    for source_id in ("wire", "circulars"):
        _age(store, schema.Sighting, "seen_at", source_id, now - timedelta(days=4))
    first_read = now - timedelta(days=4, hours=2)
    _age(store, schema.RunSource, "finished_at", "empty", first_read)
    silent = s.health()
    assert silent.exit_code == 1
    # Circulars come a few a month: four days is nothing.
    assert lines(silent) == [
        "source_silent empty: nothing new for 4d2h (expected every 3d); its first run, with"
        f" none since {hong_kong_time(first_read)}",
        "source_silent wire: nothing new for 4d (expected every 3d); its last new item"
        f" {hong_kong_time(now - timedelta(days=4))}",
    ]
    [empty, _] = reasons(s.health("--format", "json"))
    assert empty["value"] == pytest.approx((now - first_read).total_seconds(), abs=120)
    assert empty["threshold"] == timedelta(days=3).total_seconds()

    # wire may be quiet five days; "1w5d" is no period: the default stands, with a warning.
    patient = setup("wire", "circulars", "empty", wire="5d", empty="1w5d")
    result = patient.health()
    assert result.exit_code == 1
    assert [line.split(":")[0] for line in lines(result)] == [
        "source_silent empty",
        "warning",
    ]
    assert lines(result)[1].startswith(
        "warning: config sources.toml: source 'empty': field 'expected_every' is '1w5d';"
    )
    # `sources check` names it too.
    _, problems = check_sources(patient.sources)
    assert any("field 'expected_every' is '1w5d'" in problem for problem in problems)


def test_the_last_daily_run_is_the_dead_man(setup: Callable[..., Setup], store: Engine) -> None:
    s = setup("wire", "circulars")
    none = s.health()
    assert none.exit_code == 1
    assert lines(none) == [
        "daily_run daily: no completed daily run is recorded: is the schedule running?"
    ]
    daily = s.run()
    assert s.health().exit_code == 0
    finished = datetime.now(UTC) - timedelta(hours=27)
    with Session(store) as session, session.begin():
        session.execute(
            update(schema.Run)
            .where(schema.Run.id == daily.run_id)
            .values(started_at=finished - timedelta(minutes=1), finished_at=finished)
        )
    # Runs of one partition of the sources, or of named sources, are not the daily run.
    assert s.run(regulators_only=True).status == "completed"
    assert s.run(partition="news").status == "completed"
    assert s.run("wire").status == "completed"
    stale = s.health()
    assert stale.exit_code == 1
    assert lines(stale) == [
        f"daily_run daily: the last completed daily run (run {daily.run_id}) finished"
        f" {hong_kong_time(finished)}, 27h ago (limit 26h)"
    ]
    assert s.health("--max-age", "2d").exit_code == 0
    bad = s.health("--max-age", "a while")
    assert bad.exit_code == 2 and "--max-age" in bad.output


def test_health_marks_a_dead_run_crashed(setup: Callable[..., Setup], store: Engine) -> None:
    s = setup("wire")
    s.run()
    with Session(store) as session, session.begin():
        run_id = repo.start_run(session, flow_run_id=None, options={})
        session.execute(
            update(schema.Run)
            .where(schema.Run.id == run_id)
            .values(host="elsewhere", heartbeat_at=datetime.now(UTC) - timedelta(hours=5))
        )
    assert s.health().exit_code == 0
    with Session(store) as session:
        [record, _] = repo.latest_runs(session, limit=2)
    assert record.status == "crashed" and "no heartbeat for 5h00m" in (record.error or "")


ALERTS = """
[[rule]]
id = "regulator-new-item"
regulator = true
channels = ["hook"]

[[channel]]
id = "hook"
kind = "apprise"
url = "{url}"
timeout = 5
{channel}
[delivery]
initial_window = "0h"
retry_after = "5m"
max_attempts = 2
"""


def test_dead_and_overdue_alerts_fail_health(setup: Callable[..., Setup], store: Engine) -> None:
    with webhook_receiver(statuses=[500] * 20) as receiver:
        s = setup("circulars", alerts=ALERTS.format(url=receiver.apprise_url(), channel=""))
        assert s.run().status == "completed"
        with Session(store) as session:
            owed = session.scalar(select(func.count()).select_from(schema.AlertRow))
        assert owed and len(receiver.requests) == owed
        # Failed once, and retried within minutes: not yet a reason.
        assert s.health().exit_code == 0
        time.sleep(1.1)
        overdue = s.health("--alerts-overdue", "1s")
        assert overdue.exit_code == 1
        [line] = lines(overdue)
        assert line.startswith(
            f"alerts_overdue failed: {owed} alert(s) failed more than 1s after they were due;"
            " the oldest due "
        )
        sent = s.cli("alerts", "send", "--alerts", str(s.alerts))
        assert sent.exit_code == 1 and len(receiver.requests) == 2 * owed
    dead = s.health()
    assert dead.exit_code == 1
    assert lines(dead) == [
        f"alerts_dead dead: {owed} alert(s) out of attempts, never delivered: see"
        " `newswatch alerts list --status dead`, then `newswatch alerts retry`"
    ]
    found = metrics(s.health("--format", "prometheus").stdout)
    assert found[("newswatch_alerts", (("status", "dead"),))] == owed
    assert found[("newswatch_alerts", (("status", "failed"),))] == 0


def test_alerts_owed_too_long_fail_health(setup: Callable[..., Setup]) -> None:
    # A channel switched off: its alerts wait, pending.
    alerts = ALERTS.format(url="json://127.0.0.1:9/hook", channel="enabled = false\n")
    s = setup("circulars", alerts=alerts)
    assert s.run().status == "completed"
    assert s.health().exit_code == 0
    time.sleep(1.1)
    overdue = s.health("--alerts-overdue", "1s", "--format", "json")
    assert overdue.exit_code == 1
    [reason] = reasons(overdue)
    assert (reason["check"], reason["subject"]) == ("alerts_overdue", "pending")
    found = metrics(s.health("--alerts-overdue", "1s", "--format", "prometheus").stdout)
    assert found[("newswatch_alerts_overdue", (("status", "pending"),))] == reason["value"]


def test_a_paused_source_is_a_warning_unless_strict(
    setup: Callable[..., Setup], store: Engine
) -> None:
    s = setup("wire", "circulars")
    s.run()
    paused = s.cli(
        "sources", "pause", "wire", "--reason", "site redesign", "--sources", str(s.sources)
    )
    assert paused.exit_code == 0, paused.output
    # Silent since: a paused source is not judged.
    _age(store, schema.Sighting, "seen_at", "wire", datetime.now(UTC) - timedelta(days=9))
    with Session(store) as session:
        since = repo.source_states(session)["wire"].paused_at
    assert since is not None
    warning = (
        f"warning: source_paused wire: paused since {hong_kong_time(since)}: site redesign;"
        " not judged until `newswatch sources resume wire`"
    )
    result = s.health()
    assert result.exit_code == 0, result.output
    assert lines(result) == ["ok", warning]
    strict = s.health("--strict")
    assert strict.exit_code == 1
    assert lines(strict) == [warning]
    data = json.loads(s.health("--format", "json").stdout)
    assert data["status"] == "ok"
    assert [(r["check"], r["severity"]) for r in data["reasons"]] == [("source_paused", "warning")]
    assert json.loads(s.health("--strict", "--format", "json").stdout)["status"] == "failing"
    found = metrics(s.health("--format", "prometheus").stdout)
    assert found[("newswatch_source_paused", (("source", "wire"),))] == 1
    assert found[("newswatch_health_ok", ())] == 1


def test_a_database_that_cannot_be_read_exits_2(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.db")
    result = CliRunner().invoke(app, ["health", "--db", missing])
    assert result.exit_code == 2
    assert "error:" in result.output and "missing.db" in result.output
    as_json = CliRunner().invoke(app, ["health", "--db", missing, "--format", "json"])
    assert as_json.exit_code == 2
    [reason] = reasons(as_json)
    assert reason["check"] == "database" and json.loads(as_json.stdout)["status"] == "failing"
    prometheus = CliRunner().invoke(app, ["health", "--db", missing, "--format", "prometheus"])
    assert prometheus.exit_code == 2
    found = metrics(prometheus.stdout)
    assert found == {
        ("newswatch_health_ok", ()): 0,
        ("newswatch_health_database_readable", ()): 0,
    }


def test_label_values_are_escaped() -> None:
    now = datetime.now(UTC)
    odd = 'a "quoted" back\\slash\nnewline'
    facts = Facts(now=now, sources=(SourceFacts(odd, "news", last_new_at=now),))
    text = exposition(facts, Verdict(()), Thresholds())
    found = metrics(text)
    assert found[("newswatch_source_consecutive_failures", (("source", odd),))] == 0


def test_periods_and_their_defaults() -> None:
    assert parse_period("3d") == timedelta(days=3)
    assert parse_period(" 1d12H ") == timedelta(hours=36)
    assert parse_period("90m") == timedelta(minutes=90)
    for wrong in ("", "3", "1w", "0d", "400d", "9" * 40 + "d", 3):
        with pytest.raises(ValueError, match="is "):
            parse_period(wrong)
    limits = Thresholds(expected_every={"wire": timedelta(days=5)})
    assert limits.expected(SourceFacts("wire", "news")) == timedelta(days=5)
    assert limits.expected(SourceFacts("other", "news")) == EXPECTED_NEW_EVERY["news"]
    assert limits.expected(SourceFacts("x", "press_release")) == timedelta(days=5)
    assert limits.expected(SourceFacts("x", "memo")) == EXPECTED_NEW_EVERY_OTHER
    shown = [timedelta(seconds=30), timedelta(minutes=45), timedelta(minutes=90)]
    shown += [timedelta(hours=26), timedelta(days=2), timedelta(days=2, hours=5)]
    assert [span(length) for length in shown] == ["30s", "45m", "1h30m", "26h", "2d", "2d5h"]
