"""``newswatch health``: whether the scheduled ingestion can be left alone, for a person, a
cron job or a monitor.

Exit 0 and ``ok`` when healthy; 1 and one line per reason when not; 2 when the database cannot
be read. ``--format json`` for monitors, ``--format prometheus`` (the text exposition format)
for a scraper or node_exporter's textfile collector. The checks are ``pipeline.health``'s, over
facts read through a ``Reader``: on a SQLite file the command starts without SQLAlchemy.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from pipeline.cli.common import ConfigDirOption, DbOption, SourcesOption, local_iso, resolve_db, say
from pipeline.errors import NewswatchError
from pipeline.health import Reason, Thresholds, Verdict, judge, parse_period, silent_since, span
from pipeline.settings import ALERT_OVERDUE_AFTER, DAILY_RUN_MAX_AGE, HEALTH_FAILED_RUNS

if TYPE_CHECKING:
    from pipeline.health import Facts

# Exit codes a monitor reads (0 is healthy): failing, and cannot tell.
EXIT_FAILING, EXIT_UNREADABLE = 1, 2
Sample = tuple[dict[str, str], float]


class HealthFormat(StrEnum):
    """How the verdict is printed."""

    table = "table"
    json = "json"
    prometheus = "prometheus"


def health(
    failed_runs: Annotated[
        int,
        typer.Option("--failed-runs", min=1, help="Fail for a source that failed this many runs."),
    ] = HEALTH_FAILED_RUNS,
    max_age: Annotated[
        str,
        typer.Option(
            "--max-age", help="Fail when the last completed daily run is older (36h, 2d)."
        ),
    ] = span(DAILY_RUN_MAX_AGE),
    alerts_overdue: Annotated[
        str,
        typer.Option(
            "--alerts-overdue", help="Fail for alerts still owed this long after due (90m, 2h)."
        ),
    ] = span(ALERT_OVERDUE_AFTER),
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Fail on warnings too (paused or backing-off sources)."),
    ] = False,
    output: Annotated[
        HealthFormat, typer.Option("--format", help="table, json, or prometheus text.")
    ] = HealthFormat.table,
    db_url: DbOption = None,
    config_dir: ConfigDirOption = None,
    sources_path: SourcesOption = None,
) -> None:
    """Check sources, the daily run and alerts: exit 0 with `ok`, 1 with one line per reason,
    2 when the database cannot be read."""
    now = datetime.now(UTC)
    overrides, problems = _overrides(config_dir, sources_path)
    thresholds = Thresholds(
        failed_runs=failed_runs,
        daily_run_max_age=_period(max_age, "--max-age"),
        alert_overdue=_period(alerts_overdue, "--alerts-overdue"),
        expected_every=overrides,
        strict=strict,
    )
    facts = _read_facts(db_url, now, thresholds.alert_overdue, output)
    verdict = judge(facts, thresholds, problems)
    if output is HealthFormat.json:
        print(json.dumps(_json(verdict, now, thresholds), indent=2, ensure_ascii=False))
    elif output is HealthFormat.prometheus:
        print(exposition(facts, verdict, thresholds), end="")
    else:
        _print_lines(verdict)
    if verdict.failing:
        raise typer.Exit(EXIT_FAILING)


def _print_lines(verdict: Verdict) -> None:
    """``ok`` (then any warnings) when healthy; else one line per reason, errors first."""
    if not verdict.failing:
        say("ok", "green")
    ordered = sorted(verdict.reasons, key=lambda reason: reason.severity != "error")
    for reason in ordered:
        say(reason.line(), "red" if reason.severity == "error" else "yellow")


def _period(value: str, option: str) -> timedelta:
    try:
        return parse_period(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _overrides(
    config_dir: Path | None, sources_path: Path | None
) -> tuple[dict[str, timedelta], list[str]]:
    """Each source's ``expected_every`` from sources.toml; a file that cannot be read is a
    warning (health still judges, with the defaults)."""
    from pipeline.health import expected_overrides
    from pipeline.settings import find_config_files
    from pipeline.tomlfile import read_toml

    try:
        path = find_config_files(config_dir, sources=sources_path).sources.path
        return expected_overrides(read_toml(path, "sources"))
    except NewswatchError as exc:
        return {}, [f"{exc}; the default periods are used"]


def _read_facts(
    db_url: str | None, now: datetime, overdue: timedelta, output: HealthFormat
) -> Facts:
    """The facts, with dead runs marked ``crashed`` first; exit 2 when the database cannot be
    read."""
    from pipeline.cli.runs import mark_crashed
    from pipeline.store.health_reads import health_facts
    from pipeline.store.reader import open_reader

    try:
        reader = open_reader(resolve_db(db_url))
    except NewswatchError as exc:
        _unreadable(str(exc), now, output)
    try:
        mark_crashed(reader)
        return health_facts(reader, now=now, overdue_before=now - overdue)
    except NewswatchError as exc:
        _unreadable(str(exc), now, output)
    finally:
        reader.close()


def _unreadable(message: str, now: datetime, output: HealthFormat) -> NoReturn:
    """Say the database cannot be read, in the format asked for, and exit 2."""
    if output is HealthFormat.json:
        reason = Reason("database", "database", message).as_dict()
        print(json.dumps({"status": "failing", "checked_at": local_iso(now), "reasons": [reason]}))
    elif output is HealthFormat.prometheus:
        print(_family("newswatch_health_ok", "1 when every check passes.", [({}, 0)]), end="")
        print(_family(READABLE, READABLE_HELP, [({}, 0)]), end="")
    say(f"error: {message}", "red", stderr=True)
    raise typer.Exit(EXIT_UNREADABLE)


def _json(verdict: Verdict, now: datetime, thresholds: Thresholds) -> dict[str, object]:
    return {
        "status": verdict.status,
        "strict": verdict.strict,
        "checked_at": local_iso(now),
        "reasons": [reason.as_dict() for reason in verdict.reasons],
        "thresholds": {
            "failed_runs": thresholds.failed_runs,
            "daily_run_max_age_seconds": thresholds.daily_run_max_age.total_seconds(),
            "alerts_overdue_seconds": thresholds.alert_overdue.total_seconds(),
        },
    }


READABLE = "newswatch_health_database_readable"
READABLE_HELP = "1 when the database could be read."


def exposition(facts: Facts, verdict: Verdict, thresholds: Thresholds) -> str:
    """The facts and the verdict in Prometheus's text exposition format: gauges, one family
    each with its HELP and TYPE lines; a value not known (no new item yet) is left out."""
    families = [
        *_health_families(facts, verdict),
        *_source_families(facts, thresholds),
        *_run_and_alert_families(facts),
    ]
    return "".join(_family(name, text, samples) for name, text, samples in families)


Family = tuple[str, str, list[Sample]]


def _health_families(facts: Facts, verdict: Verdict) -> list[Family]:
    reasons: dict[tuple[str, str], int] = {}
    for reason in verdict.reasons:
        key = (reason.check, reason.severity)
        reasons[key] = reasons.get(key, 0) + 1
    return [
        ("newswatch_health_ok", "1 when every check passes.", [({}, 0 if verdict.failing else 1)]),
        (READABLE, READABLE_HELP, [({}, 1)]),
        (
            "newswatch_health_reasons",
            "Reasons health gives, by check and severity.",
            [({"check": c, "severity": s}, n) for (c, s), n in sorted(reasons.items())],
        ),
        (
            "newswatch_health_checked_timestamp_seconds",
            "When health ran, in seconds since the epoch.",
            [({}, facts.now.timestamp())],
        ),
    ]


def _source_families(facts: Facts, thresholds: Thresholds) -> list[Family]:
    now = facts.now
    by_source = [({"source": s.source_id}, s) for s in facts.sources]

    def age(since: datetime | None) -> float | None:
        return None if since is None else (now - since).total_seconds()

    def known(values: list[tuple[dict[str, str], float | None]]) -> list[Sample]:
        return [(labels, value) for labels, value in values if value is not None]

    return [
        (
            "newswatch_source_consecutive_failures",
            "Failed runs in a row of each source a daily run reads.",
            [(labels, s.consecutive_failures) for labels, s in by_source],
        ),
        (
            "newswatch_source_last_new_article_age_seconds",
            "Seconds since the source last brought something new (an article or a copy).",
            known([(labels, age(s.last_new_at)) for labels, s in by_source]),
        ),
        (
            "newswatch_source_silent_seconds",
            "Seconds the source has brought nothing new (since its first run, if never).",
            known([(labels, age(silent_since(s))) for labels, s in by_source]),
        ),
        (
            "newswatch_source_expected_new_article_seconds",
            "How long the source may bring nothing new before health fails.",
            [(labels, thresholds.expected(s).total_seconds()) for labels, s in by_source],
        ),
        (
            "newswatch_source_paused",
            "1 when an operator paused the source.",
            [(labels, int(s.paused_at is not None)) for labels, s in by_source],
        ),
        (
            "newswatch_source_backing_off",
            "1 when the source waits before its next attempt.",
            [
                (labels, int(bool(s.next_attempt_at and s.next_attempt_at > now)))
                for labels, s in by_source
            ],
        ),
    ]


def _run_and_alert_families(facts: Facts) -> list[Family]:
    from pipeline.cli.alerts import STATUSES

    counts = {a.status: a for a in facts.alerts}
    finished = facts.last_daily_run_at
    return [
        (
            "newswatch_last_daily_run_age_seconds",
            "Seconds since the last completed daily run finished.",
            [({}, (facts.now - finished).total_seconds())] if finished else [],
        ),
        (
            "newswatch_alerts",
            "Alerts in the outbox by status.",
            [({"status": st}, counts[st].count if st in counts else 0) for st in STATUSES],
        ),
        (
            "newswatch_alerts_overdue",
            "Alerts still owed longer than the limit after they were due, by status.",
            [({"status": st}, a.overdue) for st, a in counts.items() if a.overdue],
        ),
    ]


def _family(name: str, text: str, samples: list[Sample]) -> str:
    """One gauge family: its HELP and TYPE lines, then a line per sample."""
    help_text = text.replace("\\", "\\\\").replace("\n", "\\n")
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        pairs = ",".join(f'{key}="{_label_value(v)}"' for key, v in labels.items())
        lines.append(f"{name}{{{pairs}}} {_number(value)}" if pairs else f"{name} {_number(value)}")
    return "\n".join(lines) + "\n"


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)
