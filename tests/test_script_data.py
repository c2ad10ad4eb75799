"""The publication date in a page's script data (pipeline/extract/script_data.py): read last,
when neither metadata, the URL nor the page's text dates the page, and only when every
publication key names the same day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from selectolax.lexbor import LexborHTMLParser

from pipeline.extract import extract_article, find_published
from pipeline.extract.script_data import MAX_SCRIPT_CHARS, script_data_date

NOW = datetime(2025, 11, 5, 9, 0, tzinfo=UTC)
URL = "https://news.example/story/meet-the-swede"
BODY = "<h1>Meet the Swede</h1>" + "<p>" + "He sat for the portrait in the spring. " * 8 + "</p>"
PARIS = timezone(timedelta(hours=2))


def _page(script: str, head: str = "") -> str:
    return (
        f"<html><head><title>Meet the Swede</title>{head}</head>"
        f"<body><article>{BODY}</article><script>{script}</script></body></html>"
    )


def _tree(*scripts: str) -> LexborHTMLParser:
    return LexborHTMLParser("".join(f"<script>{script}</script>" for script in scripts))


def test_a_page_dated_only_by_its_script_state_takes_that_date() -> None:
    state = (
        'self.__next_f.push({"props": {"article": {"title": "Meet the Swede",'
        ' "publishedAt": "2020-04-28T08:00:00+02:00", "updatedAt": "2020-05-01T10:00:00Z"}}})'
    )
    page = _page(state)
    article = extract_article(page, URL, fetched_at=NOW)
    assert article.published_at == datetime(2020, 4, 28, 8, 0, tzinfo=PARIS)
    assert article.published_at is not None and article.published_at.utcoffset() == timedelta(
        hours=2
    )
    alone = find_published(page, URL, fetched_at=NOW)
    assert alone is not None and alone.isoformat() == article.published_at.isoformat()


def test_keys_escaped_inside_a_javascript_string_are_read() -> None:
    state = 'window.__STATE__ = JSON.parse("{\\"published_at\\":\\"2019-03-02T06:22:28+01:00\\"}")'
    found = script_data_date(_tree(state), now=NOW)
    assert found == datetime(2019, 3, 2, 6, 22, 28, tzinfo=timezone(timedelta(hours=1)))


def test_keys_that_disagree_on_the_day_date_nothing() -> None:
    # A state listing other stories carries their dates too: which one is the article's?
    stories = '{"items": [{"publishedDate": "2021-10-29"}, {"publishedDate": "2021-10-28"}]}'
    assert script_data_date(_tree(stories), now=NOW) is None
    # The same day over and over (the article and its own teaser) is one date.
    same = '{"datePublished": "2021-10-29T09:00:00Z", "a": {"datePublished": "2021-10-29"}}'
    assert script_data_date(_tree(same), now=NOW) == datetime(2021, 10, 29, 9, tzinfo=UTC)


def test_creation_and_update_times_are_not_publication_dates() -> None:
    # Users, comments and images are created and updated too.
    state = (
        '{"user": {"createdAt": "2014-01-01"}, "updated_at": "2022-01-10", "date": "2019-01-01"}'
    )
    assert script_data_date(_tree(state), now=NOW) is None
    assert extract_article(_page(state), URL, fetched_at=NOW).published_at is None


def test_a_date_the_metadata_gives_wins_over_the_script_state() -> None:
    head = '<meta property="article:published_time" content="2020-04-27T20:00:00+02:00">'
    article = extract_article(_page('{"publishedAt": "2020-04-28"}', head), URL, fetched_at=NOW)
    assert article.published_at == datetime(2020, 4, 27, 20, 0, tzinfo=PARIS)


def test_a_future_or_impossible_day_is_passed_over() -> None:
    assert script_data_date(_tree('{"publishedAt": "2031-01-01"}'), now=NOW) is None
    assert script_data_date(_tree('{"publishedAt": "2020-13-45"}'), now=NOW) is None


def test_script_text_past_the_bound_is_not_read() -> None:
    filler = "x" * MAX_SCRIPT_CHARS
    late = _tree(filler, '{"publishedAt": "2020-04-28"}')
    assert script_data_date(late, now=NOW) is None
    early = _tree('{"publishedAt": "2020-04-28"}', filler)
    found = script_data_date(early, now=NOW)
    assert found is not None and found.date().isoformat() == "2020-04-28"
