"""Times a person types on the command line: ``2025-11-20``, ``2025-11-20T09:30``, ``7d``,
``36h``, ``today``, ``yesterday``.

Unlike dates read from sources (``pipeline.dates``), a date given by a person may lie in the
future (``--until 2027-01-01``), and a bare date stands for a whole Hong Kong day: as the start
of a range it is that day's midnight, as the end (``end=True``) the next day's, so
``--since 2025-11-20 --until 2025-11-20`` is that one day. A time without a zone is Hong Kong
time. No IO.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from pipeline.dates import HONG_KONG

# "7d", "36h", "90m", "2w": that long before now.
_RELATIVE = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
EXAMPLES = "YYYY-MM-DD, YYYY-MM-DDTHH:MM, 7d, 36h, today"


def parse_moment(text: str, *, now: datetime, end: bool = False) -> datetime:
    """The moment ``text`` names, aware; ``ValueError`` saying what is accepted otherwise.

    With ``end``, a bare date (or ``today``/``yesterday``) gives the midnight after that day.
    """
    value = text.strip().lower()
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = int(relative[1]), relative[2].lower()
        return now - timedelta(**{_UNITS[unit]: amount})
    local_now = now.astimezone(HONG_KONG)
    if value in ("today", "yesterday"):
        day = local_now.date() - timedelta(days=1 if value == "yesterday" else 0)
        return _day_bound(day, end)
    if _DATE.match(value):
        try:
            return _day_bound(date.fromisoformat(value), end)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a calendar date ({exc})") from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"cannot read {text!r} as a time (try {EXAMPLES})") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=HONG_KONG)


def _day_bound(day: date, end: bool) -> datetime:
    start = datetime.combine(day, time(0), tzinfo=HONG_KONG)
    return start + timedelta(days=1) if end else start
