"""Date parsing: every format sources use, naive → Hong Kong, future and garbage rejected."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from support import REPO

from pipeline.dates import (
    FUTURE_TOLERANCE,
    date_from_url,
    parse_date,
)

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
HKT = timedelta(hours=8)
# A fixed "fetch time" so relative dates and the future check do not depend on today.
NOW = datetime(2025, 11, 4, 12, 0, tzinfo=UTC)


def hk(*args: int) -> datetime:
    return datetime(*args, tzinfo=HONG_KONG)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ISO 8601: date only, naive with milliseconds (SFC issueDate), Z and offsets.
        ("2025-11-03", hk(2025, 11, 3)),
        ("2025-11-03T16:53:29.346", hk(2025, 11, 3, 16, 53, 29, 346000)),
        ("2025-11-03 16:53:29", hk(2025, 11, 3, 16, 53, 29)),
        ("2025-11-03T08:53:29Z", datetime(2025, 11, 3, 8, 53, 29, tzinfo=UTC)),
        (
            "2025-11-03T16:53:29+08:00",
            datetime(2025, 11, 3, 16, 53, 29, tzinfo=timezone(HKT)),
        ),
        (
            "2025-11-03T10:00:00+0530",
            datetime(2025, 11, 3, 10, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        # RFC 822 (RSS pubDate), numeric zone and GMT; -0000 means UTC.
        ("Mon, 03 Nov 2025 00:00:00 +0800", datetime(2025, 11, 3, tzinfo=timezone(HKT))),
        ("Mon, 03 Nov 2025 16:30:00 GMT", datetime(2025, 11, 3, 16, 30, tzinfo=UTC)),
        ("Mon, 03 Nov 2025 16:30:00 -0000", datetime(2025, 11, 3, 16, 30, tzinfo=UTC)),
        # English spellings.
        ("3 Nov 2025", hk(2025, 11, 3)),
        ("November 3, 2025", hk(2025, 11, 3)),
        ("Monday, 3 November 2025", hk(2025, 11, 3)),
        ("3 Nov 2025 4:30pm", hk(2025, 11, 3, 16, 30)),
        # Chinese, with and without a time of day.
        ("2025年11月3日", hk(2025, 11, 3)),
        ("2025年11月3日 下午4:30", hk(2025, 11, 3, 16, 30)),
        ("2025/11/03", hk(2025, 11, 3)),
        # Numeric day-first, as Hong Kong writes it.
        ("03/11/2025", hk(2025, 11, 3)),
        ("03.11.2025", hk(2025, 11, 3)),
        # Chinese with a weekday or a morning time; month and day alone (this year, or last
        # year when that day is still ahead).
        ("2025年11月3日 星期一", hk(2025, 11, 3)),
        ("2025年11月3日 上午10:30", hk(2025, 11, 3, 10, 30)),
        ("11月3日", hk(2025, 11, 3)),
        ("11月3日 下午4:30", hk(2025, 11, 3, 16, 30)),
        ("12月30日", hk(2024, 12, 30)),
        # Numeric, day first with a time, and year first without zero padding.
        ("20.06.2019 11:43", hk(2019, 6, 20, 11, 43)),
        ("01-11-2023 10:29", hk(2023, 11, 1, 10, 29)),
        ("11/01/2023 12:43:42", hk(2023, 1, 11, 12, 43, 42)),
        ("10.12.2022, 07:00:03", hk(2022, 12, 10, 7, 0, 3)),
        ("2022-5-3T23:57:00", hk(2022, 5, 3, 23, 57)),
        ("2022-05-11T4:10:00", hk(2022, 5, 11, 4, 10)),
        ("2023-1-26", hk(2023, 1, 26)),
        # No such day read day first: dateparser reads it month first.
        ("06/13/2019", hk(2019, 6, 13)),
        # English spellings only dateparser reads.
        ("Nov. 3, 2025, 4:30 p.m.", hk(2025, 11, 3, 16, 30)),
    ],
)
def test_formats(text: str, expected: datetime) -> None:
    parsed = parse_date(text, now=NOW)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == expected.utcoffset()


def test_offset_given_by_the_text_is_kept_not_converted() -> None:
    parsed = parse_date("2025-11-03T10:00:00-05:00", now=NOW)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=-5)
    assert parsed.hour == 10


def test_naive_times_are_read_in_hong_kong() -> None:
    parsed = parse_date("2025-11-03T16:53:29", now=NOW)
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == HKT
    assert parsed.astimezone(UTC) == datetime(2025, 11, 3, 8, 53, 29, tzinfo=UTC)


def test_naive_times_follow_the_zone_asked_for() -> None:
    parsed = parse_date("2025-07-03 10:00", now=NOW, tz="Europe/London")
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=1)  # British Summer Time


def test_date_only_values_are_midnight_in_hong_kong() -> None:
    for text in ("2025-11-03", "3 Nov 2025", "2025年11月3日"):
        parsed = parse_date(text, now=NOW)
        assert parsed is not None
        assert (parsed.hour, parsed.minute, parsed.utcoffset()) == (0, 0, HKT), text


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("2 hours ago", timedelta(hours=2)),
        ("3小時前", timedelta(hours=3)),
        ("3小时前", timedelta(hours=3)),
        ("yesterday", timedelta(days=1)),
        ("2 days ago", timedelta(days=2)),
        ("昨天", timedelta(days=1)),
        ("3天前", timedelta(days=3)),
    ],
)
def test_relative_dates_count_back_from_now(text: str, ago: timedelta) -> None:
    parsed = parse_date(text, now=NOW)
    assert parsed is not None
    assert abs(parsed - (NOW - ago)) < timedelta(minutes=1)


def test_dates_later_than_now_plus_tolerance_are_rejected() -> None:
    far = NOW + FUTURE_TOLERANCE + timedelta(hours=1)
    assert parse_date(far.isoformat(), now=NOW) is None
    assert parse_date("2031-01-01", now=NOW) is None
    assert parse_date("Mon, 01 Jan 2035 00:00:00 GMT", now=NOW) is None


def test_dates_just_ahead_of_now_are_accepted() -> None:
    # A few hours ahead is clock skew or a publisher's zone read as Hong Kong, not a bad date.
    near = NOW + timedelta(hours=3)
    assert parse_date(near.isoformat(), now=NOW) == near


def test_default_now_is_the_current_time() -> None:
    tomorrow_plus = datetime.now(UTC) + FUTURE_TOLERANCE + timedelta(days=1)
    assert parse_date(tomorrow_plus.isoformat()) is None
    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert parse_date(yesterday.isoformat()) == yesterday


def test_naive_now_is_read_in_the_zone() -> None:
    # 20:00 naive "now" in Hong Kong is 12:00 UTC: a 19:00 HKT date is not in the future.
    assert parse_date("2025-11-04T19:00:00", now=datetime(2025, 11, 4, 20, 0)) is not None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "garbage",
        "not a date at all",
        "2025-13-45",
        "99999999999999999999",
        "<script>alert(1)</script>",
        "----",
        "0001-01-01T00:00:00",  # CMS placeholder for "no date"
        "1988",  # a year alone names no day (dateparser would add today's month and day)
        " 2024 ",
        "The Securities and Futures Commission reprimanded and fined a licensed corporation "
        "for failures in its anti-money laundering systems over several years of business.",
    ],
)
def test_garbage_returns_none(text: str) -> None:
    assert parse_date(text, now=NOW) is None


def test_non_strings_and_unknown_zones_return_none() -> None:
    assert parse_date(None, now=NOW) is None  # type: ignore[arg-type]
    assert parse_date(20251103, now=NOW) is None  # type: ignore[arg-type]
    assert parse_date("2025-11-03", now=NOW, tz="Mars/Olympus_Mons") is None


def test_epoch_seconds_and_milliseconds() -> None:
    expected = datetime(2025, 11, 3, 8, 0, tzinfo=UTC)
    assert parse_date("1762156800", now=NOW) == expected
    assert parse_date("1762156800000", now=NOW) == expected


def test_a_time_with_an_offset_keeps_its_calendar_day() -> None:
    parsed = parse_date("2025-11-03T23:30:00+08:00")
    assert parsed is not None and parsed.date() == date(2025, 11, 3)
    assert parse_date("nonsense") is None


def test_numeric_dates_read_day_first_as_dateparser_reads_them() -> None:
    generator = random.Random(11)
    for _ in range(300):
        day, month = generator.randint(1, 28), generator.randint(1, 12)
        year, hour, minute = generator.randint(1995, 2024), generator.randint(0, 23), 59
        separator = generator.choice("-/.")
        padded = generator.choice(["{:02d}", "{}"])
        text = separator.join([padded.format(day), padded.format(month), str(year)])
        if generator.random() < 0.5:
            text += f"{generator.choice([' ', ', '])}{hour}:{minute}"
            expected = hk(year, month, day, hour, minute)
        else:
            expected = hk(year, month, day)
        assert parse_date(text, now=NOW) == expected, text


def test_a_zone_only_dateparser_reads_keeps_its_offset_and_calendar_day() -> None:
    # Read into Hong Kong time, 23:28 CET would be the next morning: the page's day is kept.
    for text, hours, day in [
        ("Tue Jan 28 23:28:56 CET 2020", 1, date(2020, 1, 28)),
        ("2022-1-26T23:32:06+02:00", 2, date(2022, 1, 26)),
        ("2022-05-05T22:12:00 UTC", 0, date(2022, 5, 5)),
    ]:
        parsed = parse_date(text, now=NOW)
        assert parsed is not None, text
        assert parsed.utcoffset() == timedelta(hours=hours), text
        assert parsed.date() == day, text


def test_html_entities_left_in_a_value_are_read_as_their_characters() -> None:
    # Copied out of HTML into a script or an attribute: "+" written as an entity.
    parsed = parse_date("2023-11-02T10:14:29&#x2B;05:30")
    offset = timezone(timedelta(hours=5, minutes=30))
    assert parsed == datetime(2023, 11, 2, 10, 14, 29, tzinfo=offset)
    assert parsed is not None and parsed.utcoffset() == offset.utcoffset(None)


def test_fast_paths_do_not_import_dateparser() -> None:
    # dateparser takes a tenth of a second to import and warm; common formats must not pay it.
    code = (
        "import sys; from pipeline.dates import parse_date;"
        "values = ['2025-11-03', '2025-11-03T16:53:29.346', 'Mon, 03 Nov 2025 00:00:00 +0800',"
        " '3 Nov 2025', 'November 3, 2025', '2025年11月3日', '2025-11-03T10:14:29&#x2B;05:30',"
        " '20.06.2019 11:43', '01-11-2023', '11/01/2023 12:43:42', '2022-5-3T23:57:00'];"
        "assert all(parse_date(v) for v in values);"
        "print('dateparser' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.tageszeitung.it/2025/04/01/unermuedlicher-einsatz-2/", hk(2025, 4, 1)),
        ("https://fintechnews.hk/2025/11/04/seed-article/?utm_source=rss", hk(2025, 11, 4)),
        (
            "https://www.hkma.gov.hk/eng/news-and-media/press-releases/2025/11/20251103-4/",
            hk(2025, 11, 3),
        ),
        ("https://example.com/news/2025-11-03-hkma-stablecoin-licences", hk(2025, 11, 3)),
        ("https://example.com/news/20251103.html", hk(2025, 11, 3)),
    ],
)
def test_date_from_url_paths(url: str, expected: datetime) -> None:
    found = date_from_url(url, now=NOW)
    assert found == expected
    assert found is not None and found.utcoffset() == HKT


@pytest.mark.parametrize(
    "url",
    [
        "https://www.info.gov.hk/gia/general/202511/19/P2025111900581.htm",  # an id, not a day
        "https://www.rbb24.de/kultur/beitrag/2024/04/theater.html",  # a month, not a day
        "https://example.com/2025/13/45/odd",
        "https://example.com/2031/01/01/ahead",  # later than now
        "https://example.com/article/12345678/",
        "https://example.com/?date=2025-11-03",  # the query is not the path
    ],
)
def test_date_from_url_refuses_what_is_not_a_past_day(url: str) -> None:
    assert date_from_url(url, now=NOW) is None
