"""How long a paragraph's text is, how many commas and link characters it holds: the measures
the generic finder scores paragraphs by, read in time linear in the page however they nest.

Each paragraph's text is read whole, in one call, so an element is read once for every
paragraph around it: once or twice on real pages (a ``<p>`` in a ``<td>`` or ``<div>`` of
text). Containers nested deep in containers (tables in tables, ``<div>``s of text in each
other) would read the elements below them once per container, the square of the nesting:
from ``NESTED_CONTAINERS`` deep, the measures are put together from children's measures
instead, each element read once. Both ways give the same measures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Self, TypeVar

from selectolax.lexbor import LexborNode

from pipeline.extract.textblocks import tag_id

_Measure = TypeVar("_Measure")


@dataclass(slots=True)
class Span:
    """Measures of a run of text; ``lead`` and ``trail`` count the whitespace at its ends
    (each the whole length when it is all whitespace), so that runs can be joined."""

    length: int = 0
    lead: int = 0
    trail: int = 0
    commas: int = 0
    links: int = 0  # characters of link text (stripped, per <a>) below

    @classmethod
    def of(cls, text: str) -> Self:
        """The measures of ``text`` (no links)."""
        length = len(text)
        return cls(length, length - len(text.lstrip()), length - len(text.rstrip()), commas(text))

    @property
    def stripped(self) -> int:
        """Length without the whitespace at both ends."""
        return self.length - self.lead - self.trail if self.lead < self.length else 0

    def extend(self, other: Span, links: int = 0) -> None:
        """Append ``other`` (and ``links`` more link characters) to this run."""
        if self.lead == self.length:  # all whitespace so far: the lead runs on into other
            self.lead += other.lead
        self.trail = other.length + self.trail if other.trail == other.length else other.trail
        self.length += other.length
        self.commas += other.commas
        self.links += other.links + links


class ParagraphTexts:
    """Measures of paragraphs, by position in the list: ``lengths`` (without the whitespace at
    both ends) at once; commas and link characters when asked for, as most paragraphs are too
    short to need them."""

    def __init__(
        self,
        paragraphs: list[LexborNode],
        texts: list[str | None],
        spans: dict[int, Span],
        links: dict[int, int],
    ) -> None:
        self._paragraphs = paragraphs
        self._texts = texts  # each paragraph's text when read whole, else None…
        self._spans = spans  # …and its measures, put together from its parts
        self._links = links
        self.lengths = [
            len(text.strip()) if text is not None else spans[position].stripped
            for position, text in enumerate(texts)
        ]

    def commas(self, position: int) -> int:
        """Commas in the paragraph's text."""
        text = self._texts[position]
        return commas(text) if text is not None else self._spans[position].commas

    def link_chars(self, position: int) -> int:
        """Characters of link text in the paragraph."""
        if self._texts[position] is None:
            return self._spans[position].links
        return _cached_link_chars(self._paragraphs[position], position, self._links)


def measure_paragraphs(paragraphs: list[LexborNode], root: LexborNode) -> ParagraphTexts:
    """The measures of ``paragraphs`` (distinct elements, all under ``root``)."""
    if _containers_nest(paragraphs, root):
        return _measure_nested(paragraphs)
    return ParagraphTexts(paragraphs, [node.text(deep=True) for node in paragraphs], {}, {})


# Containers in containers this many deep or more are measured from their parts: each element
# is read once per container around it, so fewer cost a small multiple of the page. Read whole,
# a container costs one call in C, from its parts some Python per part. Measured: on the 94
# evaluation pages that nest (up to 13 deep) reading whole took half the time, faster on each
# page; on built pages, the parts win from about 16 deep.
NESTED_CONTAINERS = 16
# Cells or preformatted blocks NESTED_CONTAINERS deep, found by one walk of the tree in C.
_DEEP_CELLS = ", ".join(" ".join([tag] * NESTED_CONTAINERS) for tag in ("td", "pre"))
_TD_ID, _PRE_ID, _DIV_ID, _P_ID = (tag_id(name) for name in ("td", "pre", "div", "p"))


def _containers_nest(paragraphs: list[LexborNode], root: LexborNode) -> bool:
    """Whether paragraphs that hold others (cells, ``<pre>``, ``<div>``s of text) lie in each
    other ``NESTED_CONTAINERS`` deep: a chain of cells or of ``<pre>``s, or a ``<div>`` of
    text that deep in paragraphs of any kind."""
    # Tag ids, not names: a name is a new string each time it is read.
    kinds = [node.tag_id for node in paragraphs]
    deep = NESTED_CONTAINERS
    # Most pages have too few cells for the walk to find a chain.
    cells = kinds.count(_TD_ID) >= deep or kinds.count(_PRE_ID) >= deep
    if cells and root.css_first(_DEEP_CELLS) is not None:
        return True
    if _DIV_ID not in kinds:  # a table of thousands of cells need not be read again
        return False
    divs = [node for node, kind in zip(paragraphs, kinds, strict=True) if kind == _DIV_ID]
    ids = {node.mem_id for node in paragraphs}
    # Per element walked: the paragraphs at or above it. A walk up stops at the first element
    # it knows, so the ancestors the <div>s share are walked once.
    held: dict[int, int] = {}
    for node in divs:
        path: list[int] = []
        ancestor = node.parent
        above = 0
        while ancestor is not None:
            key = ancestor.mem_id
            if key in held:
                above = held[key]
                break
            path.append(key)
            ancestor = ancestor.parent
        for key in reversed(path):
            above += key in ids
            held[key] = above
        if above >= deep - 1:
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Nesting:
    """What measuring containers from their parts reads and fills in."""

    index: dict[int, int]  # paragraph mem_id → position
    holders: set[int]  # mem_ids of containers and the elements between them and paragraphs
    texts: list[str | None]  # texts of the paragraphs that hold none
    spans: dict[int, Span]  # filled in: containers' measures, by position
    links: dict[int, int]  # filled in: link characters of paragraphs, by position


def _measure_nested(paragraphs: list[LexborNode]) -> ParagraphTexts:
    """The measures, each character read once: containers' put together from their parts."""
    index = {node.mem_id: position for position, node in enumerate(paragraphs)}
    holders, outermost = _holders(paragraphs, index)
    texts = [None if node.mem_id in holders else node.text(deep=True) for node in paragraphs]
    nesting = _Nesting(index, holders, texts, {}, {})
    for node in outermost:
        _measure_holder(node, nesting)
    return ParagraphTexts(paragraphs, texts, nesting.spans, nesting.links)


def _holders(
    paragraphs: list[LexborNode], index: dict[int, int]
) -> tuple[set[int], list[LexborNode]]:
    """Elements that hold another paragraph, up to the nearest paragraph around it (and that
    one), by ``mem_id``; and the paragraphs among them that no paragraph holds."""
    # Per element walked: the nearest paragraph at or above it, None when there is none. A
    # walk up stops at the first element it knows, so each ancestor is walked once.
    above: dict[int, int | None] = {}
    holders: set[int] = set()
    enclosed: set[int] = set()  # paragraphs inside another
    for node in paragraphs:
        path: list[int] = []
        found: int | None = None
        ancestor = node.parent
        while ancestor is not None:
            key = ancestor.mem_id
            if key in index:
                found = key
                break
            if key in above:
                found = above[key]
                break
            path.append(key)
            ancestor = ancestor.parent
        above.update(dict.fromkeys(path, found))
        if found is not None:
            enclosed.add(node.mem_id)
            holders.add(found)
            holders.update(path)
    outermost = [paragraphs[index[key]] for key in holders & index.keys() - enclosed]
    return holders, outermost


def _measure_holder(top: LexborNode, nesting: _Nesting) -> None:
    """Measure ``top`` and the holders below it from their children, in document order."""
    stack = [(top, top.iter(include_text=True), Span())]
    while stack:
        node, children, span = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            position = nesting.index.get(node.mem_id)
            if position is not None:
                nesting.spans[position] = span
            if stack:
                # An <a> holding a paragraph is link text as a whole.
                stack[-1][2].extend(span, span.stripped if node.tag == "a" else 0)
            continue
        key = child.mem_id
        position = nesting.index.get(key)
        if key in nesting.holders:
            stack.append((child, child.iter(include_text=True), Span()))
        elif position is not None:  # a paragraph with none inside, already read
            links = _cached_link_chars(child, position, nesting.links)
            span.extend(Span.of(nesting.texts[position] or ""), links)
        else:
            span.extend(*_part(child))


def _part(child: LexborNode) -> tuple[Span, int]:
    """The measures and link characters of a child that neither is nor holds a paragraph."""
    if not child.is_element_node:  # text, or a comment (no text)
        return Span.of(child.text_content or ""), 0
    inner = child.first_child
    # Most are an element of text alone: read without setting up a text walk or a CSS query.
    if inner is None:
        return Span(), 0
    if inner.next is None and inner.is_text_node:
        text = inner.text_content or ""
        return Span.of(text), len(text.strip()) if child.tag == "a" else 0
    return Span.of(child.text(deep=True) or ""), link_chars(child)


def _cached_link_chars(node: LexborNode, position: int, links: dict[int, int]) -> int:
    found = links.get(position)
    if found is None:
        found = links[position] = paragraph_link_chars(node)
    return found


def commas(text: str) -> int:
    """Commas in ``text``: Western, Chinese full-width and enumeration commas."""
    return text.count(",") + text.count("，") + text.count("、")


def paragraph_link_chars(paragraph: LexborNode) -> int:
    """Characters of link text in a paragraph (each ``<a>``'s text, stripped)."""
    if paragraph.tag_id != _P_ID:
        # A cell of text alone, the most common in large tables, holds no link: no query.
        child = paragraph.first_child
        if child is not None and child.next is None and child.is_text_node:
            return 0
        return link_chars(paragraph)  # a <td> or <div> may hold a whole layout: let CSS walk it
    # A <p> holds a handful of nodes: walking them is faster than setting up a CSS query.
    return sum(
        len(node.text(deep=True).strip()) for node in paragraph.traverse() if node.tag == "a"
    )


def link_chars(node: LexborNode) -> int:
    """Characters of link text in ``node`` and below (``node`` itself when it is an ``<a>``)."""
    return sum(len(a.text(deep=True).strip()) for a in node.css("a"))


# Links in subheadings: a list of other stories links every headline, a body now and then.
LINKED_HEADLINES = ":is(h2, h3, h4, h5) a[href]"


class MeasuredNodes:
    """The text, link characters and linked headlines of whole elements (the containers the
    generic finder weighs), each read once however often it is asked for: widening the chosen
    container weighs each ancestor against the one below it, which was weighed a step before."""

    def __init__(self) -> None:
        self._texts: dict[int, str] = {}
        self._links: dict[int, int] = {}
        self._headlines: dict[int, int] = {}

    def text(self, node: LexborNode) -> str:
        """``node.text(deep=True)``."""
        return _once(self._texts, node, lambda found: found.text(deep=True))

    def links(self, node: LexborNode) -> int:
        """``link_chars(node)``."""
        return _once(self._links, node, link_chars)

    def headlines(self, node: LexborNode) -> int:
        """How many subheadings in ``node`` are links (``LINKED_HEADLINES``)."""
        return _once(self._headlines, node, lambda found: len(found.css(LINKED_HEADLINES)))


def _once(
    measured: dict[int, _Measure], node: LexborNode, measure: Callable[[LexborNode], _Measure]
) -> _Measure:
    """``measure(node)``, kept in ``measured`` by the node's identity."""
    found = measured.get(node.mem_id)
    if found is None:
        found = measured[node.mem_id] = measure(node)
    return found
