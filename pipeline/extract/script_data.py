"""The publication date a page's script data names: the state script-rendered pages embed.

Pages rendered by script (Next.js, Nuxt, shop systems, review sites) often carry no JSON-LD, no
``<meta>`` date and no date in the text of their markup, but embed the article's record as JSON
in a ``<script>``: ``"publishedDate":"2016-11-04T…"``, ``"published_at":"2019-03-02…"``, also
escaped inside a JavaScript string (``\\"publishedAt\\":\\"…``). The cascade in
``pipeline.extract`` reads it last, when nothing else dated the page, and only keys that name
publication: records of users, comments and images carry creation and update times too. A
state that lists other stories carries their dates as well, so a date is taken only when every
publication key on the page names the same day. No IO.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from itertools import islice

from selectolax.lexbor import LexborHTMLParser

from pipeline.dates import parse_date

__all__ = ["script_data_date"]

# Script text read per page: state blobs run to a few hundred kilobytes; a page shipping more
# is a catalogue or an archive, not one article's state, and the scan stays bounded.
MAX_SCRIPT_CHARS = 2_000_000
# Keys read per page: a state that lists stories holds one per story, and hundreds agreeing on
# one day settle it.
MAX_PUBLISHED_KEYS = 500
# A publication key and its ISO 8601 value (a day, perhaps a time and an offset after it). The
# pattern starts at the key's quote, so the engine skips to quotes; the names are matched as
# sites spell them, case and all, which keeps the scan fast on large scripts.
_PUBLISHED_KEY = re.compile(
    r'"(?:datePublished|date_published|publishedDate|publishDate|published_at|publishedAt|'
    r'firstPublished|first_published_at|publicationDate|pubDate)\\?"\s*:\s*\\?"'
    r'(\d{4}-\d{2}-\d{2}[^"\\]{0,30})'
)


def script_data_date(tree: LexborHTMLParser, *, now: datetime | None = None) -> datetime | None:
    """The publication date the page's script data names, when all its publication keys name
    the same day; None when none does, or when they disagree."""
    values = list(islice(_published_values(tree), MAX_PUBLISHED_KEYS))
    # A value's first ten characters are its day in its own offset, as parse_date reads it.
    if len({value[:10] for value in values}) != 1:
        return None
    for value in values:
        # A value of that day may still be refused (an impossible or a future day).
        found = parse_date(value, now=now)
        if found is not None:
            return found
    return None


def _published_values(tree: LexborHTMLParser) -> Iterator[str]:
    """The values of publication keys in the page's scripts, in order, within the bound."""
    budget = MAX_SCRIPT_CHARS
    for script in tree.css("script"):
        text = script.text(deep=True)
        budget -= len(text)
        if budget < 0:
            return
        for match in _PUBLISHED_KEY.finditer(text):
            yield match.group(1).strip()
