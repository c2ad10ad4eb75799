"""Load and validate ``sources.toml``: the fields every source has, and its kind's options.

Each source kind's options are declared by its adapter (``OPTIONS`` in ``pipeline/sources/``,
plus the fetcher's, which every kind has) and checked here on load; ``alerts.toml`` has its own
module, ``pipeline.alerts.config``. Every problem is collected before raising, so ``newswatch
sources check`` can print them all at once; each names the file, the entry and the field, and
one problem of a source never hides its others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from pipeline.errors import ConfigError
from pipeline.health import parse_period
from pipeline.models import SOURCE_KINDS, Selectors, Source, SourceKind
from pipeline.options import url_problem
from pipeline.sources.registry import adapter_options, required_selectors
from pipeline.tomlfile import read_toml

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
    # How long the source may bring nothing new before `newswatch health` says so.
    "expected_every",
}
_SELECTOR_FIELDS = set(Selectors.__dataclass_fields__)


def _where(path: Path, index: int, entry: Mapping[str, Any]) -> str:
    ident = entry.get("id")
    label = f"source {ident!r}" if isinstance(ident, str) and ident else f"source #{index + 1}"
    return f"{path}: {label}"


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
    """The source of one ``[[source]]`` table; every problem of it is added to ``problems``."""
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: source #{index + 1} must be a table")
        return None
    where = _where(path, index, raw)
    before = len(problems)
    for name in raw:
        if name not in _SOURCE_FIELDS:
            problems.append(f"{where}: field {name!r} is not a known field")
    _check_identity(raw, where, problems)
    if "expected_every" in raw:
        try:
            parse_period(raw["expected_every"])
        except ValueError as exc:
            problems.append(f"{where}: field 'expected_every' {exc}")
    urls = _check_urls(raw.get("urls"), where, problems)
    kind = raw.get("kind")
    selectors = _parse_selectors(raw.get("selectors"), where, problems)
    options = raw.get("options", {})
    if not isinstance(options, Mapping):
        problems.append(f"{where}: field 'options' must be a table")
        options = {}
    if kind in SOURCE_KINDS:
        problems.extend(adapter_options(str(kind)).problems(options, where))
        for required in required_selectors(str(kind)):
            if getattr(selectors, required) is None:
                problems.append(
                    f"{where}: field 'selectors.{required}' is required for kind {kind!r}"
                )
    if len(problems) > before:
        return None
    return Source(
        id=str(raw["id"]),
        name=str(raw["name"]),
        kind=cast(SourceKind, kind),
        urls=tuple(urls),
        lang=str(raw.get("lang", "en")),
        regulator=bool(raw.get("regulator", False)),
        doc_type=str(raw.get("doc_type", "news")),
        enabled=bool(raw.get("enabled", True)),
        selectors=selectors,
        id_pattern=raw.get("id_pattern"),
        id_namespace=raw.get("id_namespace"),
        options=dict(options),
    )


def _check_identity(raw: Mapping[str, Any], where: str, problems: list[str]) -> None:
    """The fields every source has besides its URLs, selectors and options."""
    ident = raw.get("id")
    if not isinstance(ident, str) or not _ID_RE.match(ident):
        problems.append(f"{where}: field 'id' must be lower-case letters, digits and '-'")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: field 'name' is missing or empty")
    for field, allowed, default in (
        ("kind", SOURCE_KINDS, None),
        ("lang", LANGUAGES, "en"),
        ("doc_type", DOC_TYPES, "news"),
    ):
        value = raw.get(field, default)
        if value not in allowed:
            problems.append(
                f"{where}: field {field!r} is {value!r}; expected one of {', '.join(allowed)}"
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


def _check_urls(urls: object, where: str, problems: list[str]) -> list[str]:
    if not isinstance(urls, list) or not urls:
        problems.append(f"{where}: field 'urls' must be a non-empty list")
        return []
    for position, url in enumerate(urls):
        if (reason := url_problem(url)) is not None:
            problems.append(f"{where}: field 'urls[{position}]' {reason}")
    return urls


def check_sources(path: Path | str) -> tuple[list[Source], list[str]]:
    """Every valid source and every problem found in ``path`` (problems name file, entry, field)."""
    path = Path(path)
    try:
        data = read_toml(path, "sources")
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
        # A repeated id is reported even when either entry has problems of its own.
        ident = raw.get("id") if isinstance(raw, Mapping) else None
        if isinstance(ident, str) and ident in seen:
            first = seen[ident] + 1
            problems.append(f"{path}: source {ident!r}: field 'id' repeats entry #{first}")
            continue
        if isinstance(ident, str):
            seen[ident] = index
        if source is not None:
            sources.append(source)
    return sources, problems


def load_sources(path: Path | str) -> list[Source]:
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
