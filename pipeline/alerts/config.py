"""Load and validate ``alerts.toml``: the rules that decide which articles raise an alert, the
channels alerts go to, and how deliveries are retried.

Every problem is collected before raising, so ``newswatch sources check`` prints them all at
once; each names the file, the entry and the field. Given the sources of ``sources.toml`` and the
taxonomy, the sources, entities and topics a rule names are checked against them as well.

A channel that cannot work in this environment (an unset variable, a URL Apprise cannot read)
does not stop the load: it carries its ``problem``, ``channel_problems`` lists them, and the
other channels deliver.

Only the standard library and newswatch's own light modules are imported here; Apprise is
imported when a channel's URL is checked. The tables are read by ``config_rules``,
``conditions``, ``config_channels`` and ``delivery_settings``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.alerts.conditions import Condition as Condition
from pipeline.alerts.config_channels import CHANNEL_KINDS as CHANNEL_KINDS
from pipeline.alerts.config_channels import AlertChannel as AlertChannel
from pipeline.alerts.config_channels import parse_channel
from pipeline.alerts.config_rules import AlertRule as AlertRule
from pipeline.alerts.config_rules import parse_rule
from pipeline.alerts.delivery_settings import DeliverySettings as DeliverySettings
from pipeline.alerts.delivery_settings import parse_delivery
from pipeline.alerts.delivery_settings import retry_delay as retry_delay
from pipeline.alerts.fields import Check, did_you_mean
from pipeline.alerts.references import TagNames
from pipeline.errors import ConfigError
from pipeline.tomlfile import read_toml

if TYPE_CHECKING:
    from pipeline.models import Source
    from pipeline.taxonomy import Taxonomy

TOP_LEVEL_KEYS: tuple[str, ...] = ("rule", "channel", "delivery")

Parsed = TypeVar("Parsed")


class UnknownRule(ConfigError, KeyError):
    """A rule id that ``alerts.toml`` does not declare (a ``KeyError`` too, as for a mapping)."""

    def __str__(self) -> str:
        # KeyError would show its message quoted, as a key.
        return "; ".join(self.problems)


@dataclass(frozen=True)
class AlertsConfig:
    """Rules, channels and delivery settings from ``alerts.toml``."""

    rules: tuple[AlertRule, ...] = ()
    channels: Mapping[str, AlertChannel] = field(default_factory=dict)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)

    def rule(self, rule_id: str) -> AlertRule:
        """The rule with id ``rule_id``; ``UnknownRule`` naming the declared ones if none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        declared = ", ".join(rule.id for rule in self.rules) or "none"
        raise UnknownRule(f"alert rule {rule_id!r} is not declared; declared: {declared}")


def channel_problems(config: AlertsConfig) -> list[str]:
    """Why enabled channels cannot deliver in this environment; a disabled channel sends
    nothing, so what it lacks stops nothing."""
    return [
        channel.problem
        for channel in config.channels.values()
        if channel.enabled and channel.problem is not None
    ]


def load_alerts(
    path: Path | str,
    *,
    sources: Iterable[Source] | None = None,
    taxonomy: Taxonomy | None = None,
    environ: Mapping[str, str] | None = None,
) -> AlertsConfig:
    """Alert rules, channels and delivery settings; ``ConfigError`` listing every problem.

    With ``sources`` (from sources.toml) a rule may name only their ids; with ``taxonomy`` its
    entities and topics must be nodes of that kind (by id, name or alias), stored as node ids.
    ``${NAME}`` in a channel's URL is read from ``environ`` (default: the process environment).
    """
    path = Path(path)
    data = read_toml(path, "alerts")
    check = Check(
        path=path,
        source_ids=None if sources is None else tuple(s.id for s in sources),
        tag_names=None if taxonomy is None else TagNames(taxonomy),
    )
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            check.problems.append(
                f"{path}: top-level key {key!r} is not known (expected [[rule]], [[channel]] or"
                f" [delivery]){did_you_mean(key, TOP_LEVEL_KEYS)}"
            )
    env = os.environ if environ is None else environ
    raw_channels = _entries(data, "channel", check)
    declared = {ident for _, raw in raw_channels if isinstance(ident := raw.get("id"), str)}
    channels = _parse_unique(
        "channel",
        raw_channels,
        lambda index, raw, check: parse_channel(index, raw, check, env),
        check,
    )
    rules = _parse_unique(
        "rule",
        _entries(data, "rule", check),
        lambda index, raw, check: parse_rule(index, raw, check, declared),
        check,
    )
    config = AlertsConfig(
        rules=tuple(rules),
        channels={c.id: c for c in channels},
        delivery=parse_delivery(data, check),
    )
    if check.problems:
        # The channels that loaded may lack something in this environment too: say it now
        # rather than after the file is fixed.
        raise ConfigError(check.problems + channel_problems(config))
    return config


def _entries(data: Mapping[str, Any], key: str, check: Check) -> list[tuple[int, Mapping]]:
    """The ``[[key]]`` tables of the file with their positions; anything else is a problem."""
    value = data.get(key, [])
    if not isinstance(value, list):
        check.problems.append(f"{check.path}: top-level key {key!r} must be [[{key}]] tables")
        return []
    tables: list[tuple[int, Mapping]] = []
    for index, raw in enumerate(value):
        if isinstance(raw, Mapping):
            tables.append((index, raw))
        else:
            check.problems.append(f"{check.path}: {key} #{index + 1} must be a table")
    return tables


def _parse_unique(
    what: str,
    entries: list[tuple[int, Mapping]],
    parse: Callable[[int, Mapping, Check], Parsed | None],
    check: Check,
) -> list[Parsed]:
    """Every entry parsed (all its problems reported), the second of two with one id refused."""
    parsed: list[Parsed] = []
    first: dict[str, int] = {}
    ids = [ident for _, raw in entries if isinstance(ident := raw.get("id"), str)]
    check.repeated = {ident for ident in ids if ids.count(ident) > 1}
    for index, raw in entries:
        item = parse(index, raw, check)
        ident = raw.get("id")
        if isinstance(ident, str):
            if ident in first:
                check.problems.append(
                    f"{check.path}: {what} {ident!r}: field 'id' is claimed by both"
                    f" {what} #{first[ident] + 1} and {what} #{index + 1}"
                )
                continue
            first[ident] = index
        if item is not None:
            parsed.append(item)
    return parsed
