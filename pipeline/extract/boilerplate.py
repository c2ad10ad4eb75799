"""Remove page furniture before the generic finder scores the page.

Three passes: tags that never hold article text (scripts, ``<nav>``, ``<aside>``, ``<footer>``…);
boxes around an image that hold no more text than a caption (credits, captions, logo lines,
teaser cards); then elements whose class or id names furniture: share bars, related links,
comments, newsletter boxes, cookie banners, menus, sidebars. One CSS selector finds the
containers with a class or id in a single walk of the tree; each one's class and id are then
split into words (at hyphens, underscores and camelCase humps) and checked against the word
lists, so "shareholder" or "navy" are left alone, and "has-sidebar" or "label-hidden" too.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

import ahocorasick_rs
from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.extract.textblocks import tag_id

# Elements that never hold article text: code, styles, embeds and form controls.
TEXTLESS_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "button",
    "select",
    "textarea",
    "input",
    "dialog",
)
# Layout elements around the article (menus, sidebars, page footers): furniture on all but a
# few pages, which set the article itself in one (``second_reading.py`` keeps them).
LAYOUT_TAGS = ("nav", "aside", "footer")
# Elements never part of an article body, as the first reading of a page takes them.
PRUNE_TAGS = TEXTLESS_TAGS + LAYOUT_TAGS
_PRUNE_TAG_IDS = frozenset(tag_id(name) for name in PRUNE_TAGS)
_TEXTLESS_TAG_IDS = frozenset(tag_id(name) for name in TEXTLESS_TAGS)
# ARIA roles of furniture, matched exactly as a CSS [role=…] test would; role=search only on a
# <form>, and any element with aria-modal=true. One walk finds the elements with either
# attribute and Python compares the values: 40% faster than a selector per value.
PRUNE_ROLES = frozenset({"navigation", "contentinfo", "complementary", "dialog"})
_ROLE_CSS = "[role], [aria-modal]"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Strong words never name an article container: elements so named go unless they hold most of
# the page's text (a wrapper such as "article comments-enabled").
STRONG_WORDS = frozenset(
    _words(
        """comment comments commentform share sharing social newsletter breadcrumb breadcrumbs
    disqus outbrain taboola related recommended more-stories most-read mostread trending
    skip-link popup modal login signup sign-up ticker"""
    )
)
# Consent banners go whatever they hold: a privacy notice with its long paragraphs and tabs of
# cookie purposes can hold more prose than a short article.
CONSENT_WORDS = frozenset(
    _words(
        """cookie cookies consent cookiecontent cookiebanner cookieconsent cookienotice gdpr
    dsgvo"""
    )
)
# Weak words also appear in layout names ("sidebar-grid__content", "has-banner"): elements so
# named go only when they hold little prose.
WEAK_WORDS = frozenset(
    _words(
        """nav navbar navigation menu footer sidebar banner banners promo promos advert ads
    ad-slot subscribe subscription paywall read-more readmore tags tag-list byline author-bio
    author autor widget masthead toolbar teaser teasers caption credit sign-in signin register
    registration regwall hidden offscreen sr-only screen-reader visuallyhidden noprint print-none
    rating ratings"""
    )
)

# Elements whose class or id is judged. Container tags only: furniture is a box of links and
# buttons, and leaving out <a>, <img>, <i>… halves the walk. The selector only asks for a class
# or id; judging the words in Python is three times faster than forty substring selectors.
# The elements that hold the page's main structure (html, body, main, article) are not in the
# list: whatever their class says, they are never furniture. Lexbor's selector engine tests
# every element once per tag of a list: the selector finds the elements with a class or id, and
# their tag ids are looked up in a set, in 30% less time than a selector of the tags.
_CANDIDATE_TAGS = "div section ul ol li span p form header figure table dl"
_CANDIDATE_IDS = frozenset(tag_id(name) for name in _CANDIDATE_TAGS.split())
# The search for an image's box stops at these; the boxes removed are <div>s.
_MEDIA_BOUNDS = frozenset(tag_id(name) for name in ("body", "article", "main"))
_DIV_ID = tag_id("div")
_NAMED_CSS = ":is([class], [id])"

# Share of the page's paragraph text above which an element is the content (or wraps it),
# whatever its class says. Comment threads can outgrow a short article, so a strong word needs
# a majority to be kept; a weak word ("sidebar-grid__content") is kept with less.
STRONG_PROTECT_SHARE = 0.5
WEAK_PROTECT_SHARE = 0.4
# A weak-named element holding this many prose paragraphs is a section of a split body:
# furniture holds links and one-liners.
PROTECT_PROSE_PARAGRAPHS = 3
PROSE_PARAGRAPH_CHARS = 150

# A furniture word after one of these says what an element has or where it comes from, not
# what it is: "has-sidebar", "no-ads", "non-paywall", "with-comments", Drupal's
# "field--label-hidden" on every field of a body, Elementor's "elementor-widget" on every block
# of a page it builds.
MODIFIER_WORDS = frozenset(_words("has with no non without label elementor"))
# Names holding a furniture word that are the body's own boxes: the lead of TYPO3's news
# records ("teaser-text") and Blogger's box of posts ("widget Blog").
BODY_NAMES = frozenset(_words("teaser-text widget-blog"))
# A box around an image holding at most this much text holds a caption, a credit, a logo's
# line or a teaser card's headline. Measured: at 400 short bodies set beside an image went
# too, at 150 long captions stayed.
MAX_MEDIA_TEXT_CHARS = 250
# Levels above an image to look for the box with its text: image wrappers (picture frames,
# lazy-loading and aspect-ratio boxes) nest up to this deep on the pages measured.
MEDIA_LEVELS = 8

# Class and id values repeat across a site's pages and between sites ("container", WordPress's
# "menu-item menu-item-type-post_type"): their verdicts are kept, this many of them.
VERDICT_CACHE_SIZE = 8192

# camelCase names are words too: "relatedArticles", "dialogCookieWarning".
_CAMEL_HUMP = re.compile(r"(?<=[a-z])(?=[A-Z])")
_ALL_WORDS = STRONG_WORDS | WEAK_WORDS | CONSENT_WORDS
_QUALIFIERS = MODIFIER_WORDS | {name.split("-")[0] for name in BODY_NAMES}
_PAIR_HEADS = frozenset(w.split("-")[0] for w in STRONG_WORDS | WEAK_WORDS if "-" in w)
# A value holds furniture only if one of its words is a listed word or a first half.
_FIRST_WORDS = _ALL_WORDS | _PAIR_HEADS
_BODY_NAME_HEADS = frozenset(name.split("-")[0] for name in BODY_NAMES)
# Every word of a value is a stretch of it lower-cased, so a value in which no listed word or
# first half occurs anywhere holds none. Before the camelCase split (a regex of two
# microseconds), one automaton pass rules out half the values not in lower case; on values in
# lower case it costs more than the split into words that it would spare.
_ANY_FIRST_WORD = ahocorasick_rs.AhoCorasick(sorted(_FIRST_WORDS))


def prune(tree: LexborHTMLParser, *, layout: bool = True) -> None:
    """Remove elements that are never article text from the whole tree; ``layout=False``
    keeps ``<nav>``, ``<aside>`` and ``<footer>``."""
    # One walk for all the tags, by lexbor's tag ids: 40% less time than a selector list, which
    # the engine tests tag by tag on every element. Collected first, as the walk must not see
    # the tree change; an element inside another removed before it is already out of the
    # tree: removing it again changes nothing.
    top = tree.root
    tag_ids = _PRUNE_TAG_IDS if layout else _TEXTLESS_TAG_IDS
    found = [node for node in top.traverse() if node.tag_id in tag_ids] if top else []
    for node in found:
        node.decompose()
    for node in tree.css(_ROLE_CSS):
        attrs = node.attributes
        role = attrs.get("role")
        if (
            role in PRUNE_ROLES
            or (role == "search" and node.tag == "form")
            or attrs.get("aria-modal") == "true"
        ):
            node.decompose()
    root = tree.body
    if root is None:
        return
    _prune_media_boxes(root)
    matches = [node for node in root.css(_NAMED_CSS) if node.tag_id in _CANDIDATE_IDS]
    if not matches:
        return
    held: dict[int, int] | None = None
    prose: dict[int, int] = {}
    total = 0
    for node in matches:
        # Two lookups by name: ``attributes`` would decode every attribute of the element.
        value = f"{node.attrs.get('class') or ''} {node.id or ''}"
        verdict = furniture_verdict(value)  # cached: menus repeat one class on every item
        if not verdict:
            continue
        if held is None:
            # Counted only once some element is furniture-named: most are not.
            held, prose = _paragraph_stats(root)
            total = held.get(root.mem_id, 0)
        key = node.mem_id
        if verdict == "consent":
            node.decompose()
        elif verdict == "strong":
            if held.get(key, 0) <= total * STRONG_PROTECT_SHARE:
                node.decompose()
        elif (
            verdict == "weak"
            and held.get(key, 0) <= total * WEAK_PROTECT_SHARE
            and prose.get(key, 0) < PROTECT_PROSE_PARAGRAPHS
            # A paragraph of prose is text whatever its class: "paywall" on a <p> marks the
            # part of the article that a script would hide, not a prompt.
            and not (node.tag == "p" and len(node.text(deep=True)) >= PROSE_PARAGRAPH_CHARS)
        ):
            node.decompose()


def _prune_media_boxes(root: LexborNode) -> None:
    """Remove the ``<div>``s around images that hold no more text than a caption."""
    lengths: dict[int, int] = {}  # text length by element: images in a gallery share wrappers
    boxes: dict[int, LexborNode] = {}
    for image in root.css("img"):
        node = image.parent
        # The nearest box around the image with any text: the image's own wrappers have none.
        for _ in range(MEDIA_LEVELS):
            # Tag ids, not names: a name is a new string each time it is read.
            if node is None or (kind := node.tag_id) in _MEDIA_BOUNDS:
                break
            key = node.mem_id
            length = lengths.get(key)
            if length is None:
                length = lengths[key] = len(node.text(deep=True).strip())
            if length:
                if length <= MAX_MEDIA_TEXT_CHARS and kind == _DIV_ID:
                    boxes[key] = node
                break
            node = node.parent
    # A box inside another goes with it: only the outermost are removed, after all are found.
    for node in [node for node in boxes.values() if not _inside_any(node, boxes)]:
        node.decompose()


def _inside_any(node: LexborNode, boxes: dict[int, LexborNode]) -> bool:
    ancestor = node.parent
    while ancestor is not None:
        if ancestor.mem_id in boxes:
            return True
        ancestor = ancestor.parent
    return False


@lru_cache(maxsize=VERDICT_CACHE_SIZE)
def furniture_verdict(value: str) -> str:
    """``"consent"``, ``"strong"``, ``"weak"`` or ``""`` for a class/id value
    ("share-bar__item" → strong, "has-sidebar" → "")."""
    # Most names are lower case: no humps to split, nothing to lower.
    if not value.islower():
        if not _ANY_FIRST_WORD.find_matches_as_indexes(value.lower()):
            return ""
        value = _CAMEL_HUMP.sub(" ", value).lower()
    # replace() calls are three times faster than translate() on class strings.
    words = value.replace("_", " ").replace("-", " ").replace(":", " ").split()
    if _FIRST_WORDS.isdisjoint(words):
        return ""  # most values: one set test
    if not _QUALIFIERS.isdisjoint(words):
        words = _without_modifiers(words)
    # Hyphenated names in the lists ("ad-slot", "most-read") are two adjacent words; pairs are
    # built only after a first half, which is rare.
    if not _PAIR_HEADS.isdisjoint(words):
        words += [
            f"{first}-{second}"
            for first, second in itertools.pairwise(words)
            if first in _PAIR_HEADS
        ]
    if not CONSENT_WORDS.isdisjoint(words):
        return "consent"
    if not STRONG_WORDS.isdisjoint(words):
        return "strong"
    return "" if WEAK_WORDS.isdisjoint(words) else "weak"


def _without_modifiers(words: list[str]) -> list[str]:
    """``words`` less those after a modifier ("has-ads") and those of a body's name."""
    kept: list[str] = []
    previous = ""
    for index, word in enumerate(words):
        if previous in MODIFIER_WORDS:
            previous = word
            continue
        previous = word
        # A body's name is built only after its first half: most words are none.
        if (
            word in _BODY_NAME_HEADS
            and index + 1 < len(words)
            and f"{word}-{words[index + 1]}" in BODY_NAMES
        ):
            continue
        kept.append(word)
    return kept


def _paragraph_stats(root: LexborNode) -> tuple[dict[int, int], dict[int, int]]:
    """Per element (by ``mem_id``): characters of <p> text under it, and how many are prose."""
    # Each paragraph counts at its parent; the sums then go up once per element, children
    # before parents, instead of once per paragraph and ancestor (the square of the depth).
    held: dict[int, int] = {}
    prose: dict[int, int] = {}
    parent_of: dict[int, int | None] = {}  # elements seen, up to <body>, and their parents
    top_down: list[int] = []
    for paragraph in root.css("p"):
        length = len(paragraph.text(deep=True))
        node = paragraph.parent
        if node is None:
            continue
        first = node.mem_id
        held[first] = held.get(first, 0) + length
        if length >= PROSE_PARAGRAPH_CHARS:
            prose[first] = prose.get(first, 0) + 1
        new: list[int] = []
        while node is not None and node.mem_id not in parent_of:
            new.append(node.mem_id)
            if node.tag == "body":
                node = None
                break
            node = node.parent
        above = node.mem_id if node is not None else None
        for key in reversed(new):
            parent_of[key] = above
            above = key
            top_down.append(key)
    for key in reversed(top_down):
        parent = parent_of[key]
        if parent is None:
            continue
        if key in held:
            held[parent] = held.get(parent, 0) + held[key]
        if key in prose:
            prose[parent] = prose.get(parent, 0) + prose[key]
    return held, prose
