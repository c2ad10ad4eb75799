"""A metadata time on the publisher's day: checked against the offsets the page states for the
same moment (in other metadata values, in ``<time>``) and against the URL.

Metadata is often written in UTC, which moves evening stories west of Greenwich (and night
stories east of it) to another day than the one the publisher printed; a URL that names a day
(``/2019/03/12/``) says which. ``in_own_offset`` and ``with_url_day`` give such a time the
offset in which it falls on that day, the same instant; a date more than a day off the URL's
is a template's or a re-publication's, and the URL's day replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from selectolax.lexbor import LexborHTMLParser

from pipeline.dates import parse_date

# UTC offsets in use: from UTC-12 (Baker Island) to UTC+14 (Kiribati).
MIN_OFFSET_HOURS, MAX_OFFSET_HOURS = -12, 14
# <time> elements compared with a UTC metadata time: the article's own comes early.
MAX_TIME_ELEMENTS = 20
# A <time> this close to the metadata's instant states the same moment (seconds dropped).
SAME_INSTANT_SECONDS = 120
# A full ISO time with a numeric offset, as <time datetime> states the publisher's own.
_OFFSET_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?[+-]\d{2}:?\d{2}$")
# A metadata value whose time ends in a numeric offset (ISO 8601 "00:04:00+02:00", RFC 2822
# "00:04:00 +0200").
_STATED_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)? ?[+-]\d{2}:?\d{2}$")


def with_url_day(published: datetime | None, url_day: datetime | None) -> datetime | None:
    """The published date, or the URL's day when the two disagree and the URL is likelier
    right. A UTC time a day off the URL's day is the same instant in the publisher's zone,
    where it falls on that day (stories of the evening west of Greenwich, of the night east of
    it): it is given the nearest whole-hour offset that puts it there. A date more than a day
    off is a template's or a re-publication's, and the URL's day replaces it."""
    if published is None or url_day is None:
        return published or url_day
    gap = (url_day.date() - published.date()).days
    if gap == 0:
        return published
    if abs(gap) > 1:
        return url_day
    if published.utcoffset():
        return published
    utc = published.astimezone(UTC)
    hours = 24 - utc.hour if gap > 0 else -(utc.hour + 1)
    if not MIN_OFFSET_HOURS <= hours <= MAX_OFFSET_HOURS:
        return published
    return utc.astimezone(timezone(timedelta(hours=hours)))


def in_own_offset(
    tree: LexborHTMLParser, published: datetime | None, stated: Sequence[str | None] = ()
) -> datetime | None:
    """A UTC ``published`` in the offset the page gives the same instant in: in another
    metadata value (``stated``, such as ``<meta>``'s "Sat, 19 Oct 2019 00:04:00 +0200" beside
    JSON-LD's "2019-10-18T22:04:00Z"), or in a ``<time datetime>``. Metadata is often written
    in UTC, which moves evening stories west of Greenwich (and night stories east of it) to
    another day than the one the publisher printed."""
    if published is None or published.utcoffset() != timedelta(0):
        return published
    for value in stated:
        # Only a value ending in a numeric offset states one: others are read in Hong Kong.
        if value and _STATED_OFFSET.search(value.strip()):
            local = _same_instant(published, parse_date(value))
            if local is not None:
                return local
    for node in tree.css("time[datetime]")[:MAX_TIME_ELEMENTS]:
        value = (node.attributes.get("datetime") or "").strip()
        if not _OFFSET_TIME.match(value):
            continue
        try:
            local = _same_instant(published, datetime.fromisoformat(value))
        except ValueError:
            continue
        if local is not None:
            return local
    return published


def _same_instant(published: datetime, stated: datetime | None) -> datetime | None:
    """``published`` in ``stated``'s offset when that is not UTC and both are one moment."""
    if stated is None or not stated.utcoffset():
        return None
    if abs((stated - published).total_seconds()) > SAME_INSTANT_SECONDS:
        return None
    return published.astimezone(stated.tzinfo)
