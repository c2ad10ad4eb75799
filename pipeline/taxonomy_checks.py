"""Check the parsed TOML of ``taxonomy.toml`` and build its nodes.

Every field of a node is checked whatever else is wrong with the node, and what could be read
is kept in a draft. The checks across nodes (ids, parents, cycles, terms, short forms) then run
over every draft, skipping only values that could not be read, so one mistake is reported once
and does not come back as another node's problem (a child whose parent has a bad ``min_count``
is not told its parent is unknown).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pipeline.errors import ConfigError
from pipeline.taxonomy import (
    ENTITY_TYPES,
    KINDS,
    TOPIC_TYPES,
    Node,
    NodeKind,
    normalise,
    term_variants,
)

_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_SEED_RE = re.compile(r"[0-9]{3}")
_FIELDS = {
    "id",
    "kind",
    "type",
    "name",
    "aliases",
    "keywords",
    "parent",
    "regulator",
    "case_sensitive",
    "requires_context",
    "short_forms",
    "min_count",
    "seed",
    "description",
}
_REQUIRED = ("id", "kind", "type", "name")
_TOPIC_ONLY = ("keywords", "min_count")


@dataclass
class _Draft:
    """One [[node]] table as far as it could be read; ``None`` marks a missing or wrong value."""

    number: int
    where: str
    # Any non-empty string, even a badly formed one: that mistake is reported by itself, and
    # the node's children and namesakes must still find the node.
    id: str | None = None
    kind: str | None = None
    type: str | None = None
    name: str | None = None
    aliases: tuple[str, ...] | None = ()
    keywords: tuple[str, ...] | None = ()
    parent: str | None = None
    regulator: bool = False
    case_sensitive: tuple[str, ...] = ()
    requires_context: tuple[str, ...] = ()
    short_forms: tuple[str, ...] = ()
    min_count: int = 1
    seed: tuple[str, ...] = ()
    description: str = ""

    @property
    def ref(self) -> str:
        """How another node's problem names this node."""
        return repr(self.id) if self.id else f"node #{self.number}"

    @property
    def numbered(self) -> str:
        """The node's place in the file, with its name when it has one."""
        return f"node #{self.number}" + (f" ({self.name!r})" if self.name else "")

    @property
    def all_terms_read(self) -> bool:
        """Whether the name, aliases and keywords could all be read."""
        return None not in (self.name, self.aliases, self.keywords)

    def terms(self) -> Iterator[tuple[str, str]]:
        """Field and term of each name, alias and keyword that could be read."""
        if self.name is not None:
            yield "name", self.name
        for source, values in (("aliases", self.aliases), ("keywords", self.keywords)):
            for term in values or ():
                yield source, term

    def node(self) -> Node:
        """The node; only for a draft of a file without problems, where every value is set."""
        return Node(
            id=str(self.id),
            kind=cast(NodeKind, self.kind),
            type=str(self.type),
            name=str(self.name),
            aliases=self.aliases or (),
            keywords=self.keywords or (),
            parent=self.parent,
            regulator=self.regulator,
            case_sensitive=self.case_sensitive,
            requires_context=tuple(normalise(word) for word in self.requires_context),
            short_forms=self.short_forms,
            min_count=self.min_count,
            seed=self.seed,
            description=self.description,
        )


def parse_nodes(raw: Mapping[str, Any], path: Path) -> tuple[Node, ...]:
    """Check the parsed TOML of a taxonomy file and build its nodes; ``ConfigError`` if wrong."""
    problems: list[str] = []
    for key in raw:
        if key != "node":
            problems.append(f"{path}: top-level key {key!r} is not known (only [[node]] tables)")
    entries = raw.get("node", [])
    if not isinstance(entries, list) or not entries:
        problems.append(f"{path}: no [[node]] tables")
        entries = []
    drafts: list[_Draft] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            problems.append(f"{path}: node #{number} must be a table")
            continue
        drafts.append(_read_node(number, entry, path, problems))
    by_id = _check_ids(drafts, problems)
    _check_parents(drafts, by_id, problems)
    _check_cycles(drafts, by_id, problems)
    _check_short_forms(drafts, problems)
    _check_terms(drafts, problems)
    if problems:
        raise ConfigError(problems)
    return tuple(draft.node() for draft in drafts)


def _read_node(number: int, raw: Mapping[str, Any], path: Path, problems: list[str]) -> _Draft:
    ident = raw.get("id")
    readable = ident if isinstance(ident, str) and ident else None
    label = f"node {readable!r}" if readable else f"node #{number}"
    draft = _Draft(number=number, where=f"{path}: {label}", id=readable)
    for key in raw:
        if key not in _FIELDS:
            problems.append(f"{draft.where}: field {key!r} is not a known field")
    for key in _REQUIRED:
        if key not in raw:
            problems.append(f"{draft.where}: field {key!r} is missing")
    _read_identity(raw, draft, problems)
    _read_lists(raw, draft, problems)
    _read_settings(raw, draft, problems)
    _read_case_sensitive(raw, draft, problems)
    return draft


def _read_identity(raw: Mapping[str, Any], draft: _Draft, problems: list[str]) -> None:
    """id, kind, type and name."""
    where = draft.where
    ident = raw.get("id")
    if "id" in raw and (not isinstance(ident, str) or not _ID_RE.fullmatch(ident)):
        problems.append(f"{where}: field 'id' must be lower-case letters, digits and '-'")
    kind = raw.get("kind")
    if kind in KINDS:
        draft.kind = kind
    elif "kind" in raw:
        problems.append(f"{where}: field 'kind' is {kind!r}; expected one of {', '.join(KINDS)}")
    node_type = raw.get("type")
    allowed = {"entity": ENTITY_TYPES, "topic": TOPIC_TYPES}.get(
        draft.kind or "", ENTITY_TYPES + TOPIC_TYPES
    )
    if node_type in allowed:
        draft.type = node_type
    elif "type" in raw:
        wanted = f"{_a(draft.kind)} takes" if draft.kind else "expected"
        problems.append(
            f"{where}: field 'type' is {node_type!r}; {wanted} one of {', '.join(allowed)}"
        )
    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        draft.name = name.strip()
    elif "name" in raw:
        problems.append(f"{where}: field 'name' must be a non-empty string")


def _read_lists(raw: Mapping[str, Any], draft: _Draft, problems: list[str]) -> None:
    """The lists of terms and words, and the parent."""
    draft.aliases = _string_list(raw, "aliases", draft.where, problems)
    draft.keywords = _string_list(raw, "keywords", draft.where, problems)
    draft.requires_context = _string_list(raw, "requires_context", draft.where, problems) or ()
    draft.short_forms = _string_list(raw, "short_forms", draft.where, problems) or ()
    parent = raw.get("parent")
    if isinstance(parent, str) and parent:
        draft.parent = parent
    elif "parent" in raw:
        problems.append(f"{draft.where}: field 'parent' must be a node id")


def _a(kind: str) -> str:
    """The kind with its article: "an entity", "a topic"."""
    return f"an {kind}" if kind.startswith(tuple("aeiou")) else f"a {kind}"


def _string_list(
    raw: Mapping[str, Any], key: str, where: str, problems: list[str]
) -> tuple[str, ...] | None:
    """The field's stripped strings; ``None`` (after saying why) when it is not such a list."""
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: field {key!r} must be a list of non-empty strings")
        return None
    return tuple(v.strip() for v in value)


def _read_settings(raw: Mapping[str, Any], draft: _Draft, problems: list[str]) -> None:
    """regulator, min_count, seed and description, and the fields only topics take."""
    where = draft.where
    if draft.kind == "entity":
        for key in _TOPIC_ONLY:
            if key in raw:
                problems.append(f"{where}: field {key!r} is only for topics")
    regulator = raw.get("regulator", False)
    if not isinstance(regulator, bool):
        problems.append(f"{where}: field 'regulator' must be true or false")
    else:
        draft.regulator = regulator
        # A missing or unknown type is already reported; comparing with it would say so twice.
        if regulator and draft.type is not None and draft.type != "regulator":
            problems.append(f"{where}: field 'regulator' is true but type is {draft.type!r}")
    min_count = raw.get("min_count", 1)
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        problems.append(f"{where}: field 'min_count' must be a whole number ≥ 1")
    else:
        draft.min_count = min_count
    seed = raw.get("seed", [])
    seeds = [seed] if isinstance(seed, str) else seed
    if isinstance(seeds, list) and all(isinstance(s, str) and _SEED_RE.fullmatch(s) for s in seeds):
        draft.seed = tuple(seeds)
    else:
        problems.append(f"{where}: field 'seed' must be a seed number like \"000\" or a list")
    description = raw.get("description", "")
    if isinstance(description, str):
        draft.description = description.strip()
    else:
        problems.append(f"{where}: field 'description' must be a string")


def _read_case_sensitive(raw: Mapping[str, Any], draft: _Draft, problems: list[str]) -> None:
    """``true``, ``false`` or a list of the node's own terms."""
    value = raw.get("case_sensitive", False)
    terms = tuple(term for _, term in draft.terms())
    if isinstance(value, bool):
        draft.case_sensitive = terms if value else ()
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(
            f"{draft.where}: field 'case_sensitive' must be true, false or a list of the node's"
            " terms"
        )
        return
    unknown = [v for v in value if v not in terms]
    if not unknown:
        draft.case_sensitive = tuple(value)
    # With a term list unreadable, a listed term may well be in it: that list's problem is
    # reported, this one would be a guess.
    elif draft.all_terms_read:
        problems.append(
            f"{draft.where}: field 'case_sensitive' lists {', '.join(map(repr, unknown))},"
            " which is not the node's name, an alias or a keyword"
        )


def _check_ids(drafts: list[_Draft], problems: list[str]) -> dict[str, _Draft]:
    """Each id names one node; returns the first node of each id."""
    first: dict[str, _Draft] = {}
    for draft in drafts:
        if draft.id is None:
            continue
        other = first.setdefault(draft.id, draft)
        if other is not draft:
            problems.append(
                f"{draft.where}: field 'id' is claimed by both {other.numbered}"
                f" and {draft.numbered}"
            )
    return first


def _check_parents(drafts: list[_Draft], by_id: dict[str, _Draft], problems: list[str]) -> None:
    """A parent is a node of the same kind."""
    for draft in drafts:
        if draft.parent is None:
            continue
        parent = by_id.get(draft.parent)
        if parent is None:
            problems.append(f"{draft.where}: field 'parent' {draft.parent!r} is unknown")
        elif parent.kind and draft.kind and parent.kind != draft.kind:
            problems.append(
                f"{draft.where}: field 'parent' {draft.parent!r} is {_a(parent.kind)},"
                f" not {_a(draft.kind)}"
            )


def _check_cycles(drafts: list[_Draft], by_id: dict[str, _Draft], problems: list[str]) -> None:
    """Following parents from any node ends at a node without one."""
    for draft in drafts:
        seen = {draft.id}
        current = by_id.get(draft.parent or "")
        while current is not None:
            if current.id in seen:
                problems.append(
                    f"{draft.where}: field 'parent' leads into a cycle at {current.id!r}"
                )
                break
            seen.add(current.id)
            current = by_id.get(current.parent or "")


def _both(first: _Draft, second: _Draft) -> str:
    """Two nodes, told apart by place when they share an id (already a problem of its own)."""
    if first.ref == second.ref:
        return f"node #{first.number} and node #{second.number} (both {first.ref})"
    return f"{first.ref} and {second.ref}"


def _check_terms(drafts: list[_Draft], problems: list[str]) -> None:
    """Every term, in its matching form, must belong to one node and be listed once."""
    owner: dict[str, tuple[_Draft, str]] = {}
    for draft in drafts:
        for source, term in draft.terms():
            if not any(ch.isalnum() for ch in term):
                problems.append(f"{draft.where}: field {source!r} term {term!r} has no letters")
                continue
            for key in dict.fromkeys(normalise(v) for v in term_variants(term)):
                if key not in owner:
                    owner[key] = (draft, source)
                    continue
                other, other_field = owner[key]
                if other is draft:
                    problems.append(
                        f"{draft.where}: field {source!r} repeats {term!r}"
                        f" (already in {other_field!r}; case, hyphens and spaces do not count)"
                    )
                else:
                    problems.append(
                        f"{draft.where}: field {source!r} term {term!r} is claimed"
                        f" by both {_both(other, draft)}"
                    )
                break


def _check_short_forms(drafts: list[_Draft], problems: list[str]) -> None:
    """A short form may share another node's term (it wins only once its node is named), but
    not another node's short form, nor repeat its own node's terms."""
    owner: dict[str, _Draft] = {}
    for draft in drafts:
        own = {normalise(term) for _, term in draft.terms()}
        for term in draft.short_forms:
            key = normalise(term)
            if key in own:
                problems.append(
                    f"{draft.where}: field 'short_forms' repeats {term!r}"
                    " (already one of the node's terms)"
                )
            elif key in owner and owner[key] is not draft:
                problems.append(
                    f"{draft.where}: field 'short_forms' term {term!r} is claimed by"
                    f" both {_both(owner[key], draft)}"
                )
            else:
                owner[key] = draft
