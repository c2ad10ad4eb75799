"""The text a page shows its readers, read in document order for the dates in it.

``TextReader`` walks the body's text up to ``MAX_TEXT_CHARS`` (and ``MAX_NODES`` elements),
never the texts of others (comments, related-article lists, archives), and marks the spans
that are furniture (sidebars, footers, teasers, share boxes); it notes where the first ``<h1>``
and ``<h2>`` of the article start. Reading stops where the caller asks (so far past the title)
and goes on from there on the next call, so a caller that has what it needs by the title does
not walk the rest of a long page. No IO; ``pipeline.extract.page_dates`` reads the dates.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick_rs
from selectolax.lexbor import LexborNode

from pipeline.extract.textblocks import LAST_NODE_ID, TEXT_ID, tag_id

__all__ = ["MAX_TEXT_CHARS", "PageText", "TextReader"]

# Bylines sit at the article's start: reading further finds dates in the body's prose and in
# the lists of other stories below it, and costs time on long pages.
MAX_TEXT_CHARS = 20_000
# A bound on the elements walked whatever their text, for pages of thousands of empty nodes.
MAX_NODES = 6_000
# Class and id strings repeat within a page ("menu-item menu-item-type-post") and across a
# site's pages: their roles are kept, this many of them.
ROLE_CACHE_SIZE = 8192

# Elements whose text is never the article's: code, controls and embedded documents.
_HIDDEN_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "select", "button", "iframe", "head"}
)
# Page furniture: read last, since some sites set the byline in an aside or a "post footer".
_FURNITURE_TAGS = frozenset({"footer", "aside", "nav"})
_HIDDEN_IDS = frozenset(tag_id(name) for name in _HIDDEN_TAGS)
_FURNITURE_IDS = frozenset(tag_id(name) for name in _FURNITURE_TAGS)
_H1_ID, _H2_ID = tag_id("h1"), tag_id("h2")
_HEADING_IDS = frozenset((_H1_ID, _H2_ID))
# Class or id words of furniture, and of containers of other texts (comments, lists of other
# stories, archives, calendars), whose dates are never the article's. A word counts at the
# start of a class token or after a separator ("comment-list", "site_footer", "footerRow"),
# not after a modifier of the content's own box ("has-sidebar", "with_comments").
_FURNITURE_WORDS = (
    r"(?:^|[-_ ])(?:footer|sidebar|aside|widget[-_]|teaser|nav|menu|breadcrumb|share|social|"
    r"cookie|newsletter|banner)"
)
_OTHER_TEXT_WORDS = (
    r"(?:^|[-_ ])(?:comment|kommentar|respond|reply|related|recent|popular|similar|"
    r"more-|weitere|archive|calendar|trackback|pingback)"
)


def _words(pattern: str) -> list[str]:
    return pattern.removeprefix("(?:^|[-_ ])(?:").removesuffix(")").split("|")


def _followers(word: str) -> str:
    """The characters one of which must follow a word of the lists ("" when any may):
    "more-", "widget-" or "widget_"."""
    if word.endswith("[-_]"):
        return "-_"
    return "-" if word.endswith("-") else ""


# Each word of the lists, and whether it names others' texts.
_LIST_WORDS = [
    (word, pattern is _OTHER_TEXT_WORDS)
    for pattern in (_FURNITURE_WORDS, _OTHER_TEXT_WORDS)
    for word in _words(pattern)
]
# Either list's words anywhere: most elements have none, and one automaton pass over the names
# rules them out twice as fast as a regex alternation of the words (and three times as fast
# as a substring test per word).
_ANY_WORD_IN = ahocorasick_rs.AhoCorasick([word.rstrip("[-_]") for word, _ in _LIST_WORDS])
# Per word of the automaton: whether it names others' texts, and what must follow it.
_WORD_KINDS = tuple((others, _followers(word)) for word, others in _LIST_WORDS)
_WORD_STARTS_AFTER = "-_ "
# Class tokens that name the article's own taxonomy (WordPress "category-terror",
# "tag-kommentar"), or a layout modifier, and say nothing about the container's role.
_NEUTRAL_WORDS = ("category", "tag", "post_tag", "topic", "format")
_MODIFIERS = ("has", "with", "no", "left", "right")
_NEUTRAL_TOKEN = f"^(?:{'|'.join(_NEUTRAL_WORDS)}|(?:{'|'.join(_MODIFIERS)})[-_])"
_NEUTRAL_PREFIXES = (*_NEUTRAL_WORDS, *(f"{word}{sep}" for word in _MODIFIERS for sep in "-_"))
# The article's own meta box inside a footer (WordPress "entry-footer", Blogger "post-footer").
_OWN_FOOTER = r"(?:entry|post|article|asset|meta)[-_]?(?:footer|meta)"
# Names with other than ASCII characters are judged by the lists' patterns, ignoring case:
# "ı" and "ſ" then match "i" and "s". ASCII names are judged by the automaton's matches, and
# only their own footer by a pattern.
_OTHER_TEXT_IGNORING_CASE = re.compile(_OTHER_TEXT_WORDS, re.IGNORECASE)
_OWN_FOOTER_IGNORING_CASE = re.compile(_OWN_FOOTER, re.IGNORECASE)
_FURNITURE_IGNORING_CASE = re.compile(_FURNITURE_WORDS, re.IGNORECASE)
_NEUTRAL_OTHER = re.compile(_NEUTRAL_TOKEN, re.IGNORECASE)
_ASCII_OWN_FOOTER = re.compile(_OWN_FOOTER)
# Where a text is: in the article (read first), in furniture (read last), in others' (never).
_ARTICLE, _FURNITURE, _OTHER_TEXT = 0, 1, 2


@dataclass(slots=True)
class PageText:
    """The text read (its parts, each followed by a space), the spans of it that are
    furniture, and where the article's first ``<h1>`` and ``<h2>`` start."""

    parts: list[str]
    furniture: list[tuple[int, int]]
    size: int = 0
    title_at: int | None = None
    heading_at: int | None = None

    def in_furniture(self, at: int) -> bool:
        """Whether the text at offset ``at`` is furniture's."""
        index = bisect_right(self.furniture, (at, self.size)) - 1
        return index >= 0 and at < self.furniture[index][1]


class TextReader:
    """A body's visible text, read on demand: each ``read`` goes on where the last stopped."""

    def __init__(self, body: LexborNode) -> None:
        self.text = PageText([], [])
        self._node: LexborNode | None = body.first_child
        self._stack: list[tuple[LexborNode, int]] = []
        self._level = _ARTICLE
        self._walked = 0

    @property
    def finished(self) -> bool:
        """Whether all there is to read, within ``MAX_TEXT_CHARS`` and ``MAX_NODES``, is read."""
        return self._node is None or self._walked >= MAX_NODES or self.text.size >= MAX_TEXT_CHARS

    def read(self, past_title: int | None = None) -> PageText:
        """Read on up to ``MAX_TEXT_CHARS``; with ``past_title``, stop once the text reaches
        that many characters past the start of the ``<h1>`` (when there is one)."""
        found = self.text
        stack = self._stack
        node, level, walked = self._node, self._level, self._walked
        limit = MAX_TEXT_CHARS
        if past_title is not None and found.title_at is not None:
            limit = min(limit, found.title_at + past_title)
        while node is not None and found.size < limit and walked < MAX_NODES:
            walked += 1
            kind = node.tag_id
            if kind == TEXT_ID:
                # Most text nodes are indentation, which lexbor tells apart without making a
                # string: ASCII whitespace only; other blank text is caught below.
                value = None if node.is_empty_text_node else node.text_content
                if value and not value.isspace():  # kept, its span noted when it is furniture
                    if level == _FURNITURE:
                        found.furniture.append((found.size, found.size + len(value)))
                    found.parts.append(value)
                    found.size += len(value) + 1
            elif kind > LAST_NODE_ID and kind not in _HIDDEN_IDS:
                child = node.first_child
                # An empty element (an image, a line break) holds no text whatever its role:
                # its names are not read, except a heading's, whose place counts.
                if child is not None or kind in _HEADING_IDS:
                    # Two lookups by name, not ``attributes``: that decodes every attribute
                    # of every element (data-*, style…), several times the cost of the walk.
                    classes = node.attrs.get("class")
                    ident = node.id
                    furniture_tag = kind in _FURNITURE_IDS
                    role = (
                        _role(classes or "", ident or "", furniture_tag)
                        if classes or ident
                        else _FURNITURE * furniture_tag
                    )
                    inner = role if role > level else level
                    if kind == _H1_ID and found.title_at is None and inner == _ARTICLE:
                        found.title_at = found.size
                        if past_title is not None:
                            limit = min(limit, found.size + past_title)
                    elif kind == _H2_ID and found.heading_at is None and inner == _ARTICLE:
                        found.heading_at = found.size
                    if child is not None and inner < _OTHER_TEXT:
                        stack.append((node, level))
                        node, level = child, inner
                        continue
            node = node.next
            while node is None and stack:
                parent, level = stack.pop()
                node = parent.next
        self._node, self._level, self._walked = node, level, walked
        return found


@lru_cache(maxsize=ROLE_CACHE_SIZE)
def _role(classes: str, ident: str, furniture_tag: bool) -> int:
    """Whether an element of these names holds the article's text, furniture, or others'."""
    names = f"{classes} {ident}".lower()
    if not _ANY_WORD_IN.find_matches_as_indexes(names):
        return _FURNITURE if furniture_tag else _ARTICLE
    if not names.isascii():
        return _role_ignoring_case(names, furniture_tag)
    names = " ".join(token for token in names.split() if not token.startswith(_NEUTRAL_PREFIXES))
    # The words at the start of a token or after a separator, read off the automaton's matches
    # (all of them, overlapping) instead of the lists' patterns, which try every position of
    # the names: 3.8 → 3.2 µs per name holding a word.
    furniture = furniture_tag
    for index, start, end in _ANY_WORD_IN.find_matches_as_indexes(names, overlapping=True):
        if start and names[start - 1] not in _WORD_STARTS_AFTER:
            continue
        others, followed_by = _WORD_KINDS[index]
        if followed_by and (end == len(names) or names[end] not in followed_by):
            continue
        if others:
            return _OTHER_TEXT
        furniture = True
    return _FURNITURE if furniture and not _ASCII_OWN_FOOTER.search(names) else _ARTICLE


def _role_ignoring_case(names: str, furniture_tag: bool) -> int:
    """``_role`` of lower-cased names with other than ASCII characters, by the patterns."""
    names = " ".join(token for token in names.split() if not _NEUTRAL_OTHER.match(token))
    if _OTHER_TEXT_IGNORING_CASE.search(names):
        return _OTHER_TEXT
    if _OWN_FOOTER_IGNORING_CASE.search(names):
        return _ARTICLE
    if furniture_tag or _FURNITURE_IGNORING_CASE.search(names):
        return _FURNITURE
    return _ARTICLE
