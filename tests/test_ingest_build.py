"""Building an article from a fetched page fills what the page lacks from the lead: a feed's
time beats the day alone that a page shows in its text or URL, never a page's own time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pipeline.dates import HONG_KONG
from pipeline.ingest.build import build_article
from pipeline.ingest.records import Action, Fetched, Planned
from pipeline.models import Lead, Page, Source

SOURCE = Source(id="gov", name="Gov", kind="rss", urls=("https://gov.example/rss.xml",))
FETCHED_AT = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)
BODY = "<p>" + "The Government and the SFC published a consultation on the new regime. " * 4


def _build(page_head: str, page_date_line: str, lead_time: datetime | None) -> datetime | None:
    url = "https://gov.example/general/202511/19/P001.htm"
    html = (
        f"<html><head><title>Consultation</title>{page_head}</head><body><h1>Consultation</h1>"
        f"<p>{page_date_line}</p>{BODY}</p></body></html>"
    )
    page = Page(url, url, 200, {"content-type": "text/html"}, html.encode(), FETCHED_AT)
    lead = Lead(source_id="gov", url=url, title="Consultation", published_at=lead_time)
    planned = Planned(SOURCE, lead, key=url, action=Action.fetch)
    return build_article(Fetched(planned, page=page)).published_at


def test_the_feed_time_beats_a_day_shown_in_the_page() -> None:
    feed_time = datetime(2025, 11, 19, 16, 30, tzinfo=timezone(timedelta(hours=8)))
    assert _build("", "Wednesday, 19 November 2025", feed_time) == feed_time


def test_the_shown_day_stands_when_the_feed_names_another() -> None:
    feed_time = datetime(2025, 11, 21, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    assert _build("", "Wednesday, 19 November 2025", feed_time) == datetime(
        2025, 11, 19, tzinfo=HONG_KONG
    )


def test_the_page_s_own_time_beats_the_feed() -> None:
    meta = '<meta property="article:published_time" content="2025-11-19T10:15:00+08:00">'
    feed_time = datetime(2025, 11, 19, 16, 30, tzinfo=timezone(timedelta(hours=8)))
    found = _build(meta, "", feed_time)
    assert found == datetime(2025, 11, 19, 10, 15, tzinfo=timezone(timedelta(hours=8)))


def test_the_feed_time_fills_a_page_without_a_date() -> None:
    feed_time = datetime(2025, 11, 19, 16, 30, tzinfo=timezone(timedelta(hours=8)))
    assert _build("", "", feed_time) == feed_time
    assert _build("", "", None) is None
