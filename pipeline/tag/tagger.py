"""The tagger: matches from ``matcher``, implied parents, counts, positions and evidence."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import replace
from operator import attrgetter, itemgetter
from pathlib import Path

from pipeline.models import Article, Tag
from pipeline.tag.matcher import Matcher
from pipeline.tag.text import Match, Sentences, Span
from pipeline.taxonomy import Node, Taxonomy, load_taxonomy, normalise

# Snippets kept per tag: enough to show why a tag is there, few enough to store with each link.
EVIDENCE_LIMIT = 3
# Tags for names the source attached that no taxonomy node has: SFC enforcement news lists the
# licensed corporations it concerns (``targetCeList``), feeds their categories.
ATTACHED_ENTITY = ("ce", "entity", "licensed-corporation")
ATTACHED_CATEGORY = ("category", "topic", "feed-category")
_SLUG_JUNK = re.compile(r"[\W_]+")
_BY_ID = attrgetter("id")
_BY_COUNT = attrgetter("count")
_START = itemgetter(0)
_LEADING_SPACE = re.compile(r"\s*")
_new = object.__new__


def _slug(name: str) -> str:
    return _SLUG_JUNK.sub("-", normalise(name)).strip("-")


class Tagger:
    """Finds a taxonomy's entities and topics in text, with counts and evidence."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.version = taxonomy.version
        # Nodes are numbered children before parents (deepest first, then in file order), so
        # that sorting the numbers of the matched nodes and their ancestors orders them for
        # adding children's matches to their parents.
        depth = {node.id: len(taxonomy.ancestors(node.id)) for node in taxonomy.nodes}
        nodes = sorted(taxonomy.nodes, key=lambda n: -depth[n.id])
        index = {node.id: position for position, node in enumerate(nodes)}
        self._parent = [index[n.parent] if n.parent else -1 for n in nodes]
        self._ancestors = [tuple(index[a.id] for a in taxonomy.ancestors(n.id)) for n in nodes]
        self._min_count = [node.min_count for node in nodes]
        # The fields a tag takes from its node, in ``Tag``'s field order.
        self._fields = [{"id": n.id, "name": n.name, "kind": n.kind, "type": n.type} for n in nodes]
        self._matcher = Matcher(nodes)

    @classmethod
    def from_path(cls, path: str | Path) -> Tagger:
        """A tagger for the taxonomy file at ``path``; ``ConfigError`` if the file is wrong."""
        return cls(load_taxonomy(path))

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node of the taxonomy, in file order."""
        return self.taxonomy.nodes

    def node(self, node_id: str) -> Node:
        """The node with this id (name, kind, type, parent, regulator…); ``KeyError`` if none."""
        return self.taxonomy.node(node_id)

    def tag(self, text: str, title: str = "") -> list[Tag]:
        """Tags for an article's text and title, most mentioned first."""
        return self._tag(text, title, ())

    def tag_article(self, article: Article) -> list[Tag]:
        """Tags for an article's title and text, plus the entities and categories its source gave.

        A given name that is a node's term tags that node; any other becomes ``ce:<slug>`` (an
        entity of type ``licensed-corporation``) or ``category:<slug>`` (a topic of type
        ``feed-category``).
        """
        attached = [(name, ATTACHED_ENTITY) for name in article.entities]
        attached += [(name, ATTACHED_CATEGORY) for name in article.categories]
        return self._tag(article.text, article.title, attached)

    def _tag(
        self, text: str, title: str, attached: Sequence[tuple[str, tuple[str, str, str]]]
    ) -> list[Tag]:
        title = title.strip()
        offset = len(title) + 2 if title else 0
        combined = f"{title}\n\n{text}" if title else text
        hits, sentences = self._matcher.find(combined)
        synthetic: dict[int, str] = {}
        unknown: dict[str, Tag] = {}
        for name, origin in attached:
            self._attach(name.strip(), origin, len(combined), hits, synthetic, unknown)
        if not hits and not unknown:
            return []
        # The lead is the first paragraph: up to the first line break, since paragraphs are
        # separated by blank lines in clean text and by single breaks in raw extractions.
        lead_low = offset + _LEADING_SPACE.match(text).end()  # type: ignore[union-attr]
        lead_high = combined.find("\n", lead_low)
        lead = (lead_low, lead_high if lead_high >= 0 else len(combined))
        tags = self._aggregate(hits, sentences, synthetic, len(title), lead)
        tags.extend(unknown.values())
        # Most mentioned first, ties by id: two sorts by one attribute each, since Python's
        # sort is stable (also in reverse), cost less than one by a computed key.
        tags.sort(key=_BY_ID)
        tags.sort(key=_BY_COUNT, reverse=True)
        return tags

    def _attach(
        self,
        name: str,
        origin: tuple[str, str, str],
        position: int,
        hits: dict[int, list[Match]],
        synthetic: dict[int, str],
        unknown: dict[str, Tag],
    ) -> None:
        """Add a name the source attached: to its node, or as a tag of its own."""
        if not name:
            return
        node = self._matcher.lookup.get(normalise(name))
        if node is not None:
            # The text's own mentions are better evidence; the name only stands in for none.
            if node not in hits:
                place = position + len(synthetic)
                synthetic[place] = name
                hits[node] = [(place, place, node, False)]
            return
        slug = _slug(name)
        if not slug:
            return
        prefix, kind, tag_type = origin
        tag_id = f"{prefix}:{slug}"
        previous = unknown.get(tag_id)
        if previous is not None:
            unknown[tag_id] = replace(previous, count=previous.count + 1)
        else:
            unknown[tag_id] = Tag(tag_id, name, kind, tag_type, 1, (name,))  # type: ignore[arg-type]

    def _aggregate(
        self,
        hits: dict[int, list[Match]],
        sentences: Sentences,
        synthetic: dict[int, str],
        title_end: int,
        lead: Span,
    ) -> list[Tag]:
        """Tags for the matched nodes and the parents they imply, children before parents.

        ``hits`` is the matcher's own dict for this text: parents' lists are added to it.
        """
        parent_of, min_count, fields = self._parent, self._min_count, self._fields
        involved = set(hits)
        involved.update(*map(self._ancestors.__getitem__, hits))
        # The matcher's lists are in text order; only a parent that merged lists needs sorting.
        merged: set[int] = set()
        lead_low, lead_high = lead
        lead_key = (lead_low,)
        evidence = sentences.evidence
        # A parent that inherits one child's list unchanged shows that child's evidence.
        inherited_evidence: dict[int, tuple[str, ...]] = {}
        tags: list[Tag] = []
        for node in sorted(involved):
            found = hits.get(node)
            if found is None:
                continue
            count = len(found)
            if count < min_count[node]:
                continue
            if node in merged:
                # By start alone: one node never has two matches starting at one place.
                found.sort(key=_START)
            snippets = inherited_evidence.get(node)
            if snippets is None:
                snippets = evidence(found, EVIDENCE_LIMIT, synthetic)
            parent = parent_of[node]
            if parent >= 0:
                inherited = hits.get(parent)
                if inherited is None:
                    hits[parent] = found
                    inherited_evidence[parent] = snippets
                else:
                    # A new list: the parent's must not grow the matcher's list of its own.
                    hits[parent] = inherited + found
                    merged.add(parent)
                    inherited_evidence.pop(parent, None)
            first = found[0][0]
            if first >= lead_high:
                in_lead = False
            else:
                # The first match at or after the lead's start tells whether the lead names it.
                after_lead = bisect_left(found, lead_key)
                in_lead = after_lead < count and found[after_lead][0] < lead_high
            # Built around ``Tag.__init__``, which sets each field of a frozen dataclass with a
            # call of its own: about half the cost, for the ~30 tags of every article.
            tag = _new(Tag)
            values = tag.__dict__
            values.update(fields[node])
            values["count"] = count
            values["evidence"] = snippets
            values["in_title"] = first < title_end
            values["in_lead"] = in_lead
            tags.append(tag)
        return tags
