"""The publication day a page shows its readers, and checks of a metadata date against it.

Many pages carry no date in JSON-LD, ``<meta>`` or ``<time datetime>`` but print it: in a byline
("Published 12 March 2019", "Veröffentlicht am 12.03.2019", "發佈日期：2019年3月12日") or right
under the title. ``page_date`` reads the body's text as ``pipeline.extract.page_text`` gives it:
in document order up to ``MAX_TEXT_CHARS``, never the texts of others (comments, related-article
lists, archives), with furniture (sidebars, footers, teasers, share boxes) marked, whose dates
count only by the title or when the article shows none. It prefers a date after a publication
label by the title (the ``<h1>``, or the first ``<h2>`` without one); the first date by the
title; one after a label elsewhere; the first in the article; one in furniture; last, one after
an update label ("Updated", "Aktualisiert", "更新"). The text is read up to just past the
title first, and on only when no date there settles the choice. Dates after the fetch time or
before ``MIN_TEXT_YEAR`` are refused; numeric dates read day first unless the page is in US
English. A day found is midnight in Hong Kong, as date-only values are.

For the cascade in ``pipeline.extract`` (after ``pipeline.extract.date_offsets`` has put a UTC
metadata time on the publisher's day), ``settle_published`` prefers the shown date to a lone
``<time>``'s and to a re-published page's first date. No IO, no ``dateparser``: the patterns
(``pipeline.extract.date_patterns``) are compiled at import and run only where a year is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from selectolax.lexbor import LexborHTMLParser

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
from pipeline.extract.page_text import PageText, TextReader

__all__ = ["Shown", "page_date", "settle_published"]

# A date this far after the start of the <h1> text is still "under the title"; the byline and
# the teaser come first, the body's own dates later.
AFTER_TITLE_CHARS = 1_500
# Some layouts print the date above the title (a kicker line); it is this close before it.
BEFORE_TITLE_CHARS = 250
# Read this much past the title's reach before choosing: a date that starts within the reach
# is then read whole (the longest pattern, "12 de septiembre de 2019", spans under 40).
WHOLE_DATE_MARGIN = 200
# A modified time this long after the published one marks a re-published page, whose shown
# date is the day it was re-published; a shorter gap is the first hour's corrections.
REPUBLISHED_AFTER = timedelta(hours=2)
# Text dates before this year are history told in the article (births, events), not the day
# it was published: the pages read here are from the web's era.
MIN_TEXT_YEAR = 1995


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
    reference = now if now is not None else datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=HONG_KONG)
    latest = reference + FUTURE_TOLERANCE
    month_first = _month_first(tree)
    reader = TextReader(body)
    # Most pages show their date by the title: the rest of a long page is read only when none
    # is there (the choice is then the same as over the whole text).
    margin = 0 if by_title_only else WHOLE_DATE_MARGIN
    text = reader.read(past_title=AFTER_TITLE_CHARS + margin)
    found = _dates(text, month_first, latest)
    if not by_title_only and not reader.finished and not _settled_by_title(found, text.title_at):
        text = reader.read()
        found = _dates(text, month_first, latest)
    return _shown(text, found)


def _shown(text: PageText, found: list[_Found]) -> Shown | None:
    """The date chosen of those ``found`` in ``text``, with the days shown by its title."""
    if not text.parts:
        return None
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


def _settled_by_title(found: list[_Found], title_at: int | None) -> bool:
    """Whether ``_choose`` picks a date by the ``<h1>`` whatever follows: the article's own
    after a publication label, or one with no label."""
    if title_at is None:
        return False
    return any(
        _near_title(item.at, title_at)
        and (not item.label or (item.label == "published" and not item.furniture))
        for item in found
    )


def _near_title(at: int, title_at: int) -> bool:
    return title_at - BEFORE_TITLE_CHARS <= at <= title_at + AFTER_TITLE_CHARS


def _month_first(tree: LexborHTMLParser) -> bool:
    """Whether numeric dates read month first (US English pages: ``03/12/2019``)."""
    root = tree.root
    lang = (root.attributes.get("lang") or "") if root is not None else ""
    return bool(US_LANG.match(lang.strip()))


def _dates(read: PageText, month_first: bool, latest: datetime) -> list[_Found]:
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
