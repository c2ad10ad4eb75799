"""How a date is written in a page's text, in the languages of the pages read.

The patterns ``pipeline.extract.page_dates`` reads dates with: a year (``YEAR_AT``), around which
the whole date is looked for (``date_at``: 2019-03-12, 2019年3月12日, 12.03.2019, 12/03/2019,
12. März 2019, March 12, 2019), German short years (28.01.22), and the labels before a
publication or an update date. Compiled once, at import.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from pipeline.dates import HONG_KONG

# The label and its date are this close: "Veröffentlicht am Dienstag, 12. März 2019".
LABEL_REACH = 25

# Month names and abbreviations, in the languages of the pages read, by number.
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            "january jan januar jänner janvier enero gennaio januari janeiro января",
            "february feb februar février fevrier febrero febbraio februari fevereiro февраля",
            "march mar märz maerz mars marzo maart março марта",
            "april apr avril abril aprile апреля",
            "may mai mayo maggio mei maio мая",
            "june jun juni juin junio giugno junho июня",
            "july jul juli juillet julio luglio julho июля",
            "august aug août aout agosto augustus августа",
            "september sep sept septembre septiembre settembre setembro сентября",
            "october oct oktober octobre octubre ottobre okt outubro октября",
            "november nov novembre noviembre novembro ноября",
            "december dec dezember décembre decembre diciembre dicembre dez dezembro декабря",
        ),
        start=1,
    )
    for name in names.split()
}
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))

# A year in the text: every date pattern starts or ends with one, and years are rare in text,
# so the patterns run only where one is instead of along the whole text.
# The look-behind comes after the century, not before it: a pattern that starts with a
# literal lets the engine skip to the next "1" or "2" instead of trying every position, three
# times faster, with the same matches.
YEAR_AT = re.compile(r"(?:19|20)(?<!\d..)\d{2}(?!\d)")
# How far before its year a date starts: "12 de septiembre de 2019", "Sept. 12th, 2019".
YEAR_LAST_REACH = 30
# Patterns that start at the year: 2019-03-12, 2019年3月12日, 2019/03/12, 2019.03.12.
YEAR_FIRST: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?P<y>\d{4})-(?P<m>[01]\d)-(?P<d>[0-3]\d)(?!\d)"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号號]"),
    re.compile(r"(?P<y>\d{4})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})(?![\d/])"),
)
# Patterns that end at the year (searched up to it, hence the final \Z): 12.03.2019,
# 12/03/2019, 12. März 2019, 12 de marzo de 2019, March 12, 2019.
YEAR_LAST: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<![\d.])(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>\d{4})\Z"),
    re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})\Z"),
    re.compile(
        rf"(?<!\d)(?P<d>\d{{1,2}})(?:\.|er|st|nd|rd|th)?\s*(?:de\s+)?(?P<name>{MONTH_NAMES})\b\.?,?"
        rf"\s*(?:de\s+)?(?P<y>\d{{4}})\Z",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?P<name>{MONTH_NAMES})\b\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\Z",
        re.IGNORECASE,
    ),
)

# German bylines also shorten the year: "28.01.22"; read as 20xx, never in a longer number run.
SHORT_YEAR = re.compile(r"(?<![\d.])(?P<d>[0-3]?\d)\.(?P<m>[01]?\d)\.(?P<y>\d{2})(?![\d.])")
# What follows the day in a short date: found by its first "." (a literal the engine skips to),
# forty times faster than SHORT_YEAR's own search, which tries every position of the text.
_SHORT_YEAR_TAIL = re.compile(r"\.[01]?\d\.\d{2}(?![\d.])")
# The day before that "." has one digit or two.
_DAY_DIGITS = (2, 1)
# What may stand between a label and its date: words ("am Dienstag,"), not a sentence's end.
LABEL_TAIL = rf"[^\d.!?]{{0,{LABEL_REACH}}}$"
# Labels before the original publication date, in the languages of the pages read.
PUBLISHED_LABEL = re.compile(
    r"(?:published|posted|written|created|date|dated|released|issued|"
    r"veröffentlicht|erschienen|erstellt|datum|stand|"
    r"publié|publie|mis en ligne|publicado|publicación|pubblicato|gepubliceerd|"
    r"发布|發佈|發布|发表|發表|日期|时间|時間)" + LABEL_TAIL,
    re.IGNORECASE,
)
MODIFIED_LABEL = re.compile(
    r"(?:updated|update|modified|last changed|revised|aktualisiert|geändert|zuletzt|"
    r"mis à jour|actualizado|actualización|aggiornato|更新|修改)" + LABEL_TAIL,
    re.IGNORECASE,
)
US_LANG = re.compile(r"^en[-_]us\b", re.IGNORECASE)


def date_at(text: str, start: int, end: int) -> re.Match[str] | None:
    """The date around the year at ``text[start:end]``, if the year is part of one."""
    for pattern in YEAR_FIRST:
        match = pattern.match(text, start)
        if match is not None:
            return match
    for pattern in YEAR_LAST:
        match = pattern.search(text, max(0, start - YEAR_LAST_REACH), end)
        if match is not None:
            return match
    return None


def short_years(text: str) -> Iterator[re.Match[str]]:
    """``SHORT_YEAR.finditer(text)``'s matches, found where the text has a short date's tail."""
    pos = after = 0  # where to look for the next tail; where the last match ended
    while (tail := _SHORT_YEAR_TAIL.search(text, pos)) is not None:
        dot = tail.start()
        pos = dot + 1
        for digits in _DAY_DIGITS:
            # As finditer, a match starts no earlier than the end of the one before.
            match = SHORT_YEAR.match(text, dot - digits) if dot - digits >= after else None
            if match is not None:
                yield match
                pos = after = match.end()
                break


def day_of(match: re.Match[str], month_first: bool) -> datetime | None:
    """The day a date pattern's match names, at midnight in Hong Kong; None if impossible."""
    groups = match.groupdict()
    year = int(groups["y"])
    if year < 100:
        year += 2000
    if groups.get("name"):
        month = MONTHS.get(groups["name"].lower().rstrip("."), 0)
        day = int(groups["d"])
    elif groups.get("a"):
        first, second = int(groups["a"]), int(groups["b"])
        # Day first, as most of the world writes it, unless US English or impossible.
        month, day = (first, second) if month_first or second > 12 else (second, first)
    else:
        month, day = int(groups["m"]), int(groups["d"])
    try:
        return datetime(year, month, day, tzinfo=HONG_KONG)
    except ValueError:
        return None
