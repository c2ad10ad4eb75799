"""Every date string a source gives → an aware datetime, or None when it is not a usable date.

Fast paths (ISO 8601, RFC 822, epoch numbers, numeric dates day first or year first,
``2025年11月3日``, a few English day-month-year spellings) handle nearly every real value;
``dateparser`` is imported lazily and only for the rest (relative dates, unusual spellings, zone
names such as ``CEST``), because importing and warming it costs a tenth of a second and each
call a millisecond or more.

Naive values are read in the source's zone (Hong Kong by default), date-only values become
midnight there, and the offset a text gave is kept as it is, also when only dateparser reads
it: the store converts to UTC.
"""

from __future__ import annotations

import email.utils
import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.settings import HONG_KONG_TZ

DEFAULT_TZ = HONG_KONG_TZ
# The zone naive times are read in, as an object for the modules that need one.
HONG_KONG = ZoneInfo(HONG_KONG_TZ)

# A date this far past the fetch time is still accepted. Naive timestamps are read as Hong Kong
# time, so a publisher that meant a western zone (up to UTC-12) looks up to 20 hours ahead, and
# servers' clocks drift; a day covers both while a script literal or typo years ahead is refused.
FUTURE_TOLERANCE = timedelta(days=1)

# Placeholders such as 0001-01-01 or the Unix epoch mean "no date"; nothing this pipeline reads
# was published before this year.
MIN_YEAR = 1971

# Longer strings are sentences, not dates: dateparser gets slow on them and finds dates in prose.
MAX_DATE_TEXT = 100

# Languages dateparser may try; the HK Traditional Chinese locale adds spellings such as 昨日
# that plain ``zh`` lacks. Trying every language is slow and finds dates in ordinary words.
DATEPARSER_LOCALES: tuple[str, ...] = ("en", "zh", "zh-Hant-HK")

# HK publishers write day before month in numeric dates (03/11/2025 is 3 November).
DATEPARSER_DATE_ORDER = "DMY"

_ISO_HINT = re.compile(r"\d{4}-?\d{2}-?\d{2}")
# Numeric dates, year first ("2025/11/3", "2022-5-3T23:57:00") or day first ("20.06.2019 11:43",
# "01-11-2023", "11/01/2023 12:43:42"), read as dateparser reads them (day before month) in a
# fiftieth of its time. A day-first value that names no valid day is handed on to dateparser,
# which reads it month first ("06/13/2019" is 13 June); a year-first one is no date.
_NUMERIC_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2}))?"
_NUMERIC_YMD = re.compile(rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}})(?:[ T]{_NUMERIC_TIME})?")
_NUMERIC_DMY = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}})(?:,? {_NUMERIC_TIME})?")
_CHINESE_YMD = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]"
    r"(?:\D{0,6}?(\d{1,2})[:：時时](\d{2}))?"
)
_CHINESE_MD = re.compile(
    r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號](?:\D{0,6}?(\d{1,2})[:：時时](\d{2})分?)?"
)
# A year in a text: a date there is absolute, not "3 hours ago".
_YEAR = re.compile(r"\d{4}")
_CHINESE_PM = ("下午", "晚上", "PM", "pm")
_EPOCH = re.compile(r"\d{10}(?:\d{3})?")
_RFC822_HINT = re.compile(r"\d{1,2} [A-Za-z]{3} \d{4} \d{1,2}:\d{2}")
_UTC_ZONE = re.compile(r"(?:-0000|\bZ)$")
# English spellings common enough on news pages to deserve a fast path before dateparser.
_ENGLISH_FORMATS: tuple[str, ...] = (
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d %B, %Y",
)
# Days in URL paths, most explicit first. A bare eight-digit run counts only as a whole path
# token, so that article ids (``P2025111900581``) are not read as dates.
_URL_DATES: tuple[re.Pattern[str], ...] = (
    re.compile(r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?:/|$)"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})[-_](0[1-9]|1[0-2])[-_](0[1-9]|[12]\d|3[01])(?!\d)"),
    re.compile(r"(?:^|[/_-])((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=$|[/_.-])"),
)
_WEEKDAY = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)
_ENGLISH_HINT = re.compile(r"[A-Za-z]{3,9}\.?,? \d|\d{1,2} [A-Za-z]{3}")


def local_time(dt: datetime | None, *, tz: str = DEFAULT_TZ) -> datetime | None:
    """``dt`` in ``tz`` (Hong Kong by default): how readers here expect to see dates."""
    if dt is None:
        return None
    return _aware(dt, ZoneInfo("UTC")).astimezone(_zone(tz))


def parse_date(text: str, *, now: datetime | None = None, tz: str = DEFAULT_TZ) -> datetime | None:
    """Parse a date string into an aware datetime; None for garbage, never raises."""
    try:
        return _parse(text, now=now, tz=tz)
    except (ValueError, TypeError, OverflowError, ZoneInfoNotFoundError, KeyError):
        return None


def date_from_url(
    url: str, *, now: datetime | None = None, tz: str = DEFAULT_TZ
) -> datetime | None:
    """The day a URL's path names (``/2025/11/04/``, ``2025-11-04``, ``/20251104-3/``), at
    midnight in ``tz``; None when it names none or an impossible or future day."""
    path = urlsplit(url).path if "://" in url else url
    for pattern in _URL_DATES:
        match = pattern.search(path)
        if match is None:
            continue
        year, month, day = (int(part) for part in match.groups())
        try:
            found = datetime(year, month, day, tzinfo=_zone(tz))
        except (ValueError, ZoneInfoNotFoundError):
            continue
        if _plausible(found, now, _zone(tz)):
            return found
    return None


def _parse(text: str, *, now: datetime | None, tz: str) -> datetime | None:
    if not isinstance(text, str):
        return None
    # Values copied out of HTML keep its entities ("2023-11-02T10:14:29&#x2B;05:30").
    value = " ".join((html.unescape(text) if "&" in text else text).split())
    # A year alone names no day; dateparser would fill in today's month and day.
    if not value or len(value) > MAX_DATE_TEXT or (len(value) == 4 and value.isdigit()):
        return None
    zone = _zone(tz)
    found = _fast_path(value)
    if found is None and "月" in value:
        found = _chinese_month_day(value, now, zone)
    if found is None:
        found = _with_dateparser(value, zone, tz, now)
    if found is None:
        return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=zone)
    return found if _plausible(found, now, zone) else None


def _fast_path(value: str) -> datetime | None:
    """Formats parsed without dateparser; None hands the value on."""
    if _ISO_HINT.match(value):
        iso = _iso(value)
        if iso is not None:
            return iso
    if _EPOCH.fullmatch(value):
        seconds = int(value) / (1000 if len(value) == 13 else 1)
        return datetime.fromtimestamp(seconds, tz=UTC)
    if _RFC822_HINT.search(value):
        rfc = _rfc822(value)
        if rfc is not None:
            return rfc
    if value[:1].isdigit():
        numeric = _numeric(value)
        if numeric is not None:
            return numeric
    if "年" in value:
        return _chinese(value)
    if _ENGLISH_HINT.search(value):
        return _english(value)
    return None


def _numeric(value: str) -> datetime | None:
    """A numeric date, year first or day first, with an optional time; None to hand a day-first
    value that names no valid day on to dateparser. A year-first one raises ``ValueError``
    then: no page writes the year, the day and the month in that order."""
    match = _NUMERIC_YMD.fullmatch(value)
    if match:
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        return datetime(year, month, day, hour, minute, second)
    match = _NUMERIC_DMY.fullmatch(value)
    if match is None:
        return None
    day, month, year = int(match[1]), int(match[3]), int(match[4])
    hour, minute, second = (int(g) if g else 0 for g in match.groups()[4:])
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _iso(value: str) -> datetime | None:
    candidate = value.replace(" ", "T", 1) if " " in value[:11] else value
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _rfc822(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" (and "Z") mean UTC with no local zone known; the stdlib returns them naive.
    if parsed.tzinfo is None and _UTC_ZONE.search(value):
        return parsed.replace(tzinfo=UTC)
    return parsed


def _chinese(value: str) -> datetime | None:
    match = _CHINESE_YMD.search(value)
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    hour = int(match[4]) if match[4] else 0
    minute = int(match[5]) if match[5] else 0
    if match[4] and hour < 12 and any(mark in value for mark in _CHINESE_PM):
        hour += 12
    return datetime(year, month, day, hour, minute)


def _chinese_month_day(value: str, now: datetime | None, zone: tzinfo) -> datetime | None:
    """``11月3日`` (no year, as HK papers date the day's stories): the latest such day by now."""
    match = _CHINESE_MD.fullmatch(value)
    if match is None:
        return None
    month, day = int(match[1]), int(match[2])
    hour = int(match[3]) if match[3] else 0
    minute = int(match[4]) if match[4] else 0
    if match[3] and hour < 12 and any(mark in value for mark in _CHINESE_PM):
        hour += 12
    reference = _aware(now, zone) if now is not None else datetime.now(zone)
    reference = reference.astimezone(zone)
    found = datetime(reference.year, month, day, hour, minute, tzinfo=zone)
    if found > reference + FUTURE_TOLERANCE:
        found = found.replace(year=reference.year - 1)
    return found


def _english(value: str) -> datetime | None:
    # Weekday names ("Monday, 3 November 2025") carry nothing the date does not.
    trimmed = _WEEKDAY.sub("", value).replace(".", "")
    for fmt in _ENGLISH_FORMATS:
        try:
            return datetime.strptime(trimmed, fmt)
        except ValueError:
            continue
    return None


def _with_dateparser(value: str, zone: tzinfo, tz: str, now: datetime | None) -> datetime | None:
    if not any(ch.isalnum() for ch in value):
        return None
    base = _aware(now, zone) if now is not None else datetime.now(zone)
    settings: dict[str, Any] = {
        "TIMEZONE": tz,
        "RETURN_AS_TIMEZONE_AWARE": True,
        # Relative dates ("2 hours ago") count back from the fetch time, read in the source zone.
        "RELATIVE_BASE": base.astimezone(zone).replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": DATEPARSER_DATE_ORDER,
    }
    parser_cls, pop_zone = _dateparser()
    try:
        # dateparser converts a time in a zone the text names ("CET", "+02:00") to TIMEZONE,
        # which can move it to another day ("23:30 CET" is the next morning in Hong Kong): the
        # zone is taken off first and given back to the time read, on its own day.
        rest, stated = pop_zone(value)
        offset = stated.utcoffset(None) if stated is not None and _YEAR.search(rest) else None
        parser = parser_cls(locales=list(DATEPARSER_LOCALES), settings=settings)
        found = parser.get_date_data(rest if offset is not None else value).date_obj
    except Exception:  # a slip of the third-party parser on odd text means "no date"
        return None
    if not isinstance(found, datetime):
        return None
    return found.replace(tzinfo=timezone(offset)) if offset is not None else found


@lru_cache(maxsize=1)
def _dateparser() -> tuple[Any, Callable[[str], tuple[str, tzinfo | None]]]:
    """dateparser's parser and its reader of a zone named in a text ("CEST", "UTC+02:00")."""
    # Imported here so that modules using only the fast paths never pay dateparser's start-up.
    from dateparser import DateDataParser
    from dateparser.timezone_parser import pop_tz_offset_from_string

    return DateDataParser, pop_tz_offset_from_string


@lru_cache(maxsize=32)
def _zone(tz: str) -> tzinfo:
    return ZoneInfo(tz)


def _aware(dt: datetime, zone: tzinfo) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=zone)


def _plausible(found: datetime, now: datetime | None, zone: tzinfo) -> bool:
    if found.year < MIN_YEAR:
        return False
    reference = _aware(now, zone) if now is not None else datetime.now(UTC)
    return found <= reference + FUTURE_TOLERANCE
