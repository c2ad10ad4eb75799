"""Stage 4: find the main content of a page no selector covers, by text and link density.

After ``boilerplate.prune`` has removed page furniture:

1. Score: every prose paragraph (``<p>``, ``<pre>``, ``<td>``, and ``<div>``s holding text
   directly) earns points from its length and commas, scaled down by its link density; the
   points go to its parent, less to its grandparent and great-grandparent (Readability's
   scheme), and in full to every ancestor as its "mass" of prose.
2. Choose the best-scoring container (link-heavy containers and lists of other stories lose;
   content-like class names win a little; of several ``<article>``s, the one headed by the
   page's title), widened to an ancestor holding much more prose when the body is split into
   sections, but never past an ``<article>`` or ``<main>`` nor into a list of other stories.
3. Add the siblings that continue the body (a standfirst in its own box, a section after an ad
   slot), also above layout boxes that wrap the container and nothing else, and the standfirst
   set between the headline and the body further up (``standfirst.py``).
4. Read their paragraphs, dropping the title heading, link lists and the headings that label
   them ("Related", "Read more"), with the dates and section names listed under their links
   (``block_filter.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.extract.block_filter import SENTENCE_END, filter_blocks
from pipeline.extract.paragraph_text import (
    LINKED_HEADLINES,
    MeasuredNodes,
    link_chars,
    measure_paragraphs,
)
from pipeline.extract.standfirst import standfirst
from pipeline.extract.textblocks import DOCUMENT_ID, Block, blocks, tag_id

# A paragraph shorter than this says too little to vote for its container.
MIN_PARAGRAPH_CHARS = 25
# A <div> with this much text of its own is a paragraph on pages that do not use <p>.
MIN_DIV_TEXT_CHARS = 100
# Readability's weights: a point per paragraph, per comma, per 100 characters (up to 3).
CHARS_PER_POINT = 100
MAX_LENGTH_POINTS = 3
# Share of a paragraph's points passed to its parent, grandparent and great-grandparent.
ANCESTOR_SHARES = (1.0, 0.5, 1 / 3)
# Bonus for a candidate whose class or id sounds like an article body.
CONTENT_CLASS_BONUS = 0.25
# A candidate holding a list of other stories (TEASER_HEADLINES linked headlines or more) is
# a river of excerpts or a page wrapping one, and weighs this much: its excerpts are prose and
# together often outscore a short article. A quarter lets three paragraphs of article beat a
# dozen excerpts, while a long body that links a few subheadings still wins against furniture.
STORY_LIST_WEIGHT = 0.25
# Candidates whose score × (1 - link density) is compared; the rest cannot win.
TOP_CANDIDATES = 5
# Widen the chosen container to an ancestor holding this many times its prose: the body is
# split into sections. Lower values start pulling in teasers and comment sections.
SPLIT_BODY_GAIN = 1.5
# How many mixed wrapper levels above the chosen container to look for such an ancestor.
WIDEN_LEVELS = 3
# The text an ancestor adds must read like the body, not a river of teasers: headlines, bylines
# and section names are links, so above this share of link text the extra is a list of stories.
# A split body adds few links: its sections are prose like the rest.
MAX_WIDEN_LINK_DENSITY = 0.25
# …nor a list of stories whose excerpts are prose: this many more headlines that are links.
# A body links a heading now and then; a list of other stories links every one.
TEASER_HEADLINES = 3
# A sibling of the chosen container scoring this share of its score is more of the body (a lead
# set apart, a second section after an ad slot); Readability uses the same fifth.
SIBLING_SCORE_SHARE = 0.2
# A sibling paragraph this long with little link text is part of the body too…
SIBLING_PARAGRAPH_CHARS = 80
SIBLING_MAX_LINK_DENSITY = 0.25
# …and so is a box of at most this many paragraphs that reads as prose (a standfirst).
SIBLING_MAX_PARAGRAPHS = 2
# Layout boxes wrapping the chosen container and nothing else, climbed to find its siblings;
# three covers the flex/grid nesting of the pages measured.
WRAPPER_LEVELS = 3

_CONTENT_WORD = re.compile(
    r"article|body|content|entry|main|post|story|text|prose|rich-?text|detail", re.IGNORECASE
)
_ROOT_IDS = frozenset((tag_id("html"), DOCUMENT_ID))


@dataclass(slots=True)
class _Candidate:
    node: LexborNode
    parent: _Candidate | None = None  # the candidate of the parent element; None under <html>
    score: float = 0.0  # from paragraphs up to three levels down, decaying with depth
    mass: float = 0.0  # from every paragraph below, undecayed


def main_content(tree: LexborHTMLParser, title: str | None = None) -> list[Block]:
    """The paragraphs of the page's main content (prune the tree first); ``title`` names the
    article when the page holds several (the next story loaded below the first)."""
    body = tree.body
    if body is None:
        return []
    candidates = _score(body)
    if not candidates:
        return filter_blocks(blocks(body))
    scope = _titled_article(tree, title) if title else None
    chosen = _choose(candidates, scope)
    kept = _with_siblings(chosen, candidates)
    found: list[Block] = standfirst(chosen, kept, title)
    for node in kept:
        found.extend(blocks(node))
    return filter_blocks(found)


def _score(body: LexborNode) -> dict[int, _Candidate]:
    candidates: dict[int, _Candidate] = {}
    # Parents before children: the order in which masses add up from the bottom.
    top_down: list[_Candidate] = []
    paragraphs = body.css("p, pre, td")
    # Some sites set paragraphs as bare <div>s of text.
    paragraphs.extend(
        div for div in body.css("div") if len(div.text(deep=False)) >= MIN_DIV_TEXT_CHARS
    )
    measures = measure_paragraphs(paragraphs, body)
    for position, (paragraph, length) in enumerate(zip(paragraphs, measures.lengths, strict=True)):
        if length < MIN_PARAGRAPH_CHARS:
            continue
        linked = measures.link_chars(position)
        points = 1 + measures.commas(position) + min(length / CHARS_PER_POINT, MAX_LENGTH_POINTS)
        points *= 1 - min(linked / length, 1.0)
        parent = _register_ancestors(paragraph, candidates, top_down)
        if parent is None:
            continue
        # The mass goes to the parent alone here and up to the other ancestors once, below:
        # a walk to the root per paragraph costs the square of the depth on a deep page.
        parent.mass += points
        candidate: _Candidate | None = parent
        for share in ANCESTOR_SHARES:
            if candidate is None:
                break
            candidate.score += points * share
            candidate = candidate.parent
    for candidate in reversed(top_down):
        if candidate.parent is not None:
            candidate.parent.mass += candidate.mass
    return candidates


def _register_ancestors(
    node: LexborNode, candidates: dict[int, _Candidate], top_down: list[_Candidate]
) -> _Candidate | None:
    """The candidate of ``node``'s parent, registering it and the ancestors not yet known."""
    new: list[_Candidate] = []
    ancestor = node.parent
    above: _Candidate | None = None
    while ancestor is not None:
        key = ancestor.mem_id
        known = candidates.get(key)
        if known is not None:
            above = known  # its own ancestors were registered with it
            break
        # <html> and the document above it are no candidates (by tag id: a name is a new string
        # each time it is read).
        if ancestor.tag_id in _ROOT_IDS:
            break
        new.append(candidates.setdefault(key, _Candidate(ancestor)))
        ancestor = ancestor.parent
    for candidate in reversed(new):
        candidate.parent = above
        above = candidate
        top_down.append(candidate)
    return new[0] if new else above


def _titled_article(tree: LexborHTMLParser, title: str) -> LexborNode | None:
    """The ``<article>`` whose heading is the page's title, when the page has several."""
    articles = tree.css("article")
    if len(articles) < 2:
        return None
    wanted = " ".join(title.split())
    for heading in tree.css("article h1, article h2"):
        if " ".join(heading.text(deep=True).split()) != wanted:
            continue
        node = heading.parent
        while node is not None and node.tag != "article":
            node = node.parent
        return node
    return None


def _inside(candidates: list[_Candidate], scope: LexborNode) -> list[_Candidate]:
    """The candidates that are ``scope`` or lie inside it, in the order given."""
    target = scope.mem_id
    # Whether each candidate is inside, by id; a walk up stops at the first answer known, so
    # the ancestors shared by many candidates are looked at once.
    known: dict[int, bool] = {}
    inside: list[_Candidate] = []
    for candidate in candidates:
        path: list[int] = []
        current: _Candidate | None = candidate
        answer = False
        while current is not None:
            key = current.node.mem_id
            if key in known:
                answer = known[key]
                break
            if key == target:
                answer = True
                break
            path.append(key)
            current = current.parent
        known.update(dict.fromkeys(path, answer))
        if answer:
            inside.append(candidate)
    return inside


def _choose(candidates: dict[int, _Candidate], scope: LexborNode | None = None) -> LexborNode:
    ranked = sorted(candidates.values(), key=lambda c: c.score, reverse=True)
    if scope is not None:
        # Of several articles on the page, the one headed by the page's title is the article.
        titled = _inside(ranked, scope)
        ranked = titled or ranked
    measured = MeasuredNodes()
    best = _best_adjusted(ranked[:TOP_CANDIDATES], measured)
    # The body is often split into sibling sections (text, ad slot, text, each its own <div>):
    # when an ancestor holds much more prose than the best container, read the ancestor.
    node = best.node
    ancestor = node.parent
    levels = 0
    while (
        ancestor is not None
        # Past an <article> or <main> lies the rest of the page, not more of the article.
        and node.tag not in ("article", "main")
        and ancestor.tag not in ("body", "html")
        and levels < WIDEN_LEVELS
    ):
        wider = candidates.get(ancestor.mem_id)
        if wider is None:
            break
        if wider.mass >= best.mass * SPLIT_BODY_GAIN and _adds_prose(node, ancestor, measured):
            node, best, levels = ancestor, wider, 0
        elif wider.mass > best.mass:
            levels += 1  # wrappers holding nothing more are free; mixed ones use up the search
        if ancestor.tag in ("article", "main"):
            break  # an <article> skipped as a wrapper still bounds the search
        ancestor = ancestor.parent
    return node


def _adds_prose(inner: LexborNode, outer: LexborNode, measured: MeasuredNodes) -> bool:
    """Whether the text ``outer`` holds beyond ``inner`` has the link share of prose."""
    extra_chars = len(measured.text(outer)) - len(measured.text(inner))
    if extra_chars <= 0:
        return True
    extra_links = measured.links(outer) - measured.links(inner)
    if extra_links > extra_chars * MAX_WIDEN_LINK_DENSITY:
        return False
    # Teasers are a linked headline over an excerpt: the excerpts are prose, the headlines give
    # the list away.
    headlines = measured.headlines(outer) - measured.headlines(inner)
    return headlines < TEASER_HEADLINES


def _with_siblings(chosen: LexborNode, candidates: dict[int, _Candidate]) -> list[LexborNode]:
    """The chosen container and, in page order, the siblings that continue the body: its own,
    or those of the wrappers around it that hold nothing else (a body split into blocks, each
    wrapped in layout boxes, with ad slots between)."""
    if chosen.tag in ("article", "main", "body"):
        return [chosen]
    own = candidates[chosen.mem_id]
    level = chosen
    for _ in range(WRAPPER_LEVELS):
        parent = level.parent
        wrapper = candidates.get(parent.mem_id) if parent is not None else None
        if (
            parent is None
            or wrapper is None
            or parent.tag in ("article", "main", "body", "html")
            or wrapper.mass > own.mass
        ):
            break
        level = parent
    parent = level.parent
    if parent is None:
        return [chosen]
    kept: list[LexborNode] = []
    for sibling in parent.iter():
        if sibling.mem_id == level.mem_id:
            kept.append(chosen)
        elif _continues_body(sibling, candidates, own.score):
            kept.append(sibling)
    return kept


def _continues_body(node: LexborNode, candidates: dict[int, _Candidate], best: float) -> bool:
    candidate = candidates.get(node.mem_id)
    if candidate is not None and candidate.score >= best * SIBLING_SCORE_SHARE:
        text_length = len(node.text(deep=True).strip()) or 1
        return (
            link_chars(node) <= text_length * SIBLING_MAX_LINK_DENSITY
            and len(node.css(LINKED_HEADLINES)) < TEASER_HEADLINES
        )
    if candidate is None and node.tag != "p":
        return False
    text = node.text(deep=True).strip()
    if (
        len(text) < SIBLING_PARAGRAPH_CHARS
        or link_chars(node) > len(text) * SIBLING_MAX_LINK_DENSITY
    ):
        return False
    if node.tag == "p":
        return True
    # A lead set in its own box is a paragraph or two of prose; a box of many short ones is a
    # gallery's captions or a dialog.
    return text.endswith(SENTENCE_END) and len(blocks(node)) <= SIBLING_MAX_PARAGRAPHS


def _best_adjusted(ranked: list[_Candidate], measured: MeasuredNodes) -> _Candidate:
    """``max(ranked, key=_adjusted)``, measuring only the candidates that can still win."""
    # Link density and a list of stories only lower a score: with its class bonus alone, a
    # candidate's score bounds its adjusted one. Most pages measure one or two of five.
    named = [_content_named(c.node) for c in ranked]
    bounds = [
        c.score * (1 + CONTENT_CLASS_BONUS) if n else c.score
        for c, n in zip(ranked, named, strict=True)
    ]
    best, best_score = 0, -1.0
    for index in sorted(range(len(ranked)), key=lambda i: (-bounds[i], i)):
        if bounds[index] < best_score:
            break  # nor can any after it
        score = _adjusted(ranked[index], named[index], measured)
        if score > best_score or (score == best_score and index < best):
            best, best_score = index, score
    return ranked[best]


def _content_named(node: LexborNode) -> bool:
    return bool(_CONTENT_WORD.search(f"{node.attrs.get('class') or ''} {node.id or ''}"))


def _adjusted(candidate: _Candidate, named: bool, measured: MeasuredNodes) -> float:
    node = candidate.node
    text_length = len(measured.text(node).strip()) or 1
    linked = measured.links(node)
    score = candidate.score * (1 - min(linked / text_length, 1.0))
    if named:
        score *= 1 + CONTENT_CLASS_BONUS
    if measured.headlines(node) >= TEASER_HEADLINES:
        score *= STORY_LIST_WEIGHT
    return score
