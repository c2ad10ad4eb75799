"""The ``[delivery]`` table of ``alerts.toml``: how far back a first run alerts, and how a
failed delivery is retried.

Durations are written as a number and a unit, or several: ``"90m"``, ``"24h"``, ``"2d"``,
``"1h30m"`` (s, m, h, d).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pipeline.alerts.fields import Check, unknown_fields

if TYPE_CHECKING:
    from pipeline.alerts.config import AlertsConfig

DELIVERY_FIELDS: tuple[str, ...] = ("initial_window", "max_attempts", "retry_after")
# A day back: a first run alerts on what the regulators published since yesterday's desk
# meeting, not on the whole backlog a new database fills with.
DEFAULT_INITIAL_WINDOW = timedelta(hours=24)
# Six tries, the first wait 5 minutes and doubling (5, 10, 20, 40, 80): the last try comes
# about 2h35 after the first failure, long enough to ride out a mail server's restart, soon
# enough to be news still.
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_RETRY_AFTER = timedelta(minutes=5)
# However many attempts, an alert waits at most this long between two: a receiver that comes
# back in the evening still gets the morning's alerts that day.
MAX_RETRY_DELAY = timedelta(hours=6)
# Past a hundred attempts six hours apart an alert is weeks late: a typo, not a policy.
MAX_ATTEMPTS_LIMIT = 100
# A year: anything longer is a typo (and timedelta itself overflows near 2.7 million years).
MAX_DURATION = timedelta(days=366)
# Doubling the first wait this many times passes MAX_RETRY_DELAY from any wait of a second or
# more; capping the exponent keeps the arithmetic small for any attempt count.
_MAX_DOUBLINGS = 32

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_RE = re.compile(r"^(?:\d+[smhd])+$")
_PART_RE = re.compile(r"(\d+)([smhd])")
_EXAMPLES = 'such as "90m", "24h" or "2d"'


@dataclass(frozen=True)
class DeliverySettings:
    """How alerts are delivered: the first run's look-back (items published before it are
    taken as seen, without an alert; zero takes none so) and the retries of a failure."""

    initial_window: timedelta = DEFAULT_INITIAL_WINDOW
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_after: timedelta = DEFAULT_RETRY_AFTER


def parse_duration(text: str) -> timedelta:
    """``"90m"``, ``"24h"``, ``"1h30m"`` as a timedelta; ``ValueError`` saying why not."""
    compact = text.strip().lower()
    if not _DURATION_RE.match(compact):
        raise ValueError(f"is {text!r}; expected a duration {_EXAMPLES}")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _PART_RE.findall(compact))
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"is {text!r}; expected at most {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def retry_delay(config: AlertsConfig | DeliverySettings, attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed deliveries (1 after the first failure):
    ``retry_after``, doubled for each further attempt, at most ``MAX_RETRY_DELAY``."""
    delivery = config if isinstance(config, DeliverySettings) else config.delivery
    doublings = min(max(attempts, 1) - 1, _MAX_DOUBLINGS)
    return min(delivery.retry_after * (1 << doublings), MAX_RETRY_DELAY)


def parse_delivery(data: Mapping[str, Any], check: Check) -> DeliverySettings:
    """The ``[delivery]`` table of the parsed file, its defaults for what it leaves out."""
    if "delivery" not in data:
        return DeliverySettings()
    raw, where = data["delivery"], f"{check.path}: [delivery]"
    if not isinstance(raw, Mapping):
        check.problems.append(f"{check.path}: top-level key 'delivery' must be a [delivery] table")
        return DeliverySettings()
    unknown_fields(raw, DELIVERY_FIELDS, where, check.problems)
    window = _duration(raw, "initial_window", where, check.problems, allow_zero=True)
    retry_after = _duration(raw, "retry_after", where, check.problems, allow_zero=False)
    if retry_after is not None and retry_after > MAX_RETRY_DELAY:
        check.problems.append(
            f"{where}: field 'retry_after' is {raw['retry_after']!r}; expected at most"
            f" {_hours(MAX_RETRY_DELAY)}, the longest wait between two attempts"
        )
    return DeliverySettings(
        initial_window=DEFAULT_INITIAL_WINDOW if window is None else window,
        max_attempts=_attempts(raw, where, check.problems),
        retry_after=DEFAULT_RETRY_AFTER if retry_after is None else retry_after,
    )


def _duration(
    raw: Mapping, key: str, where: str, problems: list[str], *, allow_zero: bool
) -> timedelta | None:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, str):
        problems.append(f"{where}: field {key!r} must be a duration string {_EXAMPLES}")
        return None
    try:
        duration = parse_duration(value)
    except ValueError as exc:
        problems.append(f"{where}: field {key!r} {exc}")
        return None
    if not duration and not allow_zero:
        problems.append(f"{where}: field {key!r} is {value!r}; expected a wait above 0")
        return None
    return duration


def _attempts(raw: Mapping, where: str, problems: list[str]) -> int:
    value = raw.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{where}: field 'max_attempts' must be a whole number")
        return DEFAULT_MAX_ATTEMPTS
    if not 1 <= value <= MAX_ATTEMPTS_LIMIT:
        problems.append(
            f"{where}: field 'max_attempts' is {value}; expected 1 to {MAX_ATTEMPTS_LIMIT}"
        )
        return DEFAULT_MAX_ATTEMPTS
    return value


def _hours(duration: timedelta) -> str:
    return f"{duration.total_seconds() / 3600:g}h"
