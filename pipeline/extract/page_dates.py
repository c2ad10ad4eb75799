"""The publication day a page shows its readers, and checks of a metadata date against it.

Many pages carry no date in JSON-LD, ``<meta>`` or ``<time datetime>`` but print it: in a byline
("Published 12 March 2019", "Veröffentlicht am 12.03.2019", "發佈日期：2019年3月12日") or right
under the title. ``page_date`` reads the body's text in document order up to ``MAX_TEXT_CHARS``,
never the texts of others (comments, related-article lists, archives), and marks furniture
(sidebars, footers, teasers, share boxes), whose dates count only by the title or when the
article shows none. It prefers a date after a publication label by the title (the ``<h1>``, or
the first ``<h2>`` without one); the first date by the title; one after a label elsewhere; the
first in the article; one in furniture; last, one after an update label ("Updated",
"Aktualisiert", "更新"). Dates after the fetch time or before ``MIN_TEXT_YEAR`` are refused;
numeric dates read day first unless the page is in US English. A day found is midnight in Hong
Kong, as date-only values are.

For the cascade in ``pipeline.extract`` (after ``pipeline.extract.date_offsets`` has put a UTC
metadata time on the publisher's day), ``settle_published`` prefers the shown date to a lone
``<time>``'s and to a re-published page's first date. No IO, no ``dateparser``: the patterns
(``pipeline.extract.date_patterns``) are compiled at import and run only where a year is.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.dates import FUTURE_TOLERANCE, HONG_KONG
from pipeline.extract.date_patterns import (
    LABEL_REACH,
    MODIFIED_LABEL,
    PUBLISHED_LABEL,
    US_LANG,
    YEAR_AT,
    date_at,
    day_of,
    short_years,
)
from pipeline.extract.textblocks import LAST_NODE_ID, TEXT_ID, tag_id

__all__ = ["Shown", "page_date", "settle_published"]

# Bylines sit at the article's start: reading further finds dates in the body's prose and in
# the lists of other stories below it, and costs time on long pages.
MAX_TEXT_CHARS = 20_000
# A bound on the elements walked whatever their text, for pages of thousands of empty nodes.
MAX_NODES = 6_000
# A date this far after the start of the <h1> text is still "under the title"; the byline and
# the teaser come first, the body's own dates later.
AFTER_TITLE_CHARS = 1_500
# Some layouts print the date above the title (a kicker line); it is this close before it.
BEFORE_TITLE_CHARS = 250
# A modified time this long after the published one marks a re-published page, whose shown
# date is the day it was re-published; a shorter gap is the first hour's corrections.
REPUBLISHED_AFTER = timedelta(hours=2)
# Class and id strings repeat within a page ("menu-item menu-item-type-post") and across a
# site's pages: their roles are kept, this many of them.
ROLE_CACHE_SIZE = 8192
# Text dates before this year are history told in the article (births, events), not the day
# it was published: the pages read here are from the web's era.
MIN_TEXT_YEAR = 1995

# Elements whose text is never the article's: code, controls and embedded documents.
_HIDDEN_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "select", "button", "iframe", "head"}
)
# Page furniture: read last, since some sites set the byline in an aside or a "post footer".
_FURNITURE_TAGS = frozenset({"footer", "aside", "nav"})
_HIDDEN_IDS = frozenset(tag_id(name) for name in _HIDDEN_TAGS)
_FURNITURE_IDS = frozenset(tag_id(name) for name in _FURNITURE_TAGS)
_H1_ID, _H2_ID = tag_id("h1"), tag_id("h2")
# Class or id words of furniture, and of containers of other texts (comments, lists of other
# stories, archives, calendars), whose dates are never the article's. A word counts at the
# start of a class token or after a separator ("comment-list", "site_footer", "footerRow"),
# not as a modifier of the content's own box ("content-with-sidebar", "has-sidebar").
_FURNITURE_WORDS = re.compile(
    r"(?:^|[-_ ])(?:footer|sidebar|aside|widget[-_]|teaser|nav|menu|breadcrumb|share|social|"
    r"cookie|newsletter|banner)",
    re.IGNORECASE,
)
_OTHER_TEXT_WORDS = re.compile(
    r"(?:^|[-_ ])(?:comment|kommentar|respond|reply|related|recent|popular|similar|"
    r"more-|weitere|archive|calendar|trackback|pingback)",
    re.IGNORECASE,
)
# Either list's words anywhere: most elements have none, and one search for the plain words
# rules them out several times faster than a search with either pattern (and nearly twice as
# fast as a substring test per word).
_ANY_WORD = tuple(
    word.rstrip("[-_]")
    for pattern in (_FURNITURE_WORDS, _OTHER_TEXT_WORDS)
    for word in pattern.pattern.removeprefix("(?:^|[-_ ])(?:").removesuffix(")").split("|")
)
_ANY_WORD_IN = re.compile("|".join(map(re.escape, _ANY_WORD)))
# Class tokens that name the article's own taxonomy (WordPress "category-terror",
# "tag-kommentar"), or a layout modifier, and say nothing about the container's role.
_NEUTRAL_TOKEN = re.compile(
    r"^(?:category|tag|post_tag|topic|format|(?:has|with|no|left|right)[-_])", re.IGNORECASE
)
# The article's own meta box inside a footer (WordPress "entry-footer", Blogger "post-footer").
_OWN_FOOTER = re.compile(r"(?:entry|post|article|asset|meta)[-_]?(?:footer|meta)", re.IGNORECASE)
# Where a text is: in the article (read first), in furniture (read last), in others' (never).
_ARTICLE, _FURNITURE, _OTHER_TEXT = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Found:
    """A date in the text read: where it starts, its label, and whether it is in furniture."""

    at: int
    day: datetime
    label: str  # "published", "modified" or ""
    furniture: bool


@dataclass(frozen=True, slots=True)
class Shown:
    """The date a page shows, and whether it is where bylines are (``prominent``): after a
    publication label in the article's text, or close to the title; and every day shown
    close to the title (``by_title``), the chosen one or not."""

    day: datetime
    prominent: bool
    by_title: frozenset[date] = frozenset()


def page_date(
    tree: LexborHTMLParser, *, now: datetime | None = None, by_title_only: bool = False
) -> Shown | None:
    """The publication day the page's text shows, at midnight in Hong Kong; None if none.
    ``by_title_only`` stops reading past the title's surroundings, for callers that only
    weigh the dates shown there (``prominent``)."""
    body = tree.body
    if body is None:
        return None
    text = _visible_text(body, by_title_only)
    if not text.parts:
        return None
    reference = now if now is not None else datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=HONG_KONG)
    found = _dates(text, _month_first(tree), reference + FUTURE_TOLERANCE)
    title_at = text.title_at if text.title_at is not None else text.heading_at
    shown = _choose(found, title_at)
    if shown is None or title_at is None:
        return shown
    days = frozenset(item.day.date() for item in found if _near_title(item.at, title_at))
    return Shown(shown.day, shown.prominent, days)


def settle_published(
    tree: LexborHTMLParser,
    published: datetime | None,
    modified: datetime | None,
    *,
    now: datetime | None = None,
    from_time_element: bool = False,
) -> datetime | None:
    """The published date found so far, or the one the page shows: when none was found; when
    it came from a lone ``<time>`` element (no metadata, no day in the URL) and the page shows
    another date where bylines are; and when the page was re-published (modified more than
    ``REPUBLISHED_AFTER`` later, on another day) and shows the modified day by its title."""
    republished = (
        published is not None
        and modified is not None
        and modified - published > REPUBLISHED_AFTER
        and modified.date() != published.date()
    )
    if published is not None and not (republished or from_time_element):
        return published
    shown = page_date(tree, now=now, by_title_only=published is not None)
    if shown is None or published is None:
        return shown.day if shown is not None else published
    day = shown.day.date()
    if not shown.prominent or day == published.date():
        return published
    if published.date() in shown.by_title:
        return published  # shown by the title too, beside another date (a caption's, say)
    if from_time_element or (modified is not None and day == modified.date()):
        return shown.day
    return published


def _choose(found: list[_Found], title_at: int | None) -> Shown | None:
    """The date the rules in the module's docstring prefer, of those found in text order."""
    labelled = [item for item in found if item.label == "published" and not item.furniture]
    for item in labelled:
        if title_at is None or _near_title(item.at, title_at):
            return Shown(item.day, True)
    plain = [item for item in found if not item.label]
    if title_at is not None:
        near = [item for item in plain if _near_title(item.at, title_at)]
        # The article's own first, then furniture's: a byline box styled as a teaser or aside.
        for item in sorted(near, key=lambda item: item.furniture):
            return Shown(item.day, True)
    if labelled:
        return Shown(labelled[0].day, True)
    for item in plain:
        if not item.furniture:
            return Shown(item.day, False)
    for label in ("published", ""):
        for item in found:
            if item.label == label:
                return Shown(item.day, False)
    modified = [item for item in found if item.label == "modified"]
    return Shown(modified[0].day, False) if modified else None


def _near_title(at: int, title_at: int) -> bool:
    return title_at - BEFORE_TITLE_CHARS <= at <= title_at + AFTER_TITLE_CHARS


@dataclass(slots=True)
class _Text:
    """The text read, the spans of it that are furniture, and where the ``<h1>`` starts."""

    parts: list[str]
    furniture: list[tuple[int, int]]
    size: int = 0
    title_at: int | None = None
    heading_at: int | None = None

    def in_furniture(self, at: int) -> bool:
        """Whether the text at offset ``at`` is furniture's."""
        index = bisect_right(self.furniture, (at, self.size)) - 1
        return index >= 0 and at < self.furniture[index][1]


def _visible_text(body: LexborNode, by_title_only: bool = False) -> _Text:
    """The body's text in document order, texts of others skipped, up to ``MAX_TEXT_CHARS``
    (or, ``by_title_only``, up to ``AFTER_TITLE_CHARS`` past the ``<h1>``)."""
    found = _Text([], [])
    stack: list[tuple[LexborNode, int]] = []
    node: LexborNode | None = body.first_child
    level = _ARTICLE
    walked = 0
    limit = MAX_TEXT_CHARS
    while node is not None and found.size < limit and walked < MAX_NODES:
        walked += 1
        kind = node.tag_id
        inner = _OTHER_TEXT
        if kind == TEXT_ID:
            value = node.text_content
            if value and not value.isspace():  # kept, its span noted when it is furniture
                if level == _FURNITURE:
                    found.furniture.append((found.size, found.size + len(value)))
                found.parts.append(value)
                found.size += len(value) + 1
        elif kind > LAST_NODE_ID and kind not in _HIDDEN_IDS:
            # Two lookups by name, not ``attributes``: that decodes every attribute of every
            # element (data-*, style…), several times the cost of the walk itself.
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
                if by_title_only:
                    limit = min(limit, found.size + AFTER_TITLE_CHARS)
            elif kind == _H2_ID and found.heading_at is None and inner == _ARTICLE:
                found.heading_at = found.size
        child = node.first_child if inner < _OTHER_TEXT else None
        if child is not None:
            stack.append((node, level))
            node, level = child, inner
            continue
        node = node.next
        while node is None and stack:
            parent, level = stack.pop()
            node = parent.next
    return found


@lru_cache(maxsize=ROLE_CACHE_SIZE)
def _role(classes: str, ident: str, furniture_tag: bool) -> int:
    """Whether an element of these names holds the article's text, furniture, or others'."""
    names = f"{classes} {ident}".lower()
    if _ANY_WORD_IN.search(names) is None:
        return _FURNITURE if furniture_tag else _ARTICLE
    names = " ".join(token for token in names.split() if not _NEUTRAL_TOKEN.match(token))
    if _OTHER_TEXT_WORDS.search(names):
        return _OTHER_TEXT
    if _OWN_FOOTER.search(names):
        return _ARTICLE
    if furniture_tag or _FURNITURE_WORDS.search(names):
        return _FURNITURE
    return _ARTICLE


def _month_first(tree: LexborHTMLParser) -> bool:
    """Whether numeric dates read month first (US English pages: ``03/12/2019``)."""
    root = tree.root
    lang = (root.attributes.get("lang") or "") if root is not None else ""
    return bool(US_LANG.match(lang.strip()))


def _dates(read: _Text, month_first: bool, latest: datetime) -> list[_Found]:
    """Every plausible date in the text read with its label, in the order of the text."""
    text = " ".join(read.parts)
    found: list[_Found] = []
    matches = [date_at(text, year.start(), year.end()) for year in YEAR_AT.finditer(text)]
    matches.extend(short_years(text))
    for match in sorted((m for m in matches if m is not None), key=lambda m: m.start()):
        day = day_of(match, month_first)
        if day is None or day.year < MIN_TEXT_YEAR or day > latest:
            continue
        start = match.start()
        before = text[max(0, start - LABEL_REACH) : start]
        label = ""
        if MODIFIED_LABEL.search(before):
            label = "modified"
        elif PUBLISHED_LABEL.search(before):
            label = "published"
        found.append(_Found(start, day, label, read.in_furniture(start)))
    return found
