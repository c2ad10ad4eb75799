"""Times typed on the command line: dates as whole Hong Kong days, relative spans, the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.dates import HONG_KONG
from pipeline.timespec import parse_moment

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # 10:00 in Hong Kong


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2025-11-20", False, datetime(2025, 11, 20, tzinfo=HONG_KONG)),
        ("2025-11-20", True, datetime(2025, 11, 21, tzinfo=HONG_KONG)),
        ("2027-01-01", True, datetime(2027, 1, 2, tzinfo=HONG_KONG)),  # the future is fine
        ("2025-11-20T09:30", False, datetime(2025, 11, 20, 9, 30, tzinfo=HONG_KONG)),
        ("2025-11-20T01:30+00:00", True, datetime(2025, 11, 20, 1, 30, tzinfo=UTC)),
        ("7d", False, NOW - timedelta(days=7)),
        ("36H", False, NOW - timedelta(hours=36)),
        ("2w", True, NOW - timedelta(weeks=2)),
        ("today", False, datetime(2026, 12, 4, tzinfo=HONG_KONG)),
        ("today", True, datetime(2026, 12, 5, tzinfo=HONG_KONG)),
        ("yesterday", False, datetime(2026, 12, 3, tzinfo=HONG_KONG)),
    ],
)
def test_moments(text: str, end: bool, expected: datetime) -> None:
    assert parse_moment(text, now=NOW, end=end) == expected


@pytest.mark.parametrize("text", ["someday", "2025-13-01", "7y", ""])
def test_what_is_not_a_moment_says_what_is(text: str) -> None:
    with pytest.raises(ValueError, match=r"7d|calendar date"):
        parse_moment(text, now=NOW)


def test_search_takes_the_future_and_one_day_as_a_range(tmp_path: object) -> None:
    from pathlib import Path

    from pipeline.store import db

    url = f"sqlite:///{Path(str(tmp_path)) / 'n.db'}"
    db.upgrade(url)
    runner = CliRunner()
    future = runner.invoke(app, ["search", "--until", "2027-01-01", "--db", url])
    assert future.exit_code == 0, future.output
    bad = runner.invoke(app, ["search", "--since", "someday", "--db", url])
    assert bad.exit_code == 1 and "--since" in bad.stderr and "7d" in bad.stderr
