"""The ``[[rule]]`` tables of ``alerts.toml``: which articles raise an alert, how urgent it is,
and whether it goes out at once or in the day's digest."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Literal, cast

from pipeline.alerts.conditions import (
    CONDITION_FIELDS,
    RULE_SETTINGS,
    Condition,
    condition_values,
    parse_condition,
)
from pipeline.alerts.fields import (
    Check,
    read_choice,
    read_flag,
    read_ident,
    read_names,
    read_text,
    unknown_fields,
)

Severity = Literal["high", "normal", "low"]
Mode = Literal["immediate", "digest"]
SEVERITIES: tuple[str, ...] = ("high", "normal", "low")
MODES: tuple[str, ...] = ("immediate", "digest")
RULE_FIELDS: tuple[str, ...] = RULE_SETTINGS + CONDITION_FIELDS
# The end of the Hong Kong business day: the desk reads the digest before it leaves.
DEFAULT_DIGEST_AT = time(18, 0)
_CLOCK_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, kw_only=True)
class AlertRule(Condition):
    """A condition with somewhere to send what it matches: its channels, a severity, and the
    mode (``immediate``, or ``digest`` sent daily at ``digest_at``, Hong Kong time).

    ``updates`` asks for an alert also when a stored item changes (an SFC item re-issued).
    A digest rule built without ``digest_at`` gets ``DEFAULT_DIGEST_AT``.
    """

    id: str
    channels: tuple[str, ...]
    description: str = ""
    severity: Severity = "normal"
    mode: Mode = "immediate"
    digest_at: time | None = None
    updates: bool = False

    def __post_init__(self) -> None:
        if self.mode == "digest" and self.digest_at is None:
            object.__setattr__(self, "digest_at", DEFAULT_DIGEST_AT)


def parse_rule(index: int, raw: Mapping, check: Check, channels: set[str]) -> AlertRule | None:
    """The rule ``raw`` declares, or None when it has a mistake (added to ``check``)."""
    problems = check.problems
    where = check.where("rule", index, raw)
    before = len(problems)
    unknown_fields(raw, RULE_FIELDS, where, problems)
    ident = read_ident(raw, where, problems)
    description = read_text(raw, "description", where, problems)
    rule_channels = _rule_channels(raw, where, problems, channels)
    severity = read_choice(raw, "severity", SEVERITIES, where, problems)
    mode = read_choice(raw, "mode", MODES, where, problems)
    digest_at = _digest_at(raw, where, problems)
    updates = read_flag(raw, "updates", where, problems)
    condition = parse_condition(raw, where, check)
    if len(problems) > before or ident is None:
        return None
    return AlertRule(
        **condition_values(condition),
        id=ident,
        channels=rule_channels,
        description=description or "",
        severity=cast(Severity, severity or "normal"),
        mode=cast(Mode, mode or "immediate"),
        digest_at=digest_at,
        updates=bool(updates),
    )


def _rule_channels(
    raw: Mapping, where: str, problems: list[str], declared: set[str]
) -> tuple[str, ...]:
    if "channels" not in raw:
        problems.append(f"{where}: field 'channels' is missing")
        return ()
    names = read_names(raw, "channels", where, problems)
    if raw["channels"] == []:
        problems.append(f"{where}: field 'channels' must name at least one channel")
    known = ", ".join(sorted(declared)) if declared else "none, no [[channel]] is declared"
    for name in names:
        if name not in declared:
            problems.append(
                f"{where}: field 'channels' names unknown channel {name!r}; declared: {known}"
            )
    return names


def _digest_at(raw: Mapping, where: str, problems: list[str]) -> time | None:
    """``digest_at`` as a time of day; only a digest rule may set it."""
    if "digest_at" not in raw:
        return None
    value = raw["digest_at"]
    if raw.get("mode", "immediate") == "immediate":
        problems.append(f"{where}: field 'digest_at' is only for rules with mode = \"digest\"")
    if isinstance(value, time) and not (value.second or value.microsecond or value.tzinfo):
        return value
    found = _CLOCK_RE.match(value) if isinstance(value, str) else None
    if found is None:
        problems.append(
            f"{where}: field 'digest_at' is {value!r}; expected a Hong Kong time of day as"
            ' "HH:MM", such as "18:00"'
        )
        return None
    return time(int(found.group(1)), int(found.group(2)))
