"""Is newswatch healthy? The checks of ``newswatch health``, over facts read from the store.

No IO: ``pipeline.store.health_reads`` reads the facts, the CLI prints the verdict. Each check
that does not pass gives one ``Reason``, naming the check, its subject and the numbers:

- ``source_failing``: a source failed its last ``failed_runs`` runs in a row;
- ``source_silent``: a source listed no item it had not listed before for longer than its
  expected period (``expected_every`` in sources.toml, else by document type);
- ``daily_run``: the last completed daily run (every source, not ``--source`` or regulators
  only) is older than ``daily_run_max_age``, or there is none: the dead-man check;
- ``alerts_dead``: alerts out of attempts; ``alerts_overdue``: alerts still owed (pending,
  sending, failed, unknown) longer than ``alert_overdue`` after they were due;
- warnings, which fail only with ``strict``: ``source_paused`` (an operator paused it),
  ``source_backing_off`` (it waits before its next attempt), ``config`` (an
  ``expected_every`` that cannot be read).

A paused source is reported as paused and not judged otherwise: the operator knows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.settings import (
    ALERT_OVERDUE_AFTER,
    DAILY_RUN_MAX_AGE,
    EXPECTED_NEW_EVERY,
    EXPECTED_NEW_EVERY_OTHER,
    HEALTH_FAILED_RUNS,
    HONG_KONG_TZ,
    SOURCES_FILE,
)

ERROR = "error"
WARNING = "warning"
# The alert statuses still owed: a delivery is awaited for each.
OWED_ALERTS = ("pending", "sending", "failed", "unknown")
# Durations as alerts.toml writes them ("90m", "36h", "3d", "1d12h"); the store sits below the
# alerts package, so its parser is not imported here.
_DURATION_RE = re.compile(r"^(?:\d+[smhd])+$")
_DURATION_PART_RE = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A year: a longer period is a typo, not a watch.
MAX_PERIOD = timedelta(days=366)


@dataclass(frozen=True)
class SourceFacts:
    """What the store says of one source a daily run reads."""

    source_id: str
    doc_type: str
    consecutive_failures: int = 0
    last_error: str | None = None
    last_failure_at: datetime | None = None
    next_attempt_at: datetime | None = None
    paused_at: datetime | None = None
    paused_reason: str | None = None
    # The last time it listed an item it had not listed before (a new article, a copy, an
    # item another source stored first).
    last_new_at: datetime | None = None
    # Its first recorded result: the start of its silence when it never brought anything.
    first_run_at: datetime | None = None


@dataclass(frozen=True)
class AlertFacts:
    """The alerts of one status: how many, how many are overdue, the oldest due time."""

    status: str
    count: int
    overdue: int = 0
    oldest_due_at: datetime | None = None


@dataclass(frozen=True)
class Facts:
    """Everything the checks read, as of ``now``."""

    now: datetime
    sources: tuple[SourceFacts, ...] = ()
    last_daily_run_id: int | None = None
    last_daily_run_at: datetime | None = None
    alerts: tuple[AlertFacts, ...] = ()


@dataclass(frozen=True)
class Thresholds:
    """When a check fails; the defaults are in ``pipeline.settings`` with their reasons."""

    failed_runs: int = HEALTH_FAILED_RUNS
    daily_run_max_age: timedelta = DAILY_RUN_MAX_AGE
    alert_overdue: timedelta = ALERT_OVERDUE_AFTER
    # Per source id, from ``expected_every`` in sources.toml.
    expected_every: Mapping[str, timedelta] = field(default_factory=dict)
    strict: bool = False

    def expected(self, source: SourceFacts) -> timedelta:
        """How long ``source`` may bring nothing new."""
        override = self.expected_every.get(source.source_id)
        if override is not None:
            return override
        return EXPECTED_NEW_EVERY.get(source.doc_type, EXPECTED_NEW_EVERY_OTHER)


@dataclass(frozen=True)
class Reason:
    """One check that did not pass: which, about what, why, and the numbers."""

    check: str
    subject: str
    message: str
    severity: str = ERROR
    # The measured value and the limit it passed (seconds, runs or alerts).
    value: float | None = None
    threshold: float | None = None

    def line(self) -> str:
        """The reason as one line of ``newswatch health``."""
        prefix = "warning: " if self.severity == WARNING else ""
        return f"{prefix}{self.check} {self.subject}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """The reason for ``--format json``."""
        return {
            "check": self.check,
            "subject": self.subject,
            "message": self.message,
            "severity": self.severity,
            "value": self.value,
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class Verdict:
    """The reasons found; failing when any is an error, or any at all when ``strict``."""

    reasons: tuple[Reason, ...]
    strict: bool = False

    @property
    def failing(self) -> bool:
        """Whether health is failing."""
        return any(self.strict or reason.severity == ERROR for reason in self.reasons)

    @property
    def status(self) -> str:
        """``ok`` or ``failing``."""
        return "failing" if self.failing else "ok"


def judge(facts: Facts, thresholds: Thresholds, problems: Sequence[str] = ()) -> Verdict:
    """Every reason health is not ok; ``problems`` (of the configuration) become warnings."""
    reasons: list[Reason] = [Reason("config", SOURCES_FILE, p, WARNING) for p in problems]
    for source in facts.sources:
        reasons.extend(_source_reasons(source, facts.now, thresholds))
    reasons.extend(_daily_run_reasons(facts, thresholds))
    reasons.extend(_alert_reasons(facts, thresholds))
    return Verdict(tuple(reasons), thresholds.strict)


def silent_since(source: SourceFacts) -> datetime | None:
    """Since when the source brought nothing new; None before its first result."""
    return source.last_new_at or source.first_run_at


def _source_reasons(source: SourceFacts, now: datetime, limits: Thresholds) -> list[Reason]:
    sid = source.source_id
    if source.paused_at is not None:
        why = f": {source.paused_reason}" if source.paused_reason else ""
        return [
            Reason(
                "source_paused",
                sid,
                f"paused since {shown(source.paused_at)}{why}; not judged until"
                f" `newswatch sources resume {sid}`",
                WARNING,
            )
        ]
    reasons = []
    failures = source.consecutive_failures
    if failures >= limits.failed_runs:
        last = f"; last failure {shown(source.last_failure_at)}" if source.last_failure_at else ""
        error = f": {source.last_error}" if source.last_error else ""
        message = f"failed its last {failures} runs in a row (limit {limits.failed_runs}){last}"
        reasons.append(
            Reason("source_failing", sid, message + error, ERROR, failures, limits.failed_runs)
        )
    if source.next_attempt_at is not None and source.next_attempt_at > now:
        reasons.append(
            Reason(
                "source_backing_off",
                sid,
                f"backing off; next attempt after {shown(source.next_attempt_at)}",
                WARNING,
            )
        )
    since, expected = silent_since(source), limits.expected(source)
    if since is not None and now - since > expected:
        what = "its last new item" if source.last_new_at else "its first run, with none since"
        reasons.append(
            Reason(
                "source_silent",
                sid,
                f"nothing new for {span(now - since)} (expected every {span(expected)});"
                f" {what} {shown(since)}",
                ERROR,
                (now - since).total_seconds(),
                expected.total_seconds(),
            )
        )
    return reasons


def _daily_run_reasons(facts: Facts, limits: Thresholds) -> list[Reason]:
    limit = limits.daily_run_max_age
    finished = facts.last_daily_run_at
    if finished is None:
        message = "no completed daily run is recorded: is the schedule running?"
        return [Reason("daily_run", "daily", message, ERROR, None, limit.total_seconds())]
    age = facts.now - finished
    if age <= limit:
        return []
    message = (
        f"the last completed daily run (run {facts.last_daily_run_id}) finished"
        f" {shown(finished)}, {span(age)} ago (limit {span(limit)})"
    )
    return [
        Reason("daily_run", "daily", message, ERROR, age.total_seconds(), limit.total_seconds())
    ]


def _alert_reasons(facts: Facts, limits: Thresholds) -> list[Reason]:
    reasons = []
    for alerts in facts.alerts:
        if alerts.status == "dead" and alerts.count:
            message = (
                f"{alerts.count} alert(s) out of attempts, never delivered:"
                " see `newswatch alerts list --status dead`, then `newswatch alerts retry`"
            )
            reasons.append(Reason("alerts_dead", "dead", message, ERROR, alerts.count, 0))
        elif alerts.status in OWED_ALERTS and alerts.overdue:
            oldest = (
                f"; the oldest due {shown(alerts.oldest_due_at)}" if alerts.oldest_due_at else ""
            )
            message = (
                f"{alerts.overdue} alert(s) {alerts.status} more than"
                f" {span(limits.alert_overdue)} after they were due{oldest}"
            )
            reasons.append(
                Reason("alerts_overdue", alerts.status, message, ERROR, alerts.overdue, 0)
            )
    return reasons


def parse_period(value: object) -> timedelta:
    """A period as sources.toml and ``newswatch health`` take it (``"3d"``, ``"36h"``,
    ``"1d12h"``; s, m, h, d); ``ValueError`` saying why ``value`` is not one."""
    compact = value.strip().lower() if isinstance(value, str) else ""
    if not _DURATION_RE.match(compact):
        raise ValueError(f'is {value!r}; expected a duration such as "3d", "36h" or "1d12h"')
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART_RE.findall(compact))
    # Compared before a timedelta is made: a typo of many digits would overflow one.
    if not 0 < seconds <= MAX_PERIOD.total_seconds():
        raise ValueError(f"is {value!r}; expected more than 0 and at most 366 days")
    return timedelta(seconds=seconds)


def expected_overrides(data: Mapping[str, object]) -> tuple[dict[str, timedelta], list[str]]:
    """Each source's ``expected_every`` in a parsed sources.toml, and a problem per value that
    cannot be read (``newswatch sources check`` reports those too)."""
    found: dict[str, timedelta] = {}
    problems: list[str] = []
    entries = data.get("source")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or "expected_every" not in entry:
            continue
        ident = entry.get("id")
        try:
            found[str(ident)] = parse_period(entry["expected_every"])
        except ValueError as exc:
            problems.append(f"source {ident!r}: field 'expected_every' {exc}; default used")
    return found, problems


def shown(moment: datetime | None) -> str:
    """A time as an operator reads it: Hong Kong time to the minute."""
    if moment is None:
        return "never"
    return moment.astimezone(ZoneInfo(HONG_KONG_TZ)).strftime("%Y-%m-%d %H:%M HKT")


def span(length: timedelta) -> str:
    """A length of time as ``3d``, ``2d5h``, ``26h``, ``1h30m``, ``45m`` or ``30s``."""
    if length < timedelta(minutes=1):
        return f"{int(length.total_seconds())}s"
    minutes = int(length.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days >= 2:
        return f"{days}d{hours}h" if hours else f"{days}d"
    hours += days * 24
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m"
