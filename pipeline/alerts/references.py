"""What an alert rule may name outside ``alerts.toml``: sources, document types, taxonomy nodes.

Each check returns a problem message (without the file and rule prefix) or None, so the loader
can report every unknown name of a rule in one pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pipeline.config import DOC_TYPES
from pipeline.sources.registry import assigned_doc_types
from pipeline.taxonomy import ATTACHED_TAG_PREFIXES as ATTACHED_TAG_PREFIXES
from pipeline.taxonomy import normalise

if TYPE_CHECKING:
    from pipeline.taxonomy import Taxonomy

# The document types an article can carry: those a source declares in sources.toml, plus those
# an adapter assigns per item (``ASSIGNED_DOC_TYPES``: SFC enforcement news and circulars
# addressed to virtual-asset trading platforms).
ARTICLE_DOC_TYPES: tuple[str, ...] = tuple(dict.fromkeys((*DOC_TYPES, *assigned_doc_types())))
_SUGGESTIONS = 3


def closest(value: str, known: Iterable[str]) -> list[str]:
    """Up to three of ``known`` that look most like ``value`` (case-insensitive)."""
    by_key: dict[str, str] = {}
    for name in known:
        by_key.setdefault(normalise(name), name)
    keys = difflib.get_close_matches(normalise(value), list(by_key), n=_SUGGESTIONS, cutoff=0.6)
    return list(dict.fromkeys(by_key[key] for key in keys))


def _suggest(names: list[str]) -> str:
    return f" (closest: {', '.join(map(repr, names))})" if names else ""


def is_source_pattern(source_id: str) -> bool:
    """Whether a rule's source is a pattern (``hkma-*``) rather than one source id."""
    return any(mark in source_id for mark in "*?[")


def source_problem(source_id: str, known: Iterable[str]) -> str | None:
    """Why ``source_id`` is not one of the ``known`` source ids, or None. A pattern
    (``hkma-*``) is not checked: it covers sources added later, and a sources.toml without
    any (a test's, a single-source install) is not a mistake."""
    known = list(known)
    if source_id in known or is_source_pattern(source_id):
        return None
    return f"names unknown source {source_id!r}{_suggest(closest(source_id, known))}"


def doc_type_problem(doc_type: str) -> str | None:
    """Why ``doc_type`` is not a document type an article can carry, or None."""
    if doc_type in ARTICLE_DOC_TYPES:
        return None
    return f"names unknown doc type {doc_type!r}; expected one of {', '.join(ARTICLE_DOC_TYPES)}"


class TagNames:
    """The names a rule may give a taxonomy node of each kind: its id, name or aliases."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.label = taxonomy.path.name
        self._shown: dict[str, list[str]] = {"entity": [], "topic": []}
        for node in taxonomy.nodes:
            self._shown[node.kind].extend((node.name, *node.aliases))

    def resolve(self, kind: str, value: str) -> str | None:
        """The id of the node of ``kind`` that ``value`` names, or None."""
        node = self.taxonomy.resolve(value, kind)
        return None if node is None else node.id

    def problem(self, kind: str, value: str) -> str:
        """Why ``value`` names no node of ``kind``, with the closest names there are."""
        other = "topic" if kind == "entity" else "entity"
        if (node_id := self.resolve(other, value)) is not None:
            article = "an" if kind == "entity" else "a"
            return (
                f"names {value!r}, which is the {other} {node_id!r} in {self.label},"
                f" not {article} {kind}"
            )
        names = closest(value, self._shown[kind])
        found = f"; closest: {', '.join(map(repr, names))}" if names else "; nothing close"
        return f"names {value!r}, which is no {kind}'s id, name or alias in {self.label}{found}"
