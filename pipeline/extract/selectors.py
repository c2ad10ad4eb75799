"""Stage 3: a source's own CSS selectors (``[source.selectors]`` in ``sources.toml``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from pipeline.extract.structured import Found, element_date
from pipeline.extract.textblocks import Block, blocks
from pipeline.models import Selectors

log = logging.getLogger(__name__)
# Invalid selectors already warned about, as (field, selector).
_reported: set[tuple[str, str]] = set()


@dataclass(frozen=True, slots=True)
class SelectorResult:
    """Fields the selectors found, and the body's paragraphs (empty if the body selector missed)."""

    found: Found
    body: list[Block]


def remove_matches(tree: LexborHTMLParser, queries: tuple[str, ...], url: str) -> None:
    """Delete every element matching one of ``queries`` (share bars, ads) from the tree."""
    for query in queries:
        for node in select(tree, query, url, "remove"):
            node.decompose()


def apply_selectors(tree: LexborHTMLParser, selectors: Selectors, url: str) -> SelectorResult:
    """Title, body, published and author by selector; ``remove`` must already be applied."""
    title = _first_text(tree, selectors.title, url, "title")
    author = _first_text(tree, selectors.author, url, "author")
    published = None
    if selectors.published:
        for node in select(tree, selectors.published, url, "published"):
            published = element_date(node)
            if published:
                break
    body: list[Block] = []
    if selectors.body:
        for node in _outermost(select(tree, selectors.body, url, "body")):
            body.extend(blocks(node))
    return SelectorResult(Found(title=title, published=published, author=author), body)


def select(tree: LexborHTMLParser, query: str, url: str, field: str) -> list[LexborNode]:
    """Matches of ``query``; a selector the parser rejects is logged and matches nothing."""
    try:
        return tree.css(query)
    except (SelectolaxError, ValueError) as exc:
        # A typo in sources.toml should not lose the source's articles: the generic finder
        # still reads the page, and the log names the selector to fix (once per process, not
        # once per page).
        level = logging.DEBUG if (field, query) in _reported else logging.WARNING
        _reported.add((field, query))
        log.log(level, "%s: selector %s=%r is not valid CSS (%s)", url, field, query, exc)
        return []


def _first_text(tree: LexborHTMLParser, query: str | None, url: str, field: str) -> str | None:
    if not query:
        return None
    for node in select(tree, query, url, field):
        text = " ".join(node.text(deep=True).split())
        if text:
            return text
    return None


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    """Drop matches nested inside an earlier match, so no paragraph is read twice."""
    if len(nodes) < 2:
        return nodes
    chosen: list[LexborNode] = []
    seen: set[int] = set()
    # Elements already walked past, by whether a chosen match holds them. Matches come in
    # document order, so a later match never holds an element an earlier one was walked
    # past from: each answer stays true, and each ancestor is walked once, not once per match.
    inside: set[int] = set()
    outside: set[int] = set()
    for node in nodes:
        path: list[int] = []
        nested = False
        ancestor = node.parent
        while ancestor is not None:
            key = ancestor.mem_id
            if key in seen or key in inside:
                nested = True
                break
            if key in outside:
                break
            path.append(key)
            ancestor = ancestor.parent
        (inside if nested else outside).update(path)
        if not nested:
            chosen.append(node)
            seen.add(node.mem_id)
    return chosen
