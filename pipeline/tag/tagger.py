"""The tagger: matches from ``matcher``, implied parents, counts, positions and evidence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from pipeline.models import Article, Tag
from pipeline.tag.matcher import Matcher
from pipeline.tag.text import Sentences, Span
from pipeline.taxonomy import Node, Taxonomy, load_taxonomy, normalise

# Snippets kept per tag: enough to show why a tag is there, few enough to store with each link.
EVIDENCE_LIMIT = 3
# Tags for names the source attached that no taxonomy node has: SFC enforcement news lists the
# licensed corporations it concerns (``targetCeList``), feeds their categories.
ATTACHED_ENTITY = ("ce", "entity", "licensed-corporation")
ATTACHED_CATEGORY = ("category", "topic", "feed-category")
_SLUG_JUNK = re.compile(r"[\W_]+")


def _slug(name: str) -> str:
    return _SLUG_JUNK.sub("-", normalise(name)).strip("-")


class Tagger:
    """Finds a taxonomy's entities and topics in text, with counts and evidence."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.version = taxonomy.version
        nodes = taxonomy.nodes
        index = {node.id: position for position, node in enumerate(nodes)}
        self._parent = [index[n.parent] if n.parent else -1 for n in nodes]
        self._depth = [len(taxonomy.ancestors(node.id)) for node in nodes]
        self._min_count = [node.min_count for node in nodes]
        self._matcher = Matcher(taxonomy)

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
        sentences = Sentences(combined)
        hits = self._matcher.find(combined, sentences)
        synthetic: dict[int, str] = {}
        unknown: dict[str, Tag] = {}
        for name, origin in attached:
            self._attach(name.strip(), origin, len(combined), hits, synthetic, unknown)
        if not hits and not unknown:
            return []
        # The lead is the first paragraph: up to the first line break, since paragraphs are
        # separated by blank lines in clean text and by single breaks in raw extractions.
        lead_low = offset + len(text) - len(text.lstrip())
        lead_high = combined.find("\n", lead_low)
        lead = (lead_low, lead_high if lead_high >= 0 else len(combined))
        tags = self._aggregate(hits, sentences, synthetic, len(title), lead)
        tags.extend(unknown.values())
        tags.sort(key=lambda t: (-t.count, t.id))
        return tags

    def _attach(
        self,
        name: str,
        origin: tuple[str, str, str],
        position: int,
        hits: dict[int, list[Span]],
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
                hits[node] = [(place, place)]
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
        hits: dict[int, list[Span]],
        sentences: Sentences,
        synthetic: dict[int, str],
        title_end: int,
        lead: Span,
    ) -> list[Tag]:
        """Tags for the matched nodes and the parents they imply, children before parents."""
        parent_of, depth, min_count = self._parent, self._depth, self._min_count
        # The matcher's lists are in text order; only a parent that merged lists needs sorting.
        spans = dict(hits)
        merged: set[int] = set()
        involved = set(hits)
        for node in hits:
            parent = parent_of[node]
            while parent >= 0 and parent not in involved:
                involved.add(parent)
                parent = parent_of[parent]
        nodes = self.taxonomy.nodes
        tags: list[Tag] = []
        for node in sorted(involved, key=depth.__getitem__, reverse=True):
            found = spans.get(node)
            if not found or len(found) < min_count[node]:
                continue
            parent = parent_of[node]
            if parent >= 0:
                inherited = spans.get(parent)
                if inherited is None:
                    spans[parent] = found
                else:
                    # A new list: the parent's must not grow the matcher's list of its own.
                    spans[parent] = [*inherited, *found]
                    merged.add(parent)
            if node in merged:
                found.sort()
            first = found[0][0]
            in_lead = False
            for start, _ in found:
                if start >= lead[1]:
                    break
                if start >= lead[0]:
                    in_lead = True
                    break
            data = nodes[node]
            # Positional arguments: id, name, kind, type, count, evidence, in_title, in_lead.
            tags.append(
                Tag(
                    data.id,
                    data.name,
                    data.kind,
                    data.type,
                    len(found),
                    _evidence(found, sentences, synthetic),
                    first < title_end,
                    in_lead,
                )
            )
        return tags


def _evidence(
    found: list[Span], sentences: Sentences, synthetic: dict[int, str]
) -> tuple[str, ...]:
    """The distinct sentences around the first matches, at most ``EVIDENCE_LIMIT``."""
    snippets: list[str] = []
    seen: set[Span] = set()
    for start, end in found:
        snippet = synthetic.get(start) if synthetic else None
        if snippet is None:
            # One snippet per sentence, even when a long one was cut around several matches.
            sentence = sentences.bounds(start, end)
            if sentence in seen:
                continue
            seen.add(sentence)
            snippet = sentences.snippet(sentence, start, end)
        if snippet and snippet not in snippets:
            snippets.append(snippet)
            if len(snippets) == EVIDENCE_LIMIT:
                break
    return tuple(snippets)
