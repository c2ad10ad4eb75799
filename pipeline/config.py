"""Load and validate ``sources.toml`` and ``alerts.toml``, and settings from the environment.

Every problem is collected before raising, so ``newswatch sources check`` can print them all at
once; each names the file, the entry and the field.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import ConfigError
from pipeline.models import SOURCE_KINDS, Selectors, Source

DEFAULT_SOURCES = Path("sources.toml")
DEFAULT_ALERTS = Path("alerts.toml")
DEFAULT_TAXONOMY = Path("taxonomy.toml")
DEFAULT_DB_URL = "sqlite:///newswatch.db"

LANGUAGES = ("en", "zh-hant", "zh-hans")
DOC_TYPES = (
    "press_release",
    "circular",
    "consultation",
    "speech",
    "guideline",
    "legco",
    "news",
    "enforcement",
)
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SOURCE_FIELDS = {
    "id",
    "name",
    "kind",
    "urls",
    "lang",
    "regulator",
    "doc_type",
    "enabled",
    "selectors",
    "id_pattern",
    "id_namespace",
    "options",
}
_SELECTOR_FIELDS = set(Selectors.__dataclass_fields__)
# Kinds that read items from HTML and so cannot work without these selectors.
_REQUIRED_SELECTORS = {"html_index": ("item", "link")}
_ALERT_CHANNEL_KINDS = ("console", "jsonl", "apprise")


@dataclass(frozen=True)
class Settings:
    """Settings taken from the environment, with defaults a first run can use."""

    db_url: str = DEFAULT_DB_URL
    user_agent: str = "newswatch/0.1 (+https://example.org/newswatch; ops@example.org)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``NEWSWATCH_*`` variables."""
        env = os.environ if environ is None else environ
        contact = env.get("NEWSWATCH_CONTACT", "ops@example.org")
        agent = env.get(
            "NEWSWATCH_USER_AGENT", f"newswatch/0.1 (+https://example.org/newswatch; {contact})"
        )
        return cls(db_url=env.get("NEWSWATCH_DB_URL", DEFAULT_DB_URL), user_agent=agent)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _where(path: Path, index: int, entry: Mapping[str, Any]) -> str:
    ident = entry.get("id")
    label = f"source {ident!r}" if isinstance(ident, str) and ident else f"source #{index + 1}"
    return f"{path}: {label}"


def _check_url(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a string URL"
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        return f"is not a URL ({exc})"
    if url.scheme not in ("http", "https") or not url.host:
        return f"{value!r} is not an http(s) URL"
    return None


def _css_problem(selector: str) -> str | None:
    """Why ``selector`` is not CSS selectolax can run, or None."""
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError

    try:
        LexborHTMLParser("<p></p>").css(selector)
    except (SelectolaxError, ValueError) as exc:
        return str(exc)
    return None


def _parse_selectors(raw: object, where: str, problems: list[str]) -> Selectors:
    if raw is None:
        return Selectors()
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: field 'selectors' must be a table")
        return Selectors()
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name == "remove" and isinstance(value, list):
            for position, item in enumerate(value):
                if isinstance(item, str) and (reason := _css_problem(item)) is not None:
                    problems.append(
                        f"{where}: field 'selectors.remove[{position}]' is not valid CSS ({reason})"
                    )
        if name not in _SELECTOR_FIELDS:
            problems.append(f"{where}: field 'selectors.{name}' is not a known selector")
        elif name == "remove":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{where}: field 'selectors.remove' must be a list of strings")
            else:
                values[name] = tuple(value)
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: field 'selectors.{name}' must be a non-empty string")
        elif (reason := _css_problem(value)) is not None:
            problems.append(f"{where}: field 'selectors.{name}' is not valid CSS ({reason})")
        else:
            values[name] = value
    return Selectors(**values)


def _parse_source(index: int, raw: object, path: Path, problems: list[str]) -> Source | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: source #{index + 1} must be a table")
        return None
    where = _where(path, index, raw)
    before = len(problems)
    for name in raw:
        if name not in _SOURCE_FIELDS:
            problems.append(f"{where}: field {name!r} is not a known field")
    ident = raw.get("id")
    if not isinstance(ident, str) or not _ID_RE.match(ident):
        problems.append(f"{where}: field 'id' must be lower-case letters, digits and '-'")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: field 'name' is missing or empty")
    kind = raw.get("kind")
    if kind not in SOURCE_KINDS:
        problems.append(
            f"{where}: field 'kind' is {kind!r}; expected one of {', '.join(SOURCE_KINDS)}"
        )
    urls = raw.get("urls")
    if not isinstance(urls, list) or not urls:
        problems.append(f"{where}: field 'urls' must be a non-empty list")
        urls = []
    for position, url in enumerate(urls):
        if (reason := _check_url(url)) is not None:
            problems.append(f"{where}: field 'urls[{position}]' {reason}")
    lang = raw.get("lang", "en")
    if lang not in LANGUAGES:
        problems.append(
            f"{where}: field 'lang' is {lang!r}; expected one of {', '.join(LANGUAGES)}"
        )
    doc_type = raw.get("doc_type", "news")
    if doc_type not in DOC_TYPES:
        problems.append(
            f"{where}: field 'doc_type' is {doc_type!r}; expected one of {', '.join(DOC_TYPES)}"
        )
    for flag in ("regulator", "enabled"):
        if flag in raw and not isinstance(raw[flag], bool):
            problems.append(f"{where}: field {flag!r} must be true or false")
    id_pattern = raw.get("id_pattern")
    if id_pattern is not None:
        try:
            if not isinstance(id_pattern, str) or re.compile(id_pattern).groups != 1:
                problems.append(f"{where}: field 'id_pattern' must be a regex with one group")
        except re.error as exc:
            problems.append(f"{where}: field 'id_pattern' is not a valid regex ({exc})")
    namespace = raw.get("id_namespace")
    if namespace is not None and (not isinstance(namespace, str) or not _ID_RE.match(namespace)):
        problems.append(f"{where}: field 'id_namespace' must be lower-case letters, digits and '-'")
    options = raw.get("options", {})
    if not isinstance(options, Mapping):
        problems.append(f"{where}: field 'options' must be a table")
        options = {}
    selectors = _parse_selectors(raw.get("selectors"), where, problems)
    for required in _REQUIRED_SELECTORS.get(str(kind), ()):
        if getattr(selectors, required) is None:
            problems.append(f"{where}: field 'selectors.{required}' is required for kind {kind!r}")
    if kind == "sfc_api" and options.get("endpoint") not in ("news", "circular", "consultation"):
        problems.append(
            f"{where}: field 'options.endpoint' must be one of news, circular, consultation"
        )
    body_url = options.get("body_url")
    if body_url is not None and (not isinstance(body_url, str) or "{item_id}" not in body_url):
        problems.append(
            f"{where}: field 'options.body_url' must be a URL template with {{item_id}}"
        )
    conditional = options.get("conditional")
    if conditional is not None and not isinstance(conditional, bool):
        problems.append(f"{where}: field 'options.conditional' must be true or false")
    for seconds in ("min_delay", "time_budget"):
        value = options.get(seconds)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"{where}: field 'options.{seconds}' must be a number of seconds")
        elif seconds == "time_budget" and value == 0:
            problems.append(f"{where}: field 'options.time_budget' must be more than 0 seconds")
    fallback_urls = options.get("fallback_urls", [])
    if not isinstance(fallback_urls, list):
        problems.append(f"{where}: field 'options.fallback_urls' must be a list of URLs")
        fallback_urls = []
    for position, url in enumerate(fallback_urls):
        if (reason := _check_url(url)) is not None:
            problems.append(f"{where}: field 'options.fallback_urls[{position}]' {reason}")
    if len(problems) > before:
        return None
    return Source(
        id=str(ident),
        name=str(name),
        kind=kind,  # type: ignore[arg-type]
        urls=tuple(urls),
        lang=str(lang),
        regulator=bool(raw.get("regulator", False)),
        doc_type=str(doc_type),
        enabled=bool(raw.get("enabled", True)),
        selectors=selectors,
        id_pattern=id_pattern,
        id_namespace=namespace,
        options=dict(options),
    )


def check_sources(path: Path | str = DEFAULT_SOURCES) -> tuple[list[Source], list[str]]:
    """Every valid source and every problem found in ``path`` (problems name file, entry, field)."""
    path = Path(path)
    try:
        data = _read_toml(path)
    except ConfigError as exc:
        return [], exc.problems
    problems: list[str] = []
    for key in data:
        if key != "source":
            problems.append(f"{path}: top-level key {key!r} is not known (expected [[source]])")
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list) or not raw_sources:
        problems.append(f"{path}: no [[source]] entries")
        return [], problems
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_sources):
        source = _parse_source(index, raw, path, problems)
        if source is None:
            continue
        if source.id in seen:
            problems.append(
                f"{path}: source {source.id!r}: field 'id' repeats entry #{seen[source.id] + 1}"
            )
            continue
        seen[source.id] = index
        sources.append(source)
    return sources, problems


def load_sources(path: Path | str = DEFAULT_SOURCES) -> list[Source]:
    """The sources declared in ``path``; raises ``ConfigError`` listing every problem."""
    sources, problems = check_sources(path)
    if problems:
        raise ConfigError(problems)
    return sources


def select_sources(sources: list[Source], ids: list[str] | None) -> list[Source]:
    """The enabled sources, or exactly those named by ``ids`` (unknown ids are an error)."""
    if not ids:
        return [s for s in sources if s.enabled]
    by_id = {s.id: s for s in sources}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise ConfigError(f"unknown source id(s): {', '.join(unknown)}")
    return [by_id[i] for i in ids]


@dataclass(frozen=True)
class AlertRule:
    """When to alert: every condition given must hold (lists match any of their values)."""

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


@dataclass(frozen=True)
class AlertsConfig:
    """Rules and channels from ``alerts.toml``."""

    rules: tuple[AlertRule, ...] = ()
    channels: Mapping[str, AlertChannel] = field(default_factory=dict)


def _str_list(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: field {key!r} must be a list of strings")
        return ()
    return tuple(value)


def load_alerts(path: Path | str = DEFAULT_ALERTS) -> AlertsConfig:
    """Alert rules and channels; raises ``ConfigError`` listing every problem."""
    path = Path(path)
    data = _read_toml(path)
    problems: list[str] = []
    channels: dict[str, AlertChannel] = {}
    for index, raw in enumerate(data.get("channel", [])):
        where = f"{path}: channel {raw.get('id', f'#{index + 1}')!r}"
        ident, kind = raw.get("id"), raw.get("kind")
        if not isinstance(ident, str) or not _ID_RE.match(ident):
            problems.append(f"{where}: field 'id' must be lower-case letters, digits and '-'")
            continue
        if kind not in _ALERT_CHANNEL_KINDS:
            problems.append(
                f"{where}: field 'kind' is {kind!r}; "
                f"expected one of {', '.join(_ALERT_CHANNEL_KINDS)}"
            )
            continue
        if kind == "jsonl" and not isinstance(raw.get("path"), str):
            problems.append(f"{where}: field 'path' is required for a jsonl channel")
        if kind == "apprise" and not isinstance(raw.get("url"), str):
            problems.append(f"{where}: field 'url' is required for an apprise channel")
        channels[ident] = AlertChannel(
            id=ident,
            kind=kind,
            path=raw.get("path"),
            url=raw.get("url"),
            enabled=bool(raw.get("enabled", True)),
        )
    rules: list[AlertRule] = []
    for index, raw in enumerate(data.get("rule", [])):
        where = f"{path}: rule {raw.get('id', f'#{index + 1}')!r}"
        ident = raw.get("id")
        if not isinstance(ident, str) or not _ID_RE.match(ident):
            problems.append(f"{where}: field 'id' must be lower-case letters, digits and '-'")
            continue
        rule_channels = _str_list(raw, "channels", where, problems)
        for channel in rule_channels:
            if channel not in channels:
                problems.append(f"{where}: field 'channels' names unknown channel {channel!r}")
        regulator = raw.get("regulator")
        if regulator is not None and not isinstance(regulator, bool):
            problems.append(f"{where}: field 'regulator' must be true or false")
        rules.append(
            AlertRule(
                id=ident,
                channels=rule_channels,
                regulator=regulator,
                sources=_str_list(raw, "sources", where, problems),
                doc_types=_str_list(raw, "doc_types", where, problems),
                entities=_str_list(raw, "entities", where, problems),
                topics=_str_list(raw, "topics", where, problems),
                description=str(raw.get("description", "")),
            )
        )
    if problems:
        raise ConfigError(problems)
    return AlertsConfig(rules=tuple(rules), channels=channels)
