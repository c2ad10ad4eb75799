"""Load ``taxonomy.toml``: the entities and topics articles are tagged with, and their lookup.

Reading the file is here; checking its nodes is in ``pipeline.taxonomy_checks``. Every problem
is collected before raising, so ``newswatch sources check`` prints them all at once; each names
the file, the node and the field.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.tomlfile import read_toml

# Tags a source attaches when no node has the name (see the tagger): they are named as they
# are, since they come from the source's data, not from the taxonomy.
ATTACHED_TAG_PREFIXES: tuple[str, ...] = ("ce:", "category:")

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
    """A validated taxonomy: nodes in file order, looked up by id, name or alias."""

    path: Path
    version: str
    nodes: tuple[Node, ...]
    _by_id: dict[str, Node] = field(init=False, repr=False, compare=False)
    _by_spelling: dict[str, tuple[Node, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {node.id: node for node in self.nodes})
        object.__setattr__(self, "_by_spelling", _spelling_index(self.nodes))

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

    def resolve(self, name: str, kind: str | None = None) -> Node | None:
        """The node with this id, name or alias, or ``None``; only of ``kind`` when given.

        Case, character width (NFKC) and the surrounding spaces do not count, and a hyphen
        matches a space, as in tagging. Where one node's id is another's name or alias, the id
        wins: ids are what rule files are meant to use.
        """
        for node in self._by_spelling.get(normalise(name.strip()), ()):
            if kind is None or node.kind == kind:
                return node
        return None

    def closest(self, name: str, kind: str | None = None, n: int = 3) -> list[str]:
        """Up to ``n`` known ids and names most like ``name``, best first, for error messages."""
        if n < 1:
            return []
        spellings: dict[str, str] = {}
        for node in self.nodes:
            if kind is None or node.kind == kind:
                for known in (node.id, node.name):
                    spellings.setdefault(normalise(known), known)
        found = difflib.get_close_matches(normalise(name.strip()), list(spellings), n=n)
        return [spellings[key] for key in found]


def _spelling_index(nodes: Iterable[Node]) -> dict[str, tuple[Node, ...]]:
    """Nodes by the normalised spellings of their ids, names and aliases, ids first."""
    nodes = tuple(nodes)
    index: dict[str, list[Node]] = {}
    for node in nodes:
        index.setdefault(normalise(node.id), []).append(node)
    for node in nodes:
        for term in (node.name, *node.aliases):
            for variant in term_variants(term):
                found = index.setdefault(normalise(variant), [])
                # An id and an alias often share a spelling ("hkma", "HKMA"): list the node once.
                if all(other is not node for other in found):
                    found.append(node)
    return {key: tuple(found) for key, found in index.items()}


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and validate a taxonomy file; ``ConfigError`` lists every problem found."""
    # taxonomy_checks builds Node objects, so it imports this module; importing it only when a
    # file is loaded keeps the two modules free of an import cycle.
    from pipeline.taxonomy_checks import parse_nodes

    path = Path(path)
    raw = read_toml(path, "taxonomy")
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
