"""Load and validate ``taxonomy.toml``: the entities and topics articles are tagged with.

Every problem is collected before raising, so ``newswatch sources check`` prints them all at
once; each names the file, the node and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.errors import ConfigError

NodeKind = Literal["entity", "topic"]
KINDS: tuple[str, ...] = ("entity", "topic")
ENTITY_TYPES: tuple[str, ...] = (
    "regulator",
    "government",
    "company",
    "person",
    "programme",
    "product",
    "platform",
    "event",
    "place",
    "institution",
    "organisation",
    "policy",
    "media",
    "publication",
)
TOPIC_TYPES: tuple[str, ...] = ("topic",)
# A sha256 prefix this long cannot collide between the handful of taxonomy versions a
# database ever sees, and it stays short enough to print in a run table.
VERSION_LENGTH = 16

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SEED_RE = re.compile(r"^\d{3}$")
_TOML_POSITION_RE = re.compile(r"\(at line (\d+), column (\d+)\)")
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


def normalise(text: str, *, fold: bool = True) -> str:
    """The form terms and text are matched in: NFKC, case-folded unless ``fold`` is false."""
    text = unicodedata.normalize("NFKC", text)
    return text.casefold() if fold else text


def term_variants(term: str) -> tuple[str, ...]:
    """The spellings a term is matched in: as written, hyphens as spaces, curly apostrophes."""
    # NFKC turns a non-breaking hyphen into U+2010, not into "-": match that form too.
    variants = dict.fromkeys((term, term.replace("-", " "), term.replace("-", "\u2010")))
    for variant in list(variants):
        if "'" in variant:
            variants[variant.replace("'", "\u2019")] = None
    return tuple(variants)


@dataclass(frozen=True)
class Node:
    """One entity or topic of the taxonomy, as declared and validated."""

    id: str
    kind: NodeKind
    type: str
    name: str
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    parent: str | None = None
    regulator: bool = False
    # The node's terms matched with their exact case (short acronyms such as "AI", "SFC").
    case_sensitive: tuple[str, ...] = ()
    # Words one of which must appear in the same sentence as a match (ambiguous names).
    requires_context: tuple[str, ...] = ()
    # Later references (a surname) that count only after a full term appeared earlier.
    short_forms: tuple[str, ...] = ()
    min_count: int = 1
    # Seed articles the node was taken from ("000", "002").
    seed: tuple[str, ...] = ()
    description: str = ""

    @property
    def terms(self) -> tuple[str, ...]:
        """Every term that names the node: name, aliases and keywords."""
        return (self.name, *self.aliases, *self.keywords)


@dataclass(frozen=True)
class Taxonomy:
    """A validated taxonomy: nodes in file order, looked up by id."""

    path: Path
    version: str
    nodes: tuple[Node, ...]
    _by_id: dict[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {node.id: node for node in self.nodes})

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._by_id

    def node(self, node_id: str) -> Node:
        """The node with this id; ``KeyError`` naming the id when there is none."""
        try:
            return self._by_id[node_id]
        except KeyError:
            raise KeyError(f"{self.path}: no taxonomy node {node_id!r}") from None

    def ancestors(self, node_id: str) -> tuple[Node, ...]:
        """The node's parent, grandparent and so on, nearest first."""
        found: list[Node] = []
        parent = self.node(node_id).parent
        while parent is not None:
            node = self.node(parent)
            found.append(node)
            parent = node.parent
        return tuple(found)


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and validate a taxonomy file; ``ConfigError`` lists every problem found."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read taxonomy: {exc.strerror or exc}") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_problem(path, exc)) from None
    return Taxonomy(path=path, version=content_version(raw), nodes=parse_nodes(raw, path))


def content_version(raw: Mapping[str, Any]) -> str:
    """The version of a parsed taxonomy: a hash of its content, blind to comments and layout.

    Keys are sorted and values serialised canonically, so reformatting the file or editing a
    comment keeps the version (and spares a retag), while any change to a node moves it.
    """
    canonical = json.dumps(
        raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:VERSION_LENGTH]


def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    if line is None and (found := _TOML_POSITION_RE.search(message)):
        line, column = int(found.group(1)), int(found.group(2))
        message = message[: found.start()].rstrip()
    if line is None:
        return f"{path}: not valid TOML: {message}"
    return f"{path}: not valid TOML at line {line}, column {column}: {message}"


def parse_nodes(raw: Mapping[str, Any], path: Path) -> tuple[Node, ...]:
    """Validate the parsed TOML of a taxonomy file and build its nodes."""
    problems: list[str] = []
    for key in raw:
        if key != "node":
            problems.append(f"{path}: top-level key {key!r} is not known (only [[node]] tables)")
    entries = raw.get("node", [])
    if not isinstance(entries, list) or not entries:
        problems.append(f"{path}: no [[node]] tables")
        entries = []
    nodes: list[Node] = []
    first: dict[str, tuple[int, Node]] = {}
    for index, entry in enumerate(entries):
        node = _parse_node(index, entry, path, problems)
        if node is None:
            continue
        if node.id in first:
            earlier, other = first[node.id]
            problems.append(
                f"{path}: node {node.id!r}: field 'id' is claimed by both node #{earlier + 1}"
                f" ({other.name!r}) and node #{index + 1} ({node.name!r})"
            )
            continue
        first[node.id] = (index, node)
        nodes.append(node)
    _check_parents(nodes, path, problems)
    _check_terms(nodes, path, problems)
    if problems:
        raise ConfigError(problems)
    return tuple(nodes)


def _string_list(
    raw: Mapping[str, Any], key: str, where: str, problems: list[str]
) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: field {key!r} must be a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def _parse_node(index: int, raw: object, path: Path, problems: list[str]) -> Node | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: node #{index + 1} must be a table")
        return None
    ident = raw.get("id")
    label = f"node {ident!r}" if isinstance(ident, str) and ident else f"node #{index + 1}"
    where = f"{path}: {label}"
    before = len(problems)
    for key in raw:
        if key not in _FIELDS:
            problems.append(f"{where}: field {key!r} is not a known field")
    for key in _REQUIRED:
        if key not in raw:
            problems.append(f"{where}: field {key!r} is missing")
    if "id" in raw and (not isinstance(ident, str) or not _ID_RE.match(ident)):
        problems.append(f"{where}: field 'id' must be lower-case letters, digits and '-'")
    kind = raw.get("kind")
    if "kind" in raw and kind not in KINDS:
        problems.append(f"{where}: field 'kind' is {kind!r}; expected one of {', '.join(KINDS)}")
    node_type = raw.get("type")
    allowed = TOPIC_TYPES if kind == "topic" else ENTITY_TYPES
    if "type" in raw and node_type not in allowed:
        problems.append(
            f"{where}: field 'type' is {node_type!r}; a {kind or 'node'} takes one of"
            f" {', '.join(allowed)}"
        )
    name = raw.get("name")
    if "name" in raw and (not isinstance(name, str) or not name.strip()):
        problems.append(f"{where}: field 'name' must be a non-empty string")
    aliases = _string_list(raw, "aliases", where, problems)
    keywords = _string_list(raw, "keywords", where, problems)
    context = _string_list(raw, "requires_context", where, problems)
    short_forms = _string_list(raw, "short_forms", where, problems)
    if kind == "entity":
        for key in _TOPIC_ONLY:
            if key in raw:
                problems.append(f"{where}: field {key!r} is only for topics")
    parent = raw.get("parent")
    if parent is not None and (not isinstance(parent, str) or not parent):
        problems.append(f"{where}: field 'parent' must be a node id")
    regulator = raw.get("regulator", False)
    if not isinstance(regulator, bool):
        problems.append(f"{where}: field 'regulator' must be true or false")
    elif regulator and node_type != "regulator":
        problems.append(f"{where}: field 'regulator' is true but type is {node_type!r}")
    min_count = raw.get("min_count", 1)
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        problems.append(f"{where}: field 'min_count' must be a whole number ≥ 1")
    seed = _parse_seed(raw.get("seed"), where, problems)
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{where}: field 'description' must be a string")
    if len(problems) > before:
        return None
    terms = (str(name).strip(), *aliases, *keywords)
    case_sensitive = _parse_case_sensitive(raw.get("case_sensitive", False), terms, where)
    if isinstance(case_sensitive, str):
        problems.append(case_sensitive)
        return None
    return Node(
        id=str(ident),
        kind=kind,  # type: ignore[arg-type]
        type=str(node_type),
        name=str(name).strip(),
        aliases=aliases,
        keywords=keywords,
        parent=parent,
        regulator=regulator,
        case_sensitive=case_sensitive,
        requires_context=tuple(normalise(word) for word in context),
        short_forms=short_forms,
        min_count=min_count,
        seed=seed,
        description=description.strip(),
    )


def _parse_seed(value: object, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    seeds = [value] if isinstance(value, str) else value
    if not isinstance(seeds, list) or not all(
        isinstance(s, str) and _SEED_RE.match(s) for s in seeds
    ):
        problems.append(f"{where}: field 'seed' must be a seed number like \"000\" or a list")
        return ()
    return tuple(seeds)


def _parse_case_sensitive(
    value: object, terms: tuple[str, ...], where: str
) -> tuple[str, ...] | str:
    """The node's case-sensitive terms, or a problem message."""
    if isinstance(value, bool):
        return terms if value else ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f"{where}: field 'case_sensitive' must be true, false or a list of the node's terms"
    unknown = [v for v in value if v not in terms]
    if unknown:
        return (
            f"{where}: field 'case_sensitive' lists {', '.join(map(repr, unknown))},"
            " which is not the node's name, an alias or a keyword"
        )
    return tuple(value)


def _check_parents(nodes: list[Node], path: Path, problems: list[str]) -> None:
    by_id = {node.id: node for node in nodes}
    for node in nodes:
        if node.parent is None:
            continue
        parent = by_id.get(node.parent)
        if parent is None:
            problems.append(f"{path}: node {node.id!r}: field 'parent' {node.parent!r} is unknown")
        elif parent.kind != node.kind:
            problems.append(
                f"{path}: node {node.id!r}: field 'parent' {node.parent!r} is a {parent.kind},"
                f" not a {node.kind}"
            )
    for node in nodes:
        seen = {node.id}
        current = by_id.get(node.parent or "")
        while current is not None:
            if current.id in seen:
                problems.append(
                    f"{path}: node {node.id!r}: field 'parent' leads into a cycle at {current.id!r}"
                )
                break
            seen.add(current.id)
            current = by_id.get(current.parent or "")


def _check_terms(nodes: Iterable[Node], path: Path, problems: list[str]) -> None:
    """Every term, in its matching form, must belong to one node and be listed once."""
    nodes = list(nodes)
    owner: dict[str, tuple[str, str]] = {}
    _check_short_forms(nodes, path, problems)
    for node in nodes:
        for source, values in (
            ("name", (node.name,)),
            ("aliases", node.aliases),
            ("keywords", node.keywords),
        ):
            for term in values:
                if not any(ch.isalnum() for ch in term):
                    problems.append(
                        f"{path}: node {node.id!r}: field {source!r} term {term!r} has no letters"
                    )
                    continue
                for key in dict.fromkeys(normalise(v) for v in term_variants(term)):
                    if key not in owner:
                        owner[key] = (node.id, source)
                        continue
                    other, other_field = owner[key]
                    if other == node.id:
                        problems.append(
                            f"{path}: node {node.id!r}: field {source!r} repeats {term!r}"
                            f" (already in {other_field!r}; case, hyphens and spaces do not count)"
                        )
                    else:
                        problems.append(
                            f"{path}: node {node.id!r}: field {source!r} term {term!r} is claimed"
                            f" by both {other!r} and {node.id!r}"
                        )
                    break


def _check_short_forms(nodes: list[Node], path: Path, problems: list[str]) -> None:
    """A short form may share another node's term (it wins only once its node is named), but
    not another node's short form, nor repeat its own node's terms."""
    owner: dict[str, str] = {}
    for node in nodes:
        own = {normalise(term) for term in node.terms}
        for term in node.short_forms:
            key = normalise(term)
            if key in own:
                problems.append(
                    f"{path}: node {node.id!r}: field 'short_forms' repeats {term!r}"
                    " (already one of the node's terms)"
                )
            elif key in owner and owner[key] != node.id:
                problems.append(
                    f"{path}: node {node.id!r}: field 'short_forms' term {term!r} is claimed by"
                    f" both {owner[key]!r} and {node.id!r}"
                )
            else:
                owner[key] = node.id
