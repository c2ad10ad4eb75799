"""The standfirst: the lead paragraph set between the headline and the body, in a header box of
its own that the generic finder's chosen container does not hold.

Article templates put the headline, the lead and a byline in a ``<header>`` (or a "hero" box)
and the body in a sibling container; the lead is a paragraph or two of prose, too little to
move the choice of container, and lost with the header. From the chosen container outwards, up
to the ``<article>`` or ``<main>`` around it, the boxes before it are read nearest first: the
prose between the headline (the page's ``<h1>``, or a heading that reads as the title) and the
body is the standfirst. Within an ``<article>`` whose headline sits outside it, the prose from
the article's start is.
"""

from __future__ import annotations

from collections.abc import Iterator

from selectolax.lexbor import LexborNode

from pipeline.extract.textblocks import HEADING_TAGS, Block, blocks

# How many levels above the chosen container to look for the headline. Headers sit beside the
# body a few wrappers up, page builders' layout boxes nest it up to ten deep; looking further
# found no more leads on the pages measured.
LEAD_LEVELS = 12
# A lead is prose: a sentence or two. Bylines, datelines, reading times and section labels are
# shorter.
LEAD_MIN_CHARS = 80
# …with few links (a lead links a name now and then; a list of other stories links all).
LEAD_MAX_LINK_DENSITY = 0.25
# A header holds a lead of a paragraph or two, or a summary of a few points; more prose between
# headline and body is another story's text or a listing, not a lead.
LEAD_MAX_BLOCKS = 6
# A heading this long that the title holds is the headline; a shorter one may be a section name
# that the title happens to hold.
MIN_TITLE_CHARS = 20


def standfirst(chosen: LexborNode, kept: list[LexborNode], title: str | None = None) -> list[Block]:
    """Prose paragraphs between the page's headline and ``chosen``, outside ``kept``."""
    if chosen.tag in ("main", "body"):
        return []
    wanted = " ".join(title.split()) if title else ""
    skip = {node.mem_id for node in kept}
    leads: list[Block] = []  # nearest the body first
    top = chosen  # the outermost ancestor looked in
    for ancestor, boxes in _levels(chosen):
        top = ancestor
        for box in boxes:
            if box.mem_id in skip:
                continue
            found = blocks(box)
            headline = max((i for i, b in enumerate(found) if _headline(b, wanted)), default=-1)
            leads.extend(_prose(reversed(found[headline + 1 :])))
            if len(leads) > LEAD_MAX_BLOCKS:
                return []
            if headline >= 0:
                return leads[::-1]
    # No headline before the body: an <article> whose headline is set above it starts with
    # its lead; elsewhere the prose found is no lead.
    return leads[::-1] if top.tag == "article" else []


def _levels(chosen: LexborNode) -> Iterator[tuple[LexborNode, list[LexborNode]]]:
    """Each ancestor of ``chosen`` with its children before the way down, nearest first; up to
    ``LEAD_LEVELS`` levels, an ``<article>`` or ``<main>`` the last."""
    node = chosen
    for _ in range(LEAD_LEVELS):
        parent = node.parent
        if parent is None or parent.tag in ("body", "html"):
            return
        before: list[LexborNode] = []
        for sibling in parent.iter():
            if sibling.mem_id == node.mem_id:
                break
            before.append(sibling)
        yield parent, before[::-1]
        if parent.tag in ("article", "main"):
            return
        node = parent


def _prose(found: Iterator[Block]) -> list[Block]:
    return [
        block
        for block in found
        if len(block.text) >= LEAD_MIN_CHARS and block.link_density <= LEAD_MAX_LINK_DENSITY
    ]


def _headline(block: Block, title: str) -> bool:
    """The page's ``<h1>``, or a heading that holds the title or that the title holds."""
    if block.tag == "h1":
        return True
    if block.tag not in HEADING_TAGS or not title:
        return False
    return len(block.text) >= MIN_TITLE_CHARS and (block.text in title or title in block.text)
