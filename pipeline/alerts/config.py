"""Load and validate ``alerts.toml``: the rules that decide which articles raise an alert, and
the channels alerts go to.

Every problem is collected before raising, so ``newswatch sources check`` prints them all at
once; each names the file, the entry and the field. Given the sources of ``sources.toml`` and the
taxonomy, the sources, entities and topics a rule names are checked against them as well.

Only the standard library and newswatch's own light modules are imported here; Apprise is
imported when a channel's URL is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.alerts.references import (
    ATTACHED_TAG_PREFIXES,
    TagNames,
    doc_type_problem,
    source_problem,
)
from pipeline.alerts.urls import apprise_accepts, mask_url
from pipeline.errors import ConfigError
from pipeline.tomlfile import read_toml

if TYPE_CHECKING:
    from pipeline.models import Source
    from pipeline.taxonomy import Taxonomy

CHANNEL_KINDS: tuple[str, ...] = ("console", "jsonl", "apprise")
RULE_FIELDS: tuple[str, ...] = (
    "id",
    "description",
    "channels",
    "regulator",
    "sources",
    "doc_types",
    "entities",
    "topics",
)
CHANNEL_FIELDS: tuple[str, ...] = ("id", "kind", "description", "enabled", "path", "url")
# The field a channel kind needs; no other kind takes it.
_KIND_FIELDS = {"jsonl": "path", "apprise": "url"}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

Parsed = TypeVar("Parsed")


@dataclass(frozen=True)
class AlertRule:
    """When to alert: every condition given must hold (lists match any of their values).

    Entities and topics are taxonomy node ids when the rules were loaded with the taxonomy,
    else as written (matched against tag ids and names alike).
    """

    id: str
    channels: tuple[str, ...]
    regulator: bool | None = None
    sources: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class AlertChannel:
    """Where alerts go: the console, a JSONL file, or any Apprise URL."""

    id: str
    kind: str
    path: str | None = None
    url: str | None = None
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True)
class AlertsConfig:
    """Rules and channels from ``alerts.toml``."""

    rules: tuple[AlertRule, ...] = ()
    channels: Mapping[str, AlertChannel] = field(default_factory=dict)


@dataclass
class _Check:
    """One pass over the file: where it is, what was found, and what names are known."""

    path: Path
    problems: list[str] = field(default_factory=list)
    source_ids: tuple[str, ...] | None = None
    tag_names: TagNames | None = None
    # Ids more than one entry of the kind being parsed claims: their labels add the position.
    repeated: set[str] = field(default_factory=set)

    def where(self, what: str, index: int, raw: Mapping) -> str:
        """The file and entry a problem is about: ``rule 'id'``, else ``rule #position``."""
        ident = raw.get("id")
        if not isinstance(ident, str) or not ident:
            return f"{self.path}: {what} #{index + 1}"
        if ident in self.repeated:
            return f"{self.path}: {what} {ident!r} (#{index + 1})"
        return f"{self.path}: {what} {ident!r}"


def load_alerts(
    path: Path | str,
    *,
    sources: Iterable[Source] | None = None,
    taxonomy: Taxonomy | None = None,
) -> AlertsConfig:
    """Alert rules and channels; raises ``ConfigError`` listing every problem.

    With ``sources`` (from sources.toml) a rule may name only their ids; with ``taxonomy`` its
    entities and topics must be nodes of that kind (by id, name or alias), stored as node ids.
    """
    path = Path(path)
    data = read_toml(path, "alerts")
    check = _Check(
        path=path,
        source_ids=None if sources is None else tuple(s.id for s in sources),
        tag_names=None if taxonomy is None else TagNames(taxonomy),
    )
    for key in data:
        if key not in ("rule", "channel"):
            check.problems.append(
                f"{path}: top-level key {key!r} is not known (expected [[rule]] or [[channel]])"
            )
    raw_channels = _entries(data, "channel", check)
    declared = {ident for _, raw in raw_channels if isinstance(ident := raw.get("id"), str)}
    channels = _parse_unique("channel", raw_channels, _parse_channel, check)
    rules = _parse_unique(
        "rule",
        _entries(data, "rule", check),
        lambda index, raw, check: _parse_rule(index, raw, check, declared),
        check,
    )
    if check.problems:
        raise ConfigError(check.problems)
    return AlertsConfig(rules=tuple(rules), channels={c.id: c for c in channels})


def _entries(data: Mapping[str, Any], key: str, check: _Check) -> list[tuple[int, Mapping]]:
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
    parse: Callable[[int, Mapping, _Check], Parsed | None],
    check: _Check,
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


def _unknown_fields(raw: Mapping, known: tuple[str, ...], where: str, problems: list[str]) -> None:
    for key in raw:
        if key not in known:
            problems.append(f"{where}: field {key!r} is not a known field")


def _ident(raw: Mapping, where: str, problems: list[str]) -> str | None:
    if "id" not in raw:
        problems.append(f"{where}: field 'id' is missing")
        return None
    ident = raw["id"]
    if not isinstance(ident, str) or not _ID_RE.match(ident):
        problems.append(f"{where}: field 'id' must be lower-case letters, digits and '-'")
        return None
    return ident


def _text(
    raw: Mapping, key: str, where: str, problems: list[str], *, non_empty: bool = False
) -> str | None:
    """The string in ``raw[key]``, None when absent or wrong (a problem then says why)."""
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, str) or (non_empty and not value.strip()):
        problems.append(f"{where}: field {key!r} must be a {'non-empty ' * non_empty}string")
        return None
    return value


def _flag(raw: Mapping, key: str, where: str, problems: list[str]) -> bool | None:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, bool):
        problems.append(f"{where}: field {key!r} must be true or false")
        return None
    return value


def _names(raw: Mapping, key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        problems.append(f'{where}: field {key!r} must be a list of strings (["{value}"] for one)')
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: field {key!r} must be a list of strings")
        return ()
    return tuple(value)


def _parse_channel(index: int, raw: Mapping, check: _Check) -> AlertChannel | None:
    problems = check.problems
    where = check.where("channel", index, raw)
    before = len(problems)
    _unknown_fields(raw, CHANNEL_FIELDS, where, problems)
    ident = _ident(raw, where, problems)
    kind = raw.get("kind")
    if "kind" not in raw:
        problems.append(f"{where}: field 'kind' is missing")
    elif kind not in CHANNEL_KINDS:
        problems.append(
            f"{where}: field 'kind' is {kind!r}; expected one of {', '.join(CHANNEL_KINDS)}"
        )
        kind = None
    path = _text(raw, "path", where, problems, non_empty=True)
    url = _text(raw, "url", where, problems, non_empty=True)
    enabled = _flag(raw, "enabled", where, problems)
    description = _text(raw, "description", where, problems)
    for needs, key in _KIND_FIELDS.items():
        if kind == needs and key not in raw:
            problems.append(f"{where}: field {key!r} is required for a channel of kind {kind!r}")
        elif kind is not None and kind != needs and key in raw:
            problems.append(f"{where}: field {key!r} is only for channels of kind {needs!r}")
    if kind == "apprise" and url is not None and not apprise_accepts(url):
        problems.append(f"{where}: field 'url' is not a URL Apprise can read: {mask_url(url)}")
    if len(problems) > before or ident is None or kind is None:
        return None
    return AlertChannel(
        id=ident,
        kind=kind,
        path=path,
        url=url,
        enabled=True if enabled is None else enabled,
        description=description or "",
    )


def _parse_rule(index: int, raw: Mapping, check: _Check, channels: set[str]) -> AlertRule | None:
    problems = check.problems
    where = check.where("rule", index, raw)
    before = len(problems)
    _unknown_fields(raw, RULE_FIELDS, where, problems)
    ident = _ident(raw, where, problems)
    description = _text(raw, "description", where, problems)
    regulator = _flag(raw, "regulator", where, problems)
    rule_channels = _rule_channels(raw, where, problems, channels)
    sources = _names(raw, "sources", where, problems)
    if check.source_ids is not None:
        for source in sources:
            if (reason := source_problem(source, check.source_ids)) is not None:
                problems.append(f"{where}: field 'sources' {reason}")
    doc_types = _names(raw, "doc_types", where, problems)
    for doc_type in doc_types:
        if (reason := doc_type_problem(doc_type)) is not None:
            problems.append(f"{where}: field 'doc_types' {reason}")
    entities = _rule_tags(raw, "entities", "entity", where, check)
    topics = _rule_tags(raw, "topics", "topic", where, check)
    if len(problems) > before or ident is None:
        return None
    return AlertRule(
        id=ident,
        channels=rule_channels,
        regulator=regulator,
        sources=sources,
        doc_types=doc_types,
        entities=entities,
        topics=topics,
        description=description or "",
    )


def _rule_channels(
    raw: Mapping, where: str, problems: list[str], declared: set[str]
) -> tuple[str, ...]:
    if "channels" not in raw:
        problems.append(f"{where}: field 'channels' is missing")
        return ()
    names = _names(raw, "channels", where, problems)
    if raw["channels"] == []:
        problems.append(f"{where}: field 'channels' must name at least one channel")
    known = ", ".join(sorted(declared)) if declared else "none, no [[channel]] is declared"
    for name in names:
        if name not in declared:
            problems.append(
                f"{where}: field 'channels' names unknown channel {name!r}; declared: {known}"
            )
    return names


def _rule_tags(raw: Mapping, key: str, kind: str, where: str, check: _Check) -> tuple[str, ...]:
    """The entities or topics a rule names, as node ids when the taxonomy is known."""
    names = _names(raw, key, where, check.problems)
    if check.tag_names is None:
        return names
    resolved: list[str] = []
    for name in names:
        if name.casefold().startswith(ATTACHED_TAG_PREFIXES):
            resolved.append(name)
        elif (node_id := check.tag_names.resolve(kind, name)) is not None:
            resolved.append(node_id)
        else:
            check.problems.append(f"{where}: field {key!r} {check.tag_names.problem(kind, name)}")
    return tuple(dict.fromkeys(resolved))
