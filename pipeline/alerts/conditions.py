"""The conditions of an alert rule, as ``alerts.toml`` writes them and as they are checked.

A condition table holds any of the leaf fields (each must hold; a list matches any of its
values) and ``any``/``all``: lists of condition tables, of which one (``any``) or every one
(``all``) must hold. A rule is itself a condition table with an id, channels and delivery
settings. Every mistake is added to the pass's problems, so one load reports them all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from pipeline.alerts.fields import Check, read_flag, read_names, read_text, unknown_fields
from pipeline.alerts.references import ATTACHED_TAG_PREFIXES, doc_type_problem, source_problem
from pipeline.alerts.textmatch import unsearchable_terms
from pipeline.errors import QueryError
from pipeline.querytext import check_query

CONDITION_FIELDS: tuple[str, ...] = (
    "regulator",
    "sources",
    "doc_types",
    "entities",
    "topics",
    "keywords",
    "query",
    "languages",
    "any",
    "all",
)
# What a rule has besides its conditions; a condition table inside any/all may not hold them.
RULE_SETTINGS: tuple[str, ...] = (
    "id",
    "description",
    "channels",
    "severity",
    "mode",
    "digest_at",
    "updates",
)
_RULE_ONLY = {name: "belongs to the rule, not to a condition table" for name in RULE_SETTINGS}
# Nesting a person writes stays within two or three levels; far deeper is a generated file or
# a mistake, and each level is one more recursion of the loader and the matcher.
MAX_CONDITION_DEPTH = 8
# A language tag as articles carry it: "en", "zh", "zh-hk", "zh-Hant" (BCP 47 in outline).
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*$", re.IGNORECASE)
_HAS_WORD_RE = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Condition:
    """What an article must be for a rule to alert: every field given must hold.

    Entities and topics are taxonomy node ids when loaded with the taxonomy, else as written
    (matched against tag ids and names alike). ``any_of`` holds when one of its conditions
    does, ``all_of`` when each does.
    """

    regulator: bool | None = None
    sources: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    query: str | None = None
    languages: tuple[str, ...] = ()
    any_of: tuple[Condition, ...] = ()
    all_of: tuple[Condition, ...] = ()


def condition_values(condition: Condition) -> dict[str, Any]:
    """The fields of ``condition`` by name (one level: nested conditions stay objects)."""
    return {f.name: getattr(condition, f.name) for f in fields(Condition)}


def parse_condition(raw: Mapping, where: str, check: Check, *, depth: int = 0) -> Condition:
    """The condition fields of ``raw`` (a rule or a condition table); problems go to ``check``."""
    problems = check.problems
    regulator = read_flag(raw, "regulator", where, problems)
    sources = read_names(raw, "sources", where, problems, non_empty=True)
    if check.source_ids is not None:
        for source in sources:
            if (reason := source_problem(source, check.source_ids)) is not None:
                problems.append(f"{where}: field 'sources' {reason}")
    doc_types = read_names(raw, "doc_types", where, problems, non_empty=True)
    for doc_type in doc_types:
        if (reason := doc_type_problem(doc_type)) is not None:
            problems.append(f"{where}: field 'doc_types' {reason}")
    return Condition(
        regulator=regulator,
        sources=sources,
        doc_types=doc_types,
        entities=_tags(raw, "entities", "entity", where, check),
        topics=_tags(raw, "topics", "topic", where, check),
        keywords=_keywords(raw, where, problems),
        query=_query(raw, where, problems),
        languages=_languages(raw, where, problems),
        any_of=_nested(raw, "any", where, check, depth),
        all_of=_nested(raw, "all", where, check, depth),
    )


def _tags(raw: Mapping, key: str, kind: str, where: str, check: Check) -> tuple[str, ...]:
    """The entities or topics a condition names, as node ids when the taxonomy is known."""
    names = read_names(raw, key, where, check.problems, non_empty=True)
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


def _keywords(raw: Mapping, where: str, problems: list[str]) -> tuple[str, ...]:
    keywords: list[str] = []
    for keyword in read_names(raw, "keywords", where, problems, non_empty=True):
        if not _HAS_WORD_RE.search(keyword):
            problems.append(
                f"{where}: field 'keywords' holds {keyword!r}, which has no letter or digit"
            )
        else:
            keywords.append(" ".join(keyword.split()))
    return tuple(dict.fromkeys(keywords))


def _query(raw: Mapping, where: str, problems: list[str]) -> str | None:
    """The query when ``newswatch search`` would read it and it can match something."""
    query = read_text(raw, "query", where, problems, non_empty=True)
    if query is None:
        return None
    try:
        parsed = check_query(query)
    except QueryError as exc:
        problems.append(f"{where}: field 'query' is refused: {exc}")
        return None
    if not parsed.groups:
        why = "it only excludes words; add one to look for" if parsed.excluded else "no word"
        problems.append(f"{where}: field 'query' can match nothing: {why}")
        return None
    if empty := unsearchable_terms(parsed):
        problems.append(
            f"{where}: field 'query' term {empty[0]!r} holds no letter or digit to look for"
        )
        return None
    return query


def _languages(raw: Mapping, where: str, problems: list[str]) -> tuple[str, ...]:
    languages = read_names(raw, "languages", where, problems, non_empty=True)
    for code in languages:
        if not _LANGUAGE_RE.match(code):
            problems.append(
                f"{where}: field 'languages' names {code!r}, which is not a language code"
                " such as 'en', 'zh' or 'zh-hk'"
            )
    return languages


def _nested(raw: Mapping, key: str, where: str, check: Check, depth: int) -> tuple[Condition, ...]:
    """The condition tables of ``raw[key]`` (``any`` or ``all``), each checked in turn."""
    if key not in raw:
        return ()
    value, problems = raw[key], check.problems
    if isinstance(value, Mapping):
        problems.append(
            f"{where}: field {key!r} must be a list of condition tables ([{{…}}] for one)"
        )
        return ()
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        problems.append(f"{where}: field {key!r} must be a list of condition tables")
        return ()
    if not value:
        problems.append(
            f"{where}: field {key!r} is an empty list; give it one condition table or more"
        )
        return ()
    if depth >= MAX_CONDITION_DEPTH:
        problems.append(
            f"{where}: field {key!r} nests conditions more than {MAX_CONDITION_DEPTH} levels deep"
        )
        return ()
    conditions: list[Condition] = []
    for index, table in enumerate(value):
        inner = f"{where}: {key} #{index + 1}"
        unknown_fields(table, CONDITION_FIELDS, inner, problems, elsewhere=_RULE_ONLY)
        if not table:
            problems.append(f"{inner}: sets no condition, so it would hold for every article")
        conditions.append(parse_condition(table, inner, check, depth=depth + 1))
    return tuple(conditions)
